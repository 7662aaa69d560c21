"""Helpers shared by the raw-socket test tools (inject, synflood, tcp_raw_peer)."""
import struct


def csum(b):
    """RFC 1071 Internet checksum of b."""
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def mac(s):
    """'aa:bb:..' to 6 bytes."""
    return bytes(int(x, 16) for x in s.split(":"))
