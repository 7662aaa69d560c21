#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Message-plane scenarios against a running dataplane + control + logic.

usage: mp_test.py SCENARIO --url URL [--ca CA] --keys KEYFILE --token-tool WG_TOKEN
scenarios: chat, errors, resume, flood, survive (chat that must keep working
across a kill -9 the shell does meanwhile; see test_msgplane.sh)
Prints one JSON line of results; exit 0 only when every check held.
"""
import argparse
import asyncio
import json
import ssl
import subprocess
import sys
import time

from mp_client import Client, Closed, b64

ARGS = None
RESULT = {"checks": 0}


def check(cond, what):
    RESULT["checks"] += 1
    if not cond:
        raise AssertionError(what)


def token(player, account, ttl=600, issued=None):
    cmd = [ARGS.token_tool, "mint", "-k", ARGS.keys, "-p", str(player), "-a", account,
           "-t", str(ttl)]
    if issued is not None:
        cmd += ["-i", str(issued)]
    return subprocess.check_output(cmd, text=True).strip()


def ctx():
    if not ARGS.url.startswith("wss:"):
        return None
    c = ssl.create_default_context(cafile=ARGS.ca)
    c.check_hostname = False
    return c


async def client(name, text=True):
    return await Client(ARGS.url, ssl=ctx(), text=text, name=name).connect()


async def logged_in(name, player, text=True):
    c = await client(name, text)
    m = await c.login(token(player, name))
    check(m["type"] == "LOGIN_ACK", "%s: login answered %s" % (name, m))
    check(int(m["payload"]["playerId"]) == player, "%s: player id %s" % (name, m))
    return c


async def join(c, room):
    await c.send("CHAT_JOIN", {"room": room})
    m = await c.expect("CHAT_JOINED")
    check(m["payload"]["room"] == room, "%s: joined %s" % (c.name, m))
    return m


async def collect_chat(c, n, timeout=20):
    got = []
    while len(got) < n:
        m = await c.expect("CHAT_MSG", timeout, keep_others=False)
        got.append(m)
    return got


def per_sender(msgs):
    out = {}
    for m in msgs:
        p = m["payload"]
        out.setdefault(p["fromName"], []).append(p["text"])
    return out


async def chat():
    n = ARGS.count
    a = await logged_in("alice", 1001, text=True)
    b = await logged_in("bob", 1002, text=False)
    # echo both ways of encoding
    for c in (a, b):
        mid = await c.send("ECHO", {"text": "ping-" + c.name, "data": b64(b"\x00\x01\xff")})
        m = await c.expect("ECHO")
        check(m["msg_id"] == mid and m["payload"].get("text") == "ping-" + c.name and
              m["payload"].get("data") == b64(b"\x00\x01\xff"), "%s: echo %s" % (c.name, m))
    await join(a, "lobby")
    await join(b, "lobby")

    async def say(c):
        for i in range(n):
            await c.send("CHAT_SAY", {"room": "lobby", "text": "%s-%d" % (c.name, i)})
            await asyncio.sleep(0.002)

    ra, rb, _, _ = await asyncio.gather(collect_chat(a, 2 * n), collect_chat(b, 2 * n),
                                        say(a), say(b))
    for c, got in ((a, ra), (b, rb)):
        ps = per_sender(got)
        for who in ("alice", "bob"):
            want = ["%s-%d" % (who, i) for i in range(n)]
            check(ps.get(who) == want, "%s: messages from %s out of order or missing: %s" % (
                c.name, who, ps.get(who)))
        seqs = [m["seq"] for m in got]
        check(seqs == sorted(seqs) and len(set(seqs)) == len(seqs),
              "%s: server seqs not increasing: %s" % (c.name, seqs))
    # nothing else arrived (no duplicates)
    for c in (a, b):
        try:
            extra = await c.recv(0.5)
            check(extra["type"] != "CHAT_MSG", "%s: extra %s" % (c.name, extra))
        except asyncio.TimeoutError:
            pass
    await a.send("LOGOUT")
    m = await a.expect("KICK")
    check(m["payload"].get("code") == "LOGGED_OUT", "logout answered %s" % m)
    await b.close()
    RESULT["chat_messages"] = 2 * n


async def expect_error(c, code, what):
    m = await c.expect("ERROR")
    check(m["payload"].get("code") == code, "%s: wanted %s, got %s" % (what, code, m))
    return m


async def errors():
    # a good client runs through all of it and must see nothing odd
    good = await logged_in("carol", 2001, text=False)

    c = await client("anon")
    await c.send("ECHO", {"text": "x"})
    await expect_error(c, "NOT_LOGGED_IN", "echo before login")
    m = await c.login("not-a-token")
    check(m["type"] == "ERROR" and m["payload"]["code"] == "BAD_TOKEN", "bad token: %s" % m)
    m = await c.login(token(2002, "dave", ttl=10, issued=int(time.time()) - 3600))
    check(m["type"] == "ERROR" and m["payload"]["code"] == "TOKEN_EXPIRED", "expired: %s" % m)
    t = token(2003, "erin")
    m = await c.login(t)
    check(m["type"] == "LOGIN_ACK", "erin login: %s" % m)
    c2 = await client("mallory")
    m = await c2.login(t)
    check(m["type"] == "ERROR" and m["payload"]["code"] == "TOKEN_REPLAYED", "replay: %s" % m)
    await c.send("LOGIN", {"token": token(2003, "erin")})
    await expect_error(c, "ALREADY_LOGGED_IN", "second login")
    # unknown type, by number
    await c.send_raw(json.dumps({"type": 0x7777, "seq": 0, "payload": {}}))
    await expect_error(c, "UNKNOWN_TYPE", "type 0x7777")
    # JSON that does not match the schema
    await c.send_raw(json.dumps({"type": "CHAT_SAY", "payload": {"room": 5}}))
    m = await expect_error(c, "BAD_MESSAGE", "schema mismatch")
    check("room" in m["payload"].get("text", ""), "schema error names the field: %s" % m)
    await c.send_raw("{not json")
    await expect_error(c, "BAD_MESSAGE", "not JSON")
    # binary garbage and an oversized binary message
    await c.send_raw(b"\xff\xff\xff")
    await expect_error(c, "BAD_MESSAGE", "binary garbage")
    await c.send_raw(b"\x08\x80\x04\x2a\x90\x27" + b"x" * 5000)
    await expect_error(c, "TOO_BIG", "oversize")
    # the session still works
    mid = await c.send("ECHO", {"text": "still-here"})
    m = await c.expect("ECHO")
    check(m["msg_id"] == mid, "echo after errors: %s" % m)
    # duplicate login: the old session is kicked
    c3 = await client("erin-2")
    m = await c3.login(token(2003, "erin"))
    check(m["type"] == "LOGIN_ACK", "erin second device: %s" % m)
    m = await c.expect("KICK")
    check(m["payload"].get("code") == "DUPLICATE_LOGIN", "duplicate login kick: %s" % m)
    # the good client saw nothing but its own echo
    mid = await good.send("ECHO", {"text": "good"})
    m = await good.recv(5)
    check(m["type"] == "ECHO" and m["msg_id"] == mid, "good client disturbed: %s" % m)
    for x in (good, c2, c3):
        await x.close()


async def flood():
    good = await logged_in("frank", 3001, text=True)
    f = await logged_in("flooder", 3002, text=False)
    sent = 0
    kicked = None
    limited = 0
    try:
        for i in range(2000):
            await f.send("ECHO", {"text": "x"})
            sent += 1
        while True:
            m = await f.recv(5)
            if m["type"] == "ERROR" and m["payload"]["code"] == "RATE_LIMITED":
                limited += 1
            if m["type"] == "KICK":
                kicked = m["payload"].get("code")
    except (Closed, asyncio.TimeoutError):
        pass
    check(limited >= 1, "flooder never told RATE_LIMITED")
    check(kicked == "FLOOD", "flooder not kicked for flooding: %s" % kicked)
    mid = await good.send("ECHO", {"text": "unaffected"})
    m = await good.expect("ECHO")
    check(m["msg_id"] == mid, "good client after the flood: %s" % m)
    await good.close()
    RESULT["flood_limited_errors"] = limited


async def resume():
    a = await logged_in("gina", 4001, text=True)
    b = await logged_in("hank", 4002, text=False)
    await join(a, "r1")
    await join(b, "r1")
    await b.send("CHAT_SAY", {"room": "r1", "text": "before"})
    await a.expect("CHAT_MSG")
    await b.expect("CHAT_MSG")   # the sender is in the room too
    last = a.srv_seq
    sid, tok = a.session_id, a.resume_token
    a.abort()
    await asyncio.sleep(0.5)
    for i in range(5):
        await b.send("CHAT_SAY", {"room": "r1", "text": "away-%d" % i})
    await collect_chat(b, 5)
    # and 100 long lines: the replay (~300 KB) is more than a client that
    # does not read may have queued, and must still arrive whole
    big = ["big-%03d-" % i + "x" * 2990 for i in range(100)]
    for t in big:
        await b.send("CHAT_SAY", {"room": "r1", "text": t})
    await collect_chat(b, 100)
    a2 = await client("gina-again", text=False)
    m = await a2.resume(sid, tok, last)
    check(m["type"] == "RESUME_ACK", "resume answered %s" % m)
    check(m["payload"].get("replayed", 0) == 105, "replayed %s" % m)
    got = await collect_chat(a2, 105, timeout=30)
    check([g["payload"]["text"] for g in got] == ["away-%d" % i for i in range(5)] + big,
          "replayed messages: %s" % [g["payload"]["text"][:12] for g in got])
    check(all(g["seq"] > last for g in got), "replayed seqs")
    # the resumed session chats on, under the same id
    await a2.send("CHAT_SAY", {"room": "r1", "text": "back"})
    m = await b.expect("CHAT_MSG")
    check(m["payload"]["text"] == "back", "after resume: %s" % m)
    # a wrong token is refused
    a3 = await client("intruder")
    m = await a3.resume(sid, b64(b"\x00" * 16), 0)
    check(m["type"] == "ERROR" and m["payload"]["code"] == "RESUME_FAILED", "bad resume: %s" % m)
    for x in (a2, b, a3):
        await x.close()


async def password():
    # accounts were created by the shell (wg_account add) in PostgreSQL
    a = await client("pw-ok", text=False)
    m = await a.login_password("paula", "correct horse")
    check(m["type"] == "LOGIN_ACK" and m["payload"]["playerId"] == "7001",
          "password login: %s" % m)
    mid = await a.send("ECHO", {"text": "pw"})
    m = await a.expect("ECHO")
    check(m["msg_id"] == mid, "echo after password login: %s" % m)
    b = await client("pw-bad", text=True)
    m = await b.login_password("paula", "wrong horse")
    check(m["type"] == "ERROR" and m["payload"]["code"] == "BAD_CREDENTIALS",
          "wrong password: %s" % m)
    m = await b.login_password("nobody", "correct horse")
    check(m["type"] == "ERROR" and m["payload"]["code"] == "BAD_CREDENTIALS",
          "unknown account: %s" % m)
    # the refused connection may still log in right
    m = await b.login_password("paula", "correct horse")
    check(m["type"] == "LOGIN_ACK", "second try: %s" % m)
    m = await a.expect("KICK")
    check(m["payload"].get("code") == "DUPLICATE_LOGIN", "first session kicked: %s" % m)
    await b.close()


class Watched:
    """A client whose every message is logged by a reader task, with the
    time it arrived; an echo task keeps one ECHO in flight every 100 ms."""

    def __init__(self, c):
        self.c = c
        self.log = []
        self.closed = None
        self.echo_ids = set()
        self.tasks = [asyncio.create_task(self.reader()), asyncio.create_task(self.echoer())]

    async def reader(self):
        loop = asyncio.get_running_loop()
        try:
            while True:
                m = await self.c.recv(3600)
                self.log.append((loop.time(), m))
        except Closed as e:
            self.closed = str(e)

    async def echoer(self):
        while self.closed is None:
            try:
                self.echo_ids.add(await self.c.send("ECHO", {"text": "tick"}))
            except Exception as e:  # noqa: BLE001 - a closed socket ends the loop
                self.closed = "send: %s" % e
                return
            await asyncio.sleep(0.1)

    def since(self, t, mtype):
        return [m for (ts, m) in self.log if ts >= t and m["type"] == mtype]

    def stop(self):
        for t in self.tasks:
            t.cancel()


def spawn(cmd, logfile, pidfile):
    with open(logfile, "ab") as out:
        p = subprocess.Popen(cmd, shell=True, stdout=out, stderr=subprocess.STDOUT,
                             start_new_session=True)
    with open(pidfile, "a") as f:
        f.write("%d\n" % p.pid)
    return p


async def failover():
    import os
    import signal
    loop = asyncio.get_running_loop()
    names = ["w%d" % i for i in range(4)]
    cs = [await logged_in(n, 5000 + i, text=(i % 2 == 0)) for i, n in enumerate(names)]
    for c in cs:
        await join(c, "f")
    ws = [Watched(c) for c in cs]

    async def echo_flows(what, secs=1.0):
        t = loop.time()
        await asyncio.sleep(secs)
        for w in ws:
            if w.c.name == "w0" and w.closed:
                continue
            check(w.closed is None, "%s: %s closed: %s" % (what, w.c.name, w.closed))
            check(len(w.since(t, "ECHO")) >= 3, "%s: %s echoes in the last %ss: %d" % (
                what, w.c.name, secs, len(w.since(t, "ECHO"))))

    async def wait_echo(what, limit):
        end = loop.time() + limit
        while loop.time() < end:
            t = loop.time()
            await asyncio.sleep(0.5)
            if all(len(w.since(t, "ECHO")) >= 2 for w in ws if w.closed is None):
                return
        raise AssertionError("%s: echo did not come back within %ss" % (what, limit))

    await echo_flows("start")
    # 1. logic 1 dies: the echo service moves to logic 0
    os.kill(ARGS.logic1_pid, signal.SIGKILL)
    await asyncio.sleep(1.5)
    await wait_echo("logic 1 killed", 10)
    await echo_flows("after logic 1 died")
    RESULT["unavailable_after_logic1"] = sum(
        1 for w in ws for m in w.since(0, "ERROR") if m["payload"]["code"] == "SERVICE_UNAVAILABLE")

    # 2. control dies: sessions flow on, logins wait
    os.kill(ARGS.control_pid, signal.SIGKILL)
    await asyncio.sleep(1.0)
    t = loop.time()
    for w in ws:
        await w.c.send("CHAT_SAY", {"room": "f", "text": "while-control-down-" + w.c.name})
    await asyncio.sleep(2.0)
    for w in ws:
        got = sorted(m["payload"]["text"] for m in w.since(t, "CHAT_MSG"))
        check(got == sorted("while-control-down-" + n for n in names),
              "%s: chat without control: %s" % (w.c.name, got))
    await echo_flows("control down")
    x = await client("late")
    m = await x.login(token(5100, "late"))
    check(m["type"] == "ERROR" and m["payload"]["code"] == "SERVICE_UNAVAILABLE",
          "login without control: %s" % m)
    await x.close()

    # 3. control restarts and rebuilds its table from the dataplane
    spawn(ARGS.control_cmd, ARGS.log_dir + "/control2.log", ARGS.pid_file)
    end = loop.time() + 20
    while True:
        x = await client("late")
        m = await x.login(token(5100, "late"))
        await x.close()
        if m["type"] == "LOGIN_ACK":
            break
        check(loop.time() < end, "no login after control restart: %s" % m)
        await asyncio.sleep(0.5)
    # the rebuilt table knows w0's player: logging in again kicks w0
    y = await client("w0-again")
    m = await y.login(token(5000, "w0"))
    check(m["type"] == "LOGIN_ACK", "w0 second login: %s" % m)
    await asyncio.sleep(1.0)
    kicks = [m for m in ws[0].since(0, "KICK")]
    check(kicks and kicks[0]["payload"].get("code") == "DUPLICATE_LOGIN",
          "w0 not kicked after control restart: %s" % kicks)
    await y.close()
    await echo_flows("control back")

    # 4. logic 0 dies: errors, connections stay; back after its restart
    t = loop.time()
    os.kill(ARGS.logic0_pid, signal.SIGKILL)
    await asyncio.sleep(2.0)
    for w in ws[1:]:
        check(w.closed is None, "%s closed when logic 0 died: %s" % (w.c.name, w.closed))
        errs = [m["payload"]["code"] for m in w.since(t, "ERROR")]
        check("SERVICE_UNAVAILABLE" in errs, "%s: no SERVICE_UNAVAILABLE: %s" % (w.c.name, errs))
    spawn(ARGS.logic0_cmd, ARGS.log_dir + "/logic0-2.log", ARGS.pid_file)
    await wait_echo("logic 0 restarted", 20)
    # rooms lived in the dead instance: join again, then chat works
    t = loop.time()
    for w in ws[1:]:
        await w.c.send("CHAT_JOIN", {"room": "f"})
    await asyncio.sleep(1.0)
    for w in ws[1:]:
        await w.c.send("CHAT_SAY", {"room": "f", "text": "after-" + w.c.name})
    await asyncio.sleep(2.0)
    for w in ws[1:]:
        got = sorted(m["payload"]["text"] for m in w.since(t, "CHAT_MSG"))
        check(got == sorted("after-" + n for n in names[1:]),
              "%s: chat after logic 0 restart: %s (also got %s)" % (
                  w.c.name, got, [(m["type"], m["payload"]) for m in
                                  (x for (ts, x) in w.log if ts >= t) if m["type"] != "ECHO"]))
    for w in ws:
        w.stop()
    RESULT["echoes"] = sum(len(w.since(0, "ECHO")) for w in ws)


async def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("scenario")
    p.add_argument("--url", required=True)
    p.add_argument("--ca")
    p.add_argument("--keys", required=True)
    p.add_argument("--token-tool", required=True)
    p.add_argument("--count", type=int, default=40)
    p.add_argument("--logic0-pid", type=int)
    p.add_argument("--logic1-pid", type=int)
    p.add_argument("--control-pid", type=int)
    p.add_argument("--control-cmd")
    p.add_argument("--logic0-cmd")
    p.add_argument("--log-dir")
    p.add_argument("--pid-file")
    ARGS = p.parse_args()
    fn = {"chat": chat, "errors": errors, "resume": resume, "flood": flood,
          "failover": failover, "password": password}[ARGS.scenario]
    try:
        await asyncio.wait_for(fn(), 120)
    except Exception as e:  # noqa: BLE001 - report every failure the same way
        RESULT["error"] = "%s: %s" % (type(e).__name__, e)
        print(json.dumps(RESULT))
        return 1
    RESULT["ok"] = True
    print(json.dumps(RESULT))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
