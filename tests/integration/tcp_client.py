#!/usr/bin/env python3
"""Kernel-stack TCP client for the dataplane's echo/discard services.

usage: tcp_client.py HOST PORT MODE BYTES CONNS SEED [TIMEOUT]
  MODE echo:    each connection sends BYTES of seeded pseudo-random data and
                must read back exactly the same bytes (SHA-256 compared)
  MODE discard: each connection sends BYTES, half-closes, and must see EOF
Prints one summary line; exits non-zero on any mismatch, error or timeout.
"""
import asyncio
import hashlib
import os
import random
import sys
import time

CHUNK = 64 * 1024


def stream(seed, n):
    rng = random.Random(seed)
    left = n
    while left:
        k = min(CHUNK, left)
        yield rng.randbytes(k)
        left -= k


async def one(host, port, mode, nbytes, seed, barrier=None):
    r, w = await asyncio.open_connection(host, port)
    if barrier is not None:
        # all connections open at once before any data moves
        await barrier.wait()
    sent = hashlib.sha256()
    got = hashlib.sha256()
    received = 0

    async def writer():
        for block in stream(seed, nbytes):
            sent.update(block)
            w.write(block)
            await w.drain()
        w.write_eof()

    async def reader():
        nonlocal received
        while True:
            data = await r.read(CHUNK)
            if not data:
                return
            received += len(data)
            got.update(data)

    await asyncio.gather(writer(), reader())
    w.close()
    if mode == "echo":
        if received != nbytes or got.digest() != sent.digest():
            raise RuntimeError("conn %d: echoed %d of %d bytes, hash %s" % (
                seed, received, nbytes, "ok" if got.digest() == sent.digest() else "MISMATCH"))
    elif received != 0:
        raise RuntimeError("conn %d: discard sent back %d bytes" % (seed, received))
    return received


async def main():
    host, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    nbytes, conns, seed = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
    timeout = float(sys.argv[7]) if len(sys.argv) > 7 else 300
    t0 = time.time()
    # WG_HOLD=1: every connection is open at the same time, then all
    # transfer; otherwise at most 1000 run at once
    hold = os.environ.get("WG_HOLD") == "1"
    barrier = asyncio.Barrier(conns) if hold else None
    sem = asyncio.Semaphore(conns if hold else 1000)

    async def guarded(i):
        async with sem:
            return await one(host, port, mode, nbytes, seed + i, barrier)

    results = await asyncio.wait_for(
        asyncio.gather(*(guarded(i) for i in range(conns)), return_exceptions=True), timeout)
    errors = [e for e in results if isinstance(e, BaseException)]
    dt = time.time() - t0
    total = nbytes * conns
    print("%s: %d connection(s), %d bytes each way per connection, %d errors, %.2fs, %.1f MB/s" % (
        mode, conns, nbytes, len(errors), dt, total / dt / 1e6 if dt else 0))
    for e in errors[:5]:
        print("  error:", repr(e))
    return 1 if errors else 0


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(main()))
    except asyncio.TimeoutError:
        print("timed out")
        sys.exit(1)
