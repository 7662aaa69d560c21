#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Misbehaving clients against the dataplane's listeners (test_wss.sh's
ports): each must get the specified answer - a TLS alert, a WebSocket close
code, an HTTP status - and then a closed connection. Nothing else.

usage: bad_peers.py DATAPLANE_IP --ca CA.pem
prints one JSON line {case: "ok" | reason}; exit 0 when all are ok.
"""
import argparse
import base64
import json
import os
import socket
import ssl
import struct
import sys

TIMEOUT = 10


def recv_all(sock, limit=1 << 20):
    """Bytes until the peer closes (or resets). Returns (data, how)."""
    data = b""
    try:
        while len(data) < limit:
            b = sock.recv(65536)
            if not b:
                return data, "fin"
            data += b
    except ConnectionResetError:
        return data, "rst"
    except socket.timeout:
        return data, "timeout"
    return data, "limit"


def tcp(ip, port):
    s = socket.create_connection((ip, port), timeout=TIMEOUT)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


class TlsPipe:
    """A TLS 1.3 client over a raw socket through memory BIOs, so a test
    can corrupt or forge records after the handshake."""

    def __init__(self, ip, port, ca):
        ctx = ssl.create_default_context(cafile=ca)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        ctx.check_hostname = False
        self.inc, self.out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.obj = ctx.wrap_bio(self.inc, self.out)
        self.sock = tcp(ip, port)
        while True:
            try:
                self.obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                self.flush()
                b = self.sock.recv(65536)
                if not b:
                    raise ConnectionError("closed during handshake")
                self.inc.write(b)
        self.flush()

    def flush(self):
        b = self.out.read()
        if b:
            self.sock.sendall(b)

    def seal(self, data):
        """The record(s) for data, not sent."""
        self.obj.write(data)
        return self.out.read()

    def read_until_close(self):
        """Plaintext until close; ('alert', name) or ('close', how)."""
        data = b""
        while True:
            try:
                b = self.obj.read(65536)
                if not b:
                    return data, ("close_notify", None)
                data += b
                continue
            except ssl.SSLWantReadError:
                pass
            except ssl.SSLZeroReturnError:
                return data, ("close_notify", None)
            except ssl.SSLError as e:
                return data, ("alert", e.reason)
            try:
                b = self.sock.recv(65536)
            except (ConnectionResetError, socket.timeout) as e:
                return data, ("transport", type(e).__name__)
            if not b:
                self.inc.write_eof()
                try:
                    data += self.obj.read(65536)
                except ssl.SSLError as e:
                    return data, ("alert", getattr(e, "reason", str(e)))
                return data, ("transport", "fin")
            self.inc.write(b)


def ws_upgrade(sock, extra=b"", key=None):
    key = key or base64.b64encode(os.urandom(16))
    req = (b"GET / HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           b"Sec-WebSocket-Version: 13\r\n" + (b"Sec-WebSocket-Key: " + key + b"\r\n"
                                                if key != b"-" else b"") + extra + b"\r\n")
    sock.sendall(req)
    resp = b""
    while b"\r\n\r\n" not in resp:
        b = sock.recv(4096)
        if not b:
            break
        resp += b
    head, _, rest = resp.partition(b"\r\n\r\n")
    return head, rest


def frame(opcode, payload, mask=True, fin=True, rsv=0):
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    n = len(payload)
    if n < 126:
        hdr = struct.pack("!BB", b0, (0x80 if mask else 0) | n)
    elif n < 65536:
        hdr = struct.pack("!BBH", b0, (0x80 if mask else 0) | 126, n)
    else:
        hdr = struct.pack("!BBQ", b0, (0x80 if mask else 0) | 127, n)
    if not mask:
        return hdr + payload
    key = os.urandom(4)
    return hdr + key + bytes(c ^ key[i % 4] for i, c in enumerate(payload))


def close_code(data):
    """Code of the first close frame the server sent (unmasked), or None."""
    i = 0
    while i + 2 <= len(data):
        op, n = data[i] & 0x0F, data[i + 1] & 0x7F
        j = i + 2
        if n == 126:
            n = struct.unpack("!H", data[j:j + 2])[0]
            j += 2
        elif n == 127:
            n = struct.unpack("!Q", data[j:j + 8])[0]
            j += 8
        if op == 0x8:
            return struct.unpack("!H", data[j:j + 2])[0] if n >= 2 else 1005
        i = j + n
    return None


def ws_case(ip, port, send, want_code):
    s = tcp(ip, port)
    head, rest = ws_upgrade(s)
    if not head.startswith(b"HTTP/1.1 101"):
        return "upgrade refused: %r" % head[:40]
    s.sendall(send)
    data, how = recv_all(s)
    code = close_code(rest + data)
    s.close()
    if code != want_code:
        return "close code %r, want %d (%s)" % (code, want_code, how)
    if how not in ("fin", "rst"):
        return "connection not closed (%s)" % how
    return "ok"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ip")
    ap.add_argument("--ca", required=True)
    ap.add_argument("--wss-port", type=int, default=443)
    ap.add_argument("--tls-port", type=int, default=4443)
    ap.add_argument("--ws-port", type=int, default=8080)
    ap.add_argument("--framed-port", type=int, default=7000)
    ap.add_argument("--only", help="run the cases whose name starts with this")
    a = ap.parse_args()
    res = {}

    def case(name, fn):
        if a.only and not name.startswith(a.only):
            return
        try:
            res[name] = fn()
        except Exception as e:  # a crash of the test itself is a failure too
            res[name] = "exception %r" % e

    def garbage_hello():
        s = tcp(a.ip, a.tls_port)
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" + b"\x00" * 64)
        data, how = recv_all(s)
        s.close()
        # a TLS alert record (21) or a bare close: never data
        if data and data[0] != 21:
            return "answered %r" % data[:16]
        return "ok" if how in ("fin", "rst") else "not closed (%s)" % how

    def flipped_bit():
        t = TlsPipe(a.ip, a.tls_port, a.ca)
        rec = bytearray(t.seal(b"x" * 100))
        rec[20] ^= 0x01
        t.sock.sendall(bytes(rec))
        data, end = t.read_until_close()
        if data:
            return "plaintext after a forged record: %r" % data[:16]
        return "ok" if end == ("alert", "SSLV3_ALERT_BAD_RECORD_MAC") else "ended %r" % (end,)

    def oversize_record():
        t = TlsPipe(a.ip, a.tls_port, a.ca)
        t.sock.sendall(b"\x17\x03\x03" + struct.pack("!H", 16384 + 257) + b"\x00" * 200)
        data, end = t.read_until_close()
        return "ok" if end == ("alert", "TLSV1_ALERT_RECORD_OVERFLOW") else "ended %r" % (end,)

    def echo_after_truncation():
        # a record cut short and then the connection closed: nothing of it
        # may reach the application (the echo would show it)
        t = TlsPipe(a.ip, a.tls_port, a.ca)
        rec = t.seal(b"never-delivered")
        t.sock.sendall(rec[:-3])
        t.sock.shutdown(socket.SHUT_WR)
        data, end = t.read_until_close()
        return "ok" if b"never" not in data else "partial record delivered"

    def ws_bad_upgrade():
        s = tcp(a.ip, a.ws_port)
        head, _ = ws_upgrade(s, key=b"-")
        data, how = recv_all(s)
        s.close()
        if not head.startswith(b"HTTP/1.1 400"):
            return "status %r" % head[:40]
        return "ok" if how in ("fin", "rst") else "not closed (%s)" % how

    def ws_slow_upgrade():
        # half a request, then silence: the upgrade deadline (1 s in
        # test_wss.sh) answers 408 and closes
        s = tcp(a.ip, a.ws_port)
        s.sendall(b"GET / HTTP/1.1\r\nHost: slow\r\nUpgr")
        data, how = recv_all(s)
        s.close()
        if not data.startswith(b"HTTP/1.1 408"):
            return "answered %r (%s)" % (data[:40], how)
        return "ok" if how in ("fin", "rst") else "not closed (%s)" % how

    case("tls_garbage_hello", garbage_hello)
    case("tls_flipped_bit", flipped_bit)
    case("tls_record_overflow", oversize_record)
    case("tls_truncated_record", echo_after_truncation)
    case("ws_bad_upgrade", ws_bad_upgrade)
    case("ws_slow_upgrade", ws_slow_upgrade)
    case("ws_unmasked", lambda: ws_case(a.ip, a.ws_port, frame(1, b"hi", mask=False), 1002))
    case("ws_rsv_bits", lambda: ws_case(a.ip, a.ws_port, frame(2, b"x", rsv=4), 1002))
    case("ws_bad_opcode", lambda: ws_case(a.ip, a.ws_port, frame(3, b"x"), 1002))
    case("ws_bad_utf8", lambda: ws_case(a.ip, a.ws_port, frame(1, b"\xc3\x28"), 1007))
    case("ws_too_big", lambda: ws_case(a.ip, a.ws_port, frame(2, b"\x00" * 70000), 1009))
    case("ws_ping_too_long", lambda: ws_case(a.ip, a.ws_port, frame(9, b"p" * 126), 1002))
    case("ws_fragmented_ping",
         lambda: ws_case(a.ip, a.ws_port, frame(9, b"p", fin=False), 1002))
    case("ws_bad_close_code",
         lambda: ws_case(a.ip, a.ws_port, frame(8, struct.pack("!H", 1005)), 1002))
    case("ws_cont_without_start", lambda: ws_case(a.ip, a.ws_port, frame(0, b"x"), 1002))

    def framed_too_big():
        s = tcp(a.ip, a.framed_port)
        s.sendall(struct.pack("!I", 70000) + b"\x00" * 100)
        data, how = recv_all(s)
        s.close()
        if data:
            return "answered %r" % data[:16]
        return "ok" if how in ("fin", "rst") else "not closed (%s)" % how

    case("framed_too_big", framed_too_big)
    print(json.dumps(res), flush=True)
    return 0 if all(v == "ok" for v in res.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
