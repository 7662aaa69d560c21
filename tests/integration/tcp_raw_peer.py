#!/usr/bin/env python3
"""A hand-driven TCP peer on a raw socket, for segments no kernel would send.

usage: tcp_raw_peer.py IFACE DST_MAC SRC_IP DST_IP
Runs scripted cases against the dataplane's echo service (port 7) and
prints "ok <case>" per case; exits non-zero at the first deviation. The
namespace must drop the kernel's own RSTs for the raw source ports.
"""
import os
import random
import select
import socket
import struct

from pkt import csum, mac
import sys
import time

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10




class Peer:
    def __init__(self, iface, dmac, src, dst, sport):
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
        self.s.bind((iface, 0))
        self.smac = self.s.getsockname()[4]
        self.dmac = mac(dmac)
        self.src, self.dst = socket.inet_aton(src), socket.inet_aton(dst)
        self.sport, self.dport = sport, 7
        self.seq = random.randrange(1 << 32)
        self.ack = 0

    def send(self, flags, seq=None, ack=None, data=b"", win=65535, doff=None, opts=b"",
             bad_csum=False):
        seq = self.seq if seq is None else seq
        ack = self.ack if ack is None else ack
        hl = 20 + len(opts)
        doff = hl // 4 if doff is None else doff
        tcp = struct.pack("!HHIIBBHHH", self.sport, self.dport, seq & 0xFFFFFFFF,
                          ack & 0xFFFFFFFF, doff << 4, flags, win, 0, 0) + opts + data
        c = csum(self.src + self.dst + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)
        if bad_csum:
            c ^= 0x1111
        tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0,
                         self.src, self.dst)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        self.s.send(self.dmac + self.smac + b"\x08\x00" + ip + tcp)

    def recv(self, timeout=1.0):
        """Next TCP segment for us: (flags, seq, ack, data) or None."""
        end = time.time() + timeout
        while time.time() < end:
            r, _, _ = select.select([self.s], [], [], max(0, end - time.time()))
            if not r:
                return None
            f = self.s.recv(65535)
            if len(f) < 54 or f[23] != 6 or f[26:30] != self.dst:
                continue
            ihl = (f[14] & 0xF) * 4
            t = f[14 + ihl:]
            sport, dport, seq, ack, off, flags = struct.unpack("!HHIIBB", t[:14])
            if dport != self.sport:
                continue
            tot = struct.unpack("!H", f[16:18])[0]
            data = t[(off >> 4) * 4:tot - ihl]
            return flags, seq, ack, data
        return None

    def expect(self, what, pred, timeout=1.0):
        end = time.time() + timeout
        while time.time() < end:
            seg = self.recv(end - time.time())
            if seg is None:
                break
            if pred(*seg):
                return seg
        raise SystemExit("FAIL %s: no matching segment" % what)

    def nothing(self, what, timeout=0.5):
        seg = self.recv(timeout)
        if seg is not None:
            raise SystemExit("FAIL %s: unexpected segment flags=%#x" % (what, seg[0]))

    def connect(self):
        self.send(SYN, opts=struct.pack("!BBH", 2, 4, 1460))
        fl, seq, ack, _ = self.expect("syn-ack", lambda f, s, a, d: f == SYN | ACK)
        self.seq += 1
        self.ack = seq + 1
        self.send(ACK)

    def echo(self, payload, what):
        self.send(PSH | ACK, data=payload)
        self.seq += len(payload)
        got = b""
        end = time.time() + 2
        while len(got) < len(payload) and time.time() < end:
            seg = self.recv(end - time.time())
            if seg and seg[3]:
                got += seg[3]
                self.ack = seg[1] + len(seg[3])
                self.send(ACK)
        if got != payload:
            raise SystemExit("FAIL %s: echoed %r" % (what, got[:40]))


def main():
    iface, dmac, src, dst = sys.argv[1:5]
    base = 41000
    # malformed segments to a listening port: dropped and counted, never answered
    p = Peer(iface, dmac, src, dst, base)
    p.send(SYN, bad_csum=True)
    p.nothing("bad checksum")
    print("ok bad_checksum")
    p.send(SYN, doff=4)
    p.nothing("data offset below 5")
    print("ok doff_small")
    p.send(SYN, doff=15)
    p.nothing("data offset beyond the segment")
    print("ok doff_large")
    p.send(SYN, opts=b"\x02\x08\x05\xb4")   # MSS claims 8 bytes, 4 are there
    p.nothing("option overrunning the header")
    print("ok options_overrun")

    # an established connection and attacks on it (RFC 5961)
    p = Peer(iface, dmac, src, dst, base + 1)
    p.connect()
    p.echo(b"hello", "baseline echo")
    p.send(RST, seq=p.seq + 10_000_000)
    p.nothing("RST outside the window")
    p.echo(b"still here", "echo after out-of-window RST")
    print("ok rst_out_of_window")
    p.send(RST, seq=p.seq + 100)
    p.expect("challenge ACK for in-window RST", lambda f, s, a, d: f == ACK and a == p.seq)
    p.echo(b"still here 2", "echo after in-window RST")
    print("ok rst_in_window_challenge")
    p.send(SYN, seq=p.seq + 5)
    p.expect("challenge ACK for SYN", lambda f, s, a, d: f == ACK and a == p.seq)
    p.echo(b"still here 3", "echo after SYN")
    print("ok syn_on_established")

    # overlapping retransmission with different bytes: first-received wins
    first = b"A" * 100
    p.send(PSH | ACK, data=first[:60])
    p.send(PSH | ACK, seq=p.seq + 40, data=b"B" * 60)   # bytes 40..60 overlap
    got = b""
    end = time.time() + 2
    while len(got) < 100 and time.time() < end:
        seg = p.recv(end - time.time())
        if seg and seg[3]:
            got += seg[3]
            p.ack = seg[1] + len(seg[3])
            p.send(ACK, seq=p.seq + 100)
    if got != b"A" * 60 + b"B" * 40:
        raise SystemExit("FAIL overlap: %r" % got)
    p.seq += 100
    print("ok overlapping_retransmission")

    # zero window from the peer: our echo waits, then resumes when it opens
    p.send(PSH | ACK, data=b"Z" * 10, win=0)
    p.seq += 10
    end = time.time() + 0.3
    while time.time() < end:
        seg = p.recv(end - time.time())
        if seg and seg[3]:
            raise SystemExit("FAIL zero window: data sent into it")
    p.send(ACK, win=65535)
    p.expect("data after the window opened", lambda f, s, a, d: d == b"Z" * 10, timeout=5)
    print("ok zero_window")

    # orderly close
    p.send(FIN | ACK, ack=p.ack + 10)
    p.expect("FIN back", lambda f, s, a, d: f & FIN, timeout=2)
    print("ok close")


if __name__ == "__main__":
    main()
