#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Length-framed TCP echo client (4-byte big-endian length + payload),
plain or over TLS 1.3: N messages of seeded sizes 0..MAX, a window in
flight, written in arbitrary pieces, every echo checked byte for byte.

usage: framed_client.py IP PORT [--tls CA.pem] [--count N] [--max-size B]
"""
import argparse
import json
import random
import socket
import ssl
import struct
import sys


def recv_exact(s, n):
    b = bytearray()
    while len(b) < n:
        chunk = s.recv(n - len(b))
        if not chunk:
            raise ConnectionError("closed after %d of %d bytes" % (len(b), n))
        b += chunk
    return bytes(b)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ip")
    ap.add_argument("port", type=int)
    ap.add_argument("--tls")
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--max-size", type=int, default=65536)
    ap.add_argument("--window", type=int, default=16)
    ap.add_argument("--seed", type=int, default=3)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    s = socket.create_connection((a.ip, a.port), timeout=30)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if a.tls:
        ctx = ssl.create_default_context(cafile=a.tls)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        ctx.check_hostname = False
        s = ctx.wrap_socket(s)
    sent, ok, bad = [], 0, 0
    nbytes = 0
    for i in range(a.count):
        n = 0 if i == 0 else a.max_size if i == 1 else rng.randint(0, 2000 if i % 8 else a.max_size)
        m = rng.randbytes(n)
        wire = struct.pack("!I", n) + m
        # written in up to three pieces: the parser must not care
        cuts = sorted(rng.randint(0, len(wire)) for _ in range(2))
        for part in (wire[:cuts[0]], wire[cuts[0]:cuts[1]], wire[cuts[1]:]):
            if part:
                s.sendall(part)
        sent.append(m)
        while len(sent) > a.window or (i == a.count - 1 and sent):
            want = sent.pop(0)
            (n2,) = struct.unpack("!I", recv_exact(s, 4))
            got = recv_exact(s, n2)
            if got == want:
                ok += 1
                nbytes += n2
            else:
                bad += 1
    s.close()
    print(json.dumps({"sent": a.count, "ok": ok, "bad": bad, "bytes": nbytes}), flush=True)
    return 0 if ok == a.count and bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
