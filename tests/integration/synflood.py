#!/usr/bin/env python3
"""Bounded SYN flood from spoofed ports of the namespace's own address.

usage: synflood.py IFACE DST_MAC SRC_IP DST_IP DST_PORT COUNT SEED
Sends COUNT SYNs (random source ports and sequence numbers, seeded) through
a raw socket on IFACE and exits. Traffic stays on the test's TAP.
"""
import random
import socket
import struct

from pkt import csum, mac
import sys




def main():
    iface, dmac, src, dst, dport, count, seed = sys.argv[1:8]
    rng = random.Random(int(seed))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    smac = s.getsockname()[4]
    dmac_b = mac(dmac)
    saddr, daddr = socket.inet_aton(src), socket.inet_aton(dst)
    for i in range(int(count)):
        sport = rng.randrange(1024, 65536)
        seq = rng.randrange(0, 1 << 32)
        opts = struct.pack("!BBH", 2, 4, 1460)
        tcp = struct.pack("!HHIIBBHHH", sport, int(dport), seq, 0, (5 + 1) << 4, 0x02, 64240, 0, 0) + opts
        pseudo = saddr + daddr + struct.pack("!BBH", 0, 6, len(tcp))
        tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), i & 0xFFFF, 0, 64, 6, 0, saddr, daddr)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        s.send(dmac_b + smac + b"\x08\x00" + ip + tcp)
    print("sent", count)


if __name__ == "__main__":
    main()
