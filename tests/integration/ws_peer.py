#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Real peers for the WebSocket library (tests/integration/test_ws_lib.sh).

  ws_peer.py server PORT      python3-websockets client + raw sockets against
                              ws_kernel_server (our library, server role)
  ws_peer.py client BINARY N  python3-websockets echo server; BINARY --client
                              (our library, client role) must pass N echoes

Every check raises on failure; the last line is "N passed, 0 failed".
Loopback only.
"""
import asyncio
import os
import random
import socket
import struct
import subprocess
import sys

import websockets

HOST = "127.0.0.1"
passed = 0


def ok(name):
    global passed
    passed += 1
    print(f"ok {passed} - {name}", flush=True)


def check(cond, what):
    if not cond:
        raise AssertionError(what)


# --------------------------------------------------------- raw sockets

KEY = "dGhlIHNhbXBsZSBub25jZQ=="
ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def request(path="/ws", extra="", version="13", key=KEY, method="GET"):
    return (f"{method} {path} HTTP/1.1\r\nHost: {HOST}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: {version}\r\n{extra}\r\n").encode()


def frame(op, payload=b"", fin=True, rsv=0, mask=True, length=None):
    b0 = (0x80 if fin else 0) | (rsv << 4) | op
    n = len(payload) if length is None else length
    mbit = 0x80 if mask else 0
    if n < 126:
        hdr = struct.pack("!BB", b0, mbit | n)
    elif n <= 0xffff:
        hdr = struct.pack("!BBH", b0, mbit | 126, n)
    else:
        hdr = struct.pack("!BBQ", b0, mbit | 127, n)
    if not mask:
        return hdr + payload
    key = os.urandom(4)
    return hdr + key + bytes(c ^ key[i % 4] for i, c in enumerate(payload))


class Raw:
    def __init__(self, port):
        self.s = socket.create_connection((HOST, port), timeout=10)
        self.buf = b""

    def send(self, b):
        self.s.sendall(b)

    def _fill(self):
        d = self.s.recv(65536)
        if not d:
            raise EOFError("connection closed")
        self.buf += d

    def http_response(self):
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        status = int(lines[0].split()[1])
        hdrs = {}
        for line in lines[1:]:
            k, v = line.split(":", 1)
            hdrs[k.strip().lower()] = v.strip()
        return status, hdrs

    def handshake(self, **kw):
        self.send(request(**kw))
        status, hdrs = self.http_response()
        check(status == 101, f"handshake status {status}")
        check(hdrs.get("sec-websocket-accept") == ACCEPT, "accept key")
        return hdrs

    def read_frame(self):
        while len(self.buf) < 2:
            self._fill()
        b0, b1 = self.buf[0], self.buf[1]
        check(not (b1 & 0x80), "server frames are not masked")
        n, off = b1 & 0x7f, 2
        if n == 126:
            while len(self.buf) < 4:
                self._fill()
            n, off = struct.unpack("!H", self.buf[2:4])[0], 4
        elif n == 127:
            while len(self.buf) < 10:
                self._fill()
            n, off = struct.unpack("!Q", self.buf[2:10])[0], 10
        while len(self.buf) < off + n:
            self._fill()
        payload = self.buf[off:off + n]
        self.buf = self.buf[off + n:]
        return b0 & 0x80, b0 & 0x0f, payload

    def expect_close(self, code):
        fin, op, payload = self.read_frame()
        check(op == 8, f"expected close, got opcode {op}")
        got = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
        check(got == code, f"close code {got}, want {code}")
        # and the server closes the TCP connection
        try:
            while True:
                self._fill()
        except EOFError:
            pass
        self.s.close()

    def expect_eof(self):
        try:
            while True:
                self._fill()
        except EOFError:
            pass
        self.s.close()


def raw_http(port, data):
    r = Raw(port)
    r.send(data)
    status, hdrs = r.http_response()
    r.expect_eof()
    return status, hdrs


def raw_tests(port):
    # refused handshakes: status and the headers that must come with them
    st, h = raw_http(port, request(path="/other"))
    check(st == 404, f"wrong path: {st}")
    ok("HTTP 404 for another path")
    st, h = raw_http(port, request(version="8"))
    check(st == 426 and h.get("sec-websocket-version") == "13", f"version 8: {st} {h}")
    ok("HTTP 426 + Sec-WebSocket-Version: 13 for version 8")
    st, h = raw_http(port, request(method="POST"))
    check(st == 405 and h.get("allow") == "GET", f"POST: {st}")
    ok("HTTP 405 for POST")
    st, h = raw_http(port, request(extra="Origin: http://evil.example\r\n"))
    check(st == 403, f"bad origin: {st}")
    ok("HTTP 403 for an origin not on the list")
    st, h = raw_http(port, request(key="short=="))
    check(st == 400, f"bad key: {st}")
    ok("HTTP 400 for a bad key")
    st, h = raw_http(port, request(extra="".join(f"X-H{i}: v\r\n" for i in range(40))))
    check(st == 431, f"too many headers: {st}")
    ok("HTTP 431 for too many headers")
    st, h = raw_http(port, b"GET /ws HTTP/1.1\r\nHost: x\r\n\r\n")
    check(st == 426 and h.get("upgrade", "").lower() == "websocket", f"plain GET: {st}")
    ok("HTTP 426 for a plain GET")

    # the first frame pipelined with the request, handshake split oddly
    r = Raw(port)
    req = request(extra="Origin: HTTP://ALLOWED.example\r\n")
    data = req + frame(1, b"pipelined")
    r.send(data[:7])
    r.send(data[7:])
    r.handshake_done = True
    st, h = r.http_response()
    check(st == 101 and h["sec-websocket-accept"] == ACCEPT, "pipelined handshake")
    fin, op, p = r.read_frame()
    check((fin, op, p) == (0x80, 1, b"pipelined"), f"pipelined echo {p!r}")
    ok("frame pipelined behind the request is echoed")
    # UTF-8 split inside a character across fragments is fine
    euro = "€".encode()
    r.send(frame(1, b"a" + euro[:1], fin=False) + frame(0, euro[1:2], fin=False)
           + frame(9, b"mid") + frame(0, euro[2:] + b"z"))
    fin, op, p = r.read_frame()
    check(op == 0xa and p == b"mid", "pong for the interleaved ping")
    fin, op, p = r.read_frame()
    check(op == 1 and p.decode() == "a€z", f"reassembled {p!r}")
    ok("text split inside a character across fragments, ping interleaved")
    # the same bytes one at a time
    for b in frame(2, bytes(range(200))):
        r.send(bytes([b]))
    fin, op, p = r.read_frame()
    check(op == 2 and p == bytes(range(200)), "byte-by-byte frame")
    ok("frame sent one byte per write")
    r.send(frame(8, struct.pack("!H", 1000)))
    r.expect_close(1000)
    ok("close 1000 echoed, TCP closed by the server")

    # protocol errors -> close codes
    cases = [
        ("unmasked frame", frame(1, b"hi", mask=False), 1002),
        ("RSV1 without extension", frame(1, b"hi", rsv=4), 1002),
        ("RSV3", frame(2, b"hi", rsv=1), 1002),
        ("reserved opcode 3", frame(3, b"hi"), 1002),
        ("reserved opcode 0xb", frame(0xb, b"hi"), 1002),
        ("ping of 126 bytes", frame(9, b"x" * 126), 1002),
        ("fragmented ping", frame(9, b"x", fin=False), 1002),
        ("continuation first", frame(0, b"x"), 1002),
        ("new message inside a fragmented one", frame(1, b"a", fin=False) + frame(1, b"b"), 1002),
        ("invalid UTF-8", frame(1, b"\xce\xba\xed\xa0\x80"), 1007),
        ("overlong UTF-8", frame(1, b"\xc0\xaf"), 1007),
        ("above U+10FFFF", frame(1, b"\xf4\x90\x80\x80"), 1007),
        ("text ending inside a character", frame(1, b"a\xe2\x82", fin=False) + frame(0, b""), 1007),
        ("message over 64 KiB", frame(2, b"x" * 65537), 1009),
        ("fragments over 64 KiB", frame(2, b"x" * 40000, fin=False) + frame(0, b"x" * 30000), 1009),
        ("64-bit length with the top bit", frame(2, b"", length=1 << 63), 1002),
        ("close with 1 byte", frame(8, b"\x03"), 1002),
        ("close code 1005", frame(8, struct.pack("!H", 1005)), 1002),
        ("close code 1006", frame(8, struct.pack("!H", 1006)), 1002),
        ("close code 999", frame(8, struct.pack("!H", 999)), 1002),
        ("close code 5000", frame(8, struct.pack("!H", 5000)), 1002),
        ("close reason not UTF-8", frame(8, struct.pack("!H", 1000) + b"\xff"), 1007),
    ]
    for name, data, code in cases:
        r = Raw(port)
        r.handshake()
        r.send(frame(1, b"before"))
        fin, op, p = r.read_frame()
        check(p == b"before", "echo before the error")
        r.send(data)
        r.expect_close(code)
        ok(f"{name} -> close {code}")


# ------------------------------------------------- websockets client

def payload(rng, size, text):
    if not text:
        return rng.randbytes(size)
    # mostly ASCII with 2-, 3- and 4-byte characters, exactly `size` bytes
    out = []
    n = 0
    alphabet = ["a", "Z", " ", "{", "é", "€", "😀", "ж"]
    while n < size:
        c = rng.choice(alphabet)
        b = len(c.encode())
        if n + b > size:
            c, b = "x", 1
        out.append(c)
        n += b
    return "".join(out)


async def echo_tests(port):
    rng = random.Random(6455)
    uri = f"ws://{HOST}:{port}/ws?session=1"
    async with websockets.connect(uri, subprotocols=["nope", "chat", "warpgate.v1"],
                                  max_queue=None, max_size=2 ** 20, compression=None,
                                  origin="http://allowed.example") as ws:
        check(ws.subprotocol == "warpgate.v1", f"subprotocol {ws.subprotocol}")
        ok("handshake with python3-websockets, subprotocol by server preference")

        sizes = [0, 1, 125, 126, 127, 65535, 65536]
        while len(sizes) < 10000:
            r = rng.random()
            if r < 0.80:
                sizes.append(rng.randint(0, 1024))
            elif r < 0.99:
                sizes.append(rng.randint(1025, 16384))
            else:
                sizes.append(rng.randint(16385, 65536))
        window = 32
        total = 0
        for base in range(0, len(sizes), window):
            batch = []
            for i in range(base, min(base + window, len(sizes))):
                m = payload(rng, sizes[i], i % 2 == 0)
                batch.append(m)
                await ws.send(m)
            for m in batch:
                got = await ws.recv()
                check(type(got) is type(m) and got == m,
                      f"echo mismatch ({type(m).__name__}, {len(m)})")
                total += len(m.encode()) if isinstance(m, str) else len(m)
        ok(f"10000 echo messages, 0..64 KiB text+binary, byte-exact ({total} bytes)")

        # fragmented from the client: sync and async iterables
        parts = ["frag", "mented ", "text ", "é€😀"]
        await ws.send(parts)
        check(await ws.recv() == "".join(parts), "fragmented text echo")

        async def agen():
            for i in range(20):
                yield bytes([i]) * (i * 100)
        await ws.send(agen())
        want = b"".join(bytes([i]) * (i * 100) for i in range(20))
        check(await ws.recv() == want, "fragmented binary echo")
        ok("fragmented messages from the client reassembled")

        # fragmented from the server
        text = "server-side fragments: " + "é€😀x" * 50
        await ws.send("cmd:frag:7:" + text)
        check(await ws.recv() == text, "server fragments")
        ok("fragmented message from the server (7-byte frames)")

        # ping from the client, answered by the library
        for data in [b"", b"hello", bytes(range(125))]:
            waiter = await ws.ping(data)
            await asyncio.wait_for(waiter, 5)
        ok("client pings answered with pongs (0, 5, 125 bytes)")
        # ping from the server: websockets answers, the server reports the pong
        await ws.send("cmd:ping:are you there")
        check(await ws.recv() == "pong:are you there", "server ping -> pong")
        ok("server ping answered by python3-websockets")

        await ws.send("cmd:stats")
        stats = dict(kv.split("=") for kv in (await ws.recv()).split())
        check(int(stats["msgs"]) >= 10000 and int(stats["in_place"]) > 0, f"stats {stats}")
        ok(f"server counters: {stats}")

        # close from the client with a code and a reason: echoed back
        await ws.close(4001, "client says bye ✓")
        check(ws.close_code == 4001 and ws.close_reason == "client says bye ✓",
              f"close echo {ws.close_code} {ws.close_reason!r}")
        ok("client close 4001 + reason echoed by the server")

    # close from the server
    async with websockets.connect(f"ws://{HOST}:{port}/ws", max_queue=None) as ws:
        check(ws.subprotocol is None, "no subprotocol offered, none chosen")
        await ws.send("cmd:close:4002:server says bye")
        try:
            await ws.recv()
            check(False, "no close from the server")
        except websockets.ConnectionClosed as e:  # 4002 counts as an "error" there
            check(e.rcvd.code == 4002 and e.rcvd.reason == "server says bye",
                  f"server close {e.rcvd}")
        await ws.wait_closed()
        check(ws.close_code == 4002, "close code after the handshake")
        ok("server close 4002 + reason received by python3-websockets")


def run_server_tests(port):
    asyncio.run(echo_tests(port))
    raw_tests(port)


# ------------------------------------------- our client, their server

async def serve_for_client(binary, count):
    async def handler(ws):
        check(ws.path == "/echo", f"path {ws.path}")
        async for m in ws:
            await ws.send(m)

    async with websockets.serve(handler, HOST, 0, subprotocols=["warpgate.v1"],
                                max_size=2 ** 20, compression=None) as server:
        port = server.sockets[0].getsockname()[1]
        proc = await asyncio.create_subprocess_exec(binary, "--client", str(port), str(count))
        rc = await asyncio.wait_for(proc.wait(), 300)
        check(rc == 0, f"our client exited {rc}")
    ok(f"our client: handshake, {count} echoes, pings, close against python3-websockets")


def main():
    if sys.argv[1] == "server":
        run_server_tests(int(sys.argv[2]))
    elif sys.argv[1] == "client":
        asyncio.run(serve_for_client(sys.argv[2], int(sys.argv[3])))
    else:
        raise SystemExit(__doc__)
    print(f"{passed} passed, 0 failed")


if __name__ == "__main__":
    main()
