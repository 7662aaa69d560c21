#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Two players chat through the gateway: alice (JSON text frames; with a
password from the accounts database when --password is given) and bob
(binary protobuf Envelopes, a signed token) log in over wss, join a room
and talk; each prints what it saw. Used by `./warpgate demo`.

usage: demo_chat.py URL --ca CA --keys TOKEN_KEYS --token-tool WG_TOKEN [--password PW]
(WG_PB_DIR must name the protoc --python_out directory of wg_client.proto)
"""
import argparse
import asyncio
import os
import ssl
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from mp_client import Client  # noqa: E402

LINES = {
    "alice": ["hi bob, anyone home?", "the gateway routed this through logic 0"],
    "bob": ["hello alice!", "and back through the dataplane to both of us"],
}


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("--ca", required=True)
    p.add_argument("--keys", required=True)
    p.add_argument("--token-tool", required=True)
    p.add_argument("--password", help="alice's password (PostgreSQL account)")
    a = p.parse_args()
    ctx = ssl.create_default_context(cafile=a.ca)
    ctx.check_hostname = False
    players = []
    for i, (name, text) in enumerate((("alice", True), ("bob", False))):
        c = await Client(a.url, ssl=ctx, text=text, name=name).connect()
        if name == "alice" and a.password:
            how = "password"
            m = await c.login_password(name, a.password)
        else:
            how = "signed token"
            tok = subprocess.check_output([a.token_tool, "mint", "-k", a.keys, "-p",
                                           str(100 + i), "-a", name, "-t", "600"],
                                          text=True).strip()
            m = await c.login(tok)
        if m["type"] != "LOGIN_ACK":
            print("%s: login refused: %s" % (name, m["payload"]))
            return 1
        print("%-5s logged in with a %s (%s frames): session %x, player %s" % (
            name, how, "JSON text" if text else "binary protobuf", c.session_id,
            m["payload"]["playerId"]))
        await c.send("CHAT_JOIN", {"room": "lobby"})
        m = await c.expect("CHAT_JOINED")
        print("%-5s joined lobby (%d member(s))" % (name, m["payload"].get("members", 0)))
        players.append(c)
    total = sum(len(v) for v in LINES.values())
    for k in range(2):
        for c in players:
            await c.send("CHAT_SAY", {"room": "lobby", "text": LINES[c.name][k]})
            await asyncio.sleep(0.05)
    for c in players:
        print("--- %s's screen" % c.name)
        for _ in range(total):
            m = await c.expect("CHAT_MSG", 10)
            print("  [seq %3d] %s: %s" % (m["seq"], m["payload"]["fromName"],
                                         m["payload"]["text"]))
    for c in players:
        await c.send("LOGOUT")
        await c.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
