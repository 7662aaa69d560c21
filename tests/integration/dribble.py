#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""A TLS client that never reads: it fills the dataplane's echo output until
the stream pauses, then dribbles N one-byte TCP segments into the window it
was given, and holds the connection open. A gateway that pinned one mbuf per
segment would run its packet pool dry; test_wss.sh reads the pool meanwhile.

usage: dribble.py IP PORT CA [N [BULK]]   (prints "dribbled N" when done, then waits)
"""
import socket
import ssl
import sys
import time

ip, port, ca = sys.argv[1], int(sys.argv[2]), sys.argv[3]
n = int(sys.argv[4]) if len(sys.argv) > 4 else 3000
bulk = int(sys.argv[5]) if len(sys.argv) > 5 else 200000
ctx = ssl.create_default_context(cafile=ca)
ctx.check_hostname = False
inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
obj = ctx.wrap_bio(inc, out)
sock = socket.socket()
sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)   # our window stays small
sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
sock.connect((ip, port))
while True:
    try:
        obj.do_handshake()
        break
    except ssl.SSLWantReadError:
        b = out.read()
        if b:
            sock.sendall(b)
        inc.write(sock.recv(65536))
sock.sendall(out.read())
# echo traffic we never read: the server's output backs up (the echo fills
# our 4 KiB receive buffer, the server's TCP send buffer of 128 KiB and its
# 64 KiB output mark) and its stream pauses with its receive window still
# partly open; BULK is chosen to stop just past that point
sock.settimeout(2)
chunk = b"x" * 16000
sent = 0
while sent < bulk:
    obj.write(chunk[:min(len(chunk), bulk - sent)])
    data = out.read()
    sock.sendall(data)
    sent += len(data)
time.sleep(0.5)
sock.setblocking(True)
sock.settimeout(1)
# one-byte segments into whatever window is left (a sealed record, split)
obj.write(b"y" * n)
data = out.read()
ok = 0
for i in range(min(n, len(data))):
    try:
        sock.send(data[i:i + 1])
        ok += 1
    except (socket.timeout, BlockingIOError):
        break           # the window is shut
    time.sleep(0.0005)
print("dribbled %d (after %d bytes of unread echo traffic)" % (ok, sent), flush=True)
time.sleep(60)
