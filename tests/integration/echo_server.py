#!/usr/bin/env python3
"""Kernel-stack TCP echo server (the peer for our client side).

usage: echo_server.py HOST PORT   — runs until killed; echoes every byte and
closes after the peer's FIN, like RFC 862.
"""
import asyncio
import sys


async def handle(r, w):
    try:
        while True:
            data = await r.read(65536)
            if not data:
                break
            w.write(data)
            await w.drain()
    finally:
        w.close()


async def main():
    srv = await asyncio.start_server(handle, sys.argv[1], int(sys.argv[2]), backlog=4096)
    print("listening", flush=True)
    async with srv:
        await srv.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
