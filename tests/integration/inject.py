#!/usr/bin/env python3
"""Send hand-made malformed frames at the dataplane through a raw socket.

usage: inject.py IFACE DST_MAC SRC_IP DST_IP
Prints one line per case: "<name> <expected counter>". Run inside the test's
network namespace; nothing leaves it.
"""
import socket
import struct

from pkt import csum, mac
import sys






def ipv4(src, dst, proto, payload, ihl=5, ver=4, flags_frag=0, tot=None, bad_csum=False, opts=b""):
    tl = tot if tot is not None else ihl * 4 + len(payload)
    h = struct.pack("!BBHHHBBH4s4s", (ver << 4) | ihl, 0, tl, 0x1234, flags_frag, 64, proto, 0,
                    socket.inet_aton(src), socket.inet_aton(dst)) + opts
    c = csum(h)
    if bad_csum:
        c ^= 0x5555
    return h[:10] + struct.pack("!H", c) + h[12:] + payload


def icmp_echo(ident=7, seq=1, data=b"warpgate", bad=False):
    h = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + data
    c = csum(h)
    if bad:
        c ^= 0x00FF
    return h[:2] + struct.pack("!H", c) + h[4:]


def main():
    iface, dmac, src, dst = sys.argv[1:5]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    smac = s.getsockname()[4]
    eth = lambda t, d=mac(dmac): d + smac + struct.pack("!H", t)
    arp_ok = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, smac, socket.inet_aton(src),
                         b"\0" * 6, socket.inet_aton(dst))
    cases = [
        # (runts under 14 bytes cannot leave an AF_PACKET socket; the unit
        # tests and the fuzzer cover them)
        ("header_only", "ip_bad_hlen", eth(0x0800)),
        ("src_mac_multicast", "eth_bad_src", mac(dmac) + b"\x01\x00\x5e\x00\x00\x01" + b"\x08\x00"
         + ipv4(src, dst, 1, icmp_echo())),
        ("arp_claims_our_ip", "arp_conflict", eth(0x0806) + struct.pack(
            "!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 2, smac, socket.inet_aton(dst),
            mac(dmac), socket.inet_aton(dst))),
        ("vlan_tagged", "eth_vlan", eth(0x8100) + b"\0\x01\x08\x00" + b"\0" * 40),
        ("ipv6", "eth_unknown_type", eth(0x86DD) + b"\x60" + b"\0" * 45),
        ("arp_truncated", "arp_bad", eth(0x0806) + arp_ok[:20]),
        ("arp_bad_hlen", "arp_bad", eth(0x0806) + arp_ok[:4] + b"\x07" + arp_ok[5:]),
        ("arp_bad_op", "arp_bad", eth(0x0806) + arp_ok[:6] + b"\0\x09" + arp_ok[8:]),
        ("ip_truncated_header", "ip_bad_hlen", eth(0x0800) + ipv4(src, dst, 1, icmp_echo())[:12]),
        ("ip_bad_version", "ip_bad_version", eth(0x0800) + ipv4(src, dst, 1, icmp_echo(), ver=6)),
        ("ip_ihl_too_small", "ip_bad_hlen", eth(0x0800) + ipv4(src, dst, 1, icmp_echo(), ihl=4)),
        ("ip_total_len_beyond_frame", "ip_bad_len",
         eth(0x0800) + ipv4(src, dst, 1, icmp_echo(), tot=1400)),
        ("ip_bad_checksum", "ip_bad_csum", eth(0x0800) + ipv4(src, dst, 1, icmp_echo(), bad_csum=True)),
        ("ip_fragment", "ip_frag_drop", eth(0x0800) + ipv4(src, dst, 1, icmp_echo(), flags_frag=0x2000)),
        ("ip_not_us", "ip_not_us", eth(0x0800) + ipv4(src, "198.18.7.99", 1, icmp_echo())),
        ("ip_src_multicast", "ip_bad_src", eth(0x0800) + ipv4("224.0.0.1", dst, 1, icmp_echo())),
        ("ip_unknown_proto", "ip_unknown_proto", eth(0x0800) + ipv4(src, dst, 47, b"\0" * 8)),
        ("icmp_truncated", "icmp_bad_len", eth(0x0800) + ipv4(src, dst, 1, b"\x08\0\0")),
        ("icmp_bad_checksum", "icmp_bad_csum", eth(0x0800) + ipv4(src, dst, 1, icmp_echo(bad=True))),
    ]
    for name, counter, frame in cases:
        s.send(frame)
        print(name, counter)


if __name__ == "__main__":
    main()
