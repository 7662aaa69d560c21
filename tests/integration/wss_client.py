#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""WebSocket echo client (python3-websockets) for the dataplane's ws
listeners: N messages of seeded sizes 0..MAX, text and binary, a window in
flight, every echo checked byte for byte; optional fragmented sends and
pings. Several clients run concurrently with --conns.

usage: wss_client.py URL [--ca CA.pem] [--count N] [--max-size B] [--conns C]
prints one JSON line with totals; exit 0 only when all came back intact
and every connection closed with 1000.
"""
import argparse
import asyncio
import json
import random
import ssl
import sys

import websockets


def message(rng, i, max_size):
    big = i % 16 == 0
    n = 0 if i == 0 else max_size if i == 1 else rng.randint(0, max_size if big else 512)
    if i % 2 == 0:
        # text: whole code points of 1..4 UTF-8 bytes, n characters
        alphabet = "abz09 \u00e9\u4e16\U0001f600"
        return "".join(alphabet[(i + k) % len(alphabet)] for k in range(n // 4 if big else n))
    return rng.randbytes(n)


async def one(url, ctx, count, max_size, seed, window, fragment):
    rng = random.Random(seed)
    res = {"sent": 0, "ok": 0, "bad": 0, "bytes": 0, "pongs": 0, "close": None}
    async with websockets.connect(url, ssl=ctx, max_size=None, compression=None,
                                  ping_interval=None) as ws:
        pending = asyncio.Queue()

        async def reader():
            for _ in range(count):
                got = await ws.recv()
                want = await pending.get()
                if got == want:
                    res["ok"] += 1
                    res["bytes"] += len(want)
                else:
                    res["bad"] += 1
                    if res["bad"] < 4:
                        print("mismatch: sent %d %s, got %d %s" % (
                            len(want), type(want).__name__, len(got), type(got).__name__),
                            file=sys.stderr)

        sem = asyncio.Semaphore(window)
        rtask = asyncio.create_task(reader())
        for i in range(count):
            m = message(rng, i, max_size)
            await pending.put(m)
            if fragment and i % 7 == 3 and len(m) >= 3:
                # a fragmented message: three frames (continuations)
                third = len(m) // 3
                await ws.send([m[:third], m[third:2 * third], m[2 * third:]])
            else:
                await ws.send(m)
            res["sent"] += 1
            if i % 1000 == 500:
                pong = await ws.ping(b"wg-%d" % i)
                await pong
                res["pongs"] += 1
            if i - (res["ok"] + res["bad"]) > window:
                await asyncio.sleep(0)
                while i - (res["ok"] + res["bad"]) > window:
                    await asyncio.sleep(0.001)
        await rtask
        await ws.close(1000, "done")
        res["close"] = ws.close_code
    return res


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--ca")
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--max-size", type=int, default=65536)
    ap.add_argument("--conns", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--window", type=int, default=32)
    ap.add_argument("--fragment", action="store_true")
    a = ap.parse_args()
    ctx = None
    if a.url.startswith("wss:"):
        ctx = ssl.create_default_context(cafile=a.ca)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    results = await asyncio.gather(*[
        one(a.url, ctx, a.count, a.max_size, a.seed + k, a.window, a.fragment)
        for k in range(a.conns)], return_exceptions=True)
    total = {"conns": a.conns, "sent": 0, "ok": 0, "bad": 0, "bytes": 0, "pongs": 0,
             "errors": []}
    for r in results:
        if isinstance(r, BaseException):
            total["errors"].append(repr(r)[:200])
            continue
        for k in ("sent", "ok", "bad", "bytes", "pongs"):
            total[k] += r[k]
        if r["close"] != 1000:
            total["errors"].append("close code %r" % r["close"])
    print(json.dumps(total), flush=True)
    good = not total["errors"] and total["bad"] == 0 and total["ok"] == a.count * a.conns
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
