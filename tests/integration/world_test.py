#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The world service end to end (test_world.sh): clients log in through the
dataplane, get their avatar (ENTITY_STATE), walk with MOVE, decode every
STATE_DELTA against the snapshot it names as baseline (our own decoder,
independent of logic/sync/sync_client.c) and acknowledge it (SNAPSHOT_ACK).

usage: world_test.py --url URL --keys KEYFILE --token-tool WG_TOKEN
                     --radius R --max-speed UNITS_PER_TICK --move-slack N --pos-scale S
                     --width W --height H --spawn X,Y
Prints one JSON line of results; exit 0 only when every check held.
"""
import argparse
import asyncio
import json
import math
import subprocess
import sys

import websockets
from google.protobuf import json_format

from mp_client import Client, pb

ARGS = None
RESULT = {"checks": 0}
WORLD_PAYLOAD = {"MOVE": "MoveInput", "ENTITY_STATE": "EntityEnter",
                 "STATE_DELTA": "StateDelta", "SNAPSHOT_ACK": "SnapshotAck"}
_spb = None


def spb():
    """wg_sync_pb2, generated next to wg_client_pb2 (WG_PB_DIR)."""
    global _spb
    if _spb is None:
        pb()  # puts WG_PB_DIR on sys.path
        import wg_sync_pb2  # noqa: E402
        _spb = wg_sync_pb2
    return _spb


def check(cond, what):
    RESULT["checks"] += 1
    if not cond:
        raise AssertionError(what)


def token(player, account):
    return subprocess.check_output([ARGS.token_tool, "mint", "-k", ARGS.keys, "-p", str(player),
                                    "-a", account, "-t", "600"], text=True).strip()


class View:
    """A client's copy of the world: snapshots by tick, each {id: [x, y,
    vx, vy, yaw]} in quantised units, rebuilt from StateDeltas exactly as
    proto/wg_sync.proto describes them."""

    def __init__(self, frames=64):
        self.frames = frames
        self.snaps = {}
        self.tick = 0
        self.applied = 0
        self.left = set()     # ids that ever came in a leave
        self.acked = set()    # ticks we acknowledged
        self.on_baseline = 0  # deltas against an acked snapshot (not the empty one)

    def apply(self, d):
        if d.tick <= self.tick:
            return False      # stale or duplicate: dropped
        if d.baseline == 0:
            base = {}
        else:
            # the server only builds on what we acknowledged
            check(d.baseline in self.acked, "delta %d against baseline %d we never acked"
                  % (d.tick, d.baseline))
            check(d.baseline in self.snaps, "delta %d against baseline %d we do not hold"
                  % (d.tick, d.baseline))
            base = self.snaps[d.baseline]
            self.on_baseline += 1
        s = {k: list(v) for k, v in base.items()}
        for lv in d.leaves:
            check(lv.id in s, "leave of %d not in the baseline" % lv.id)
            del s[lv.id]
            self.left.add(lv.id)
        for e in d.enters:
            check(e.id not in s, "enter of %d already in the baseline" % e.id)
            s[e.id] = [e.x, e.y, e.vx, e.vy, e.yaw]
        for u in d.updates:
            check(u.id in s, "update of %d not in the baseline" % u.id)
            v = s[u.id]
            if u.mask & 1:
                v[0] += u.dx
                v[1] += u.dy
            if u.mask & 2:
                v[2], v[3] = u.vx, u.vy
            if u.mask & 4:
                v[4] = u.yaw
        self.snaps[d.tick] = s
        for t in [t for t in self.snaps if t + self.frames <= d.tick]:
            del self.snaps[t]
        self.tick = d.tick
        self.applied += 1
        return True

    def now(self):
        return self.snaps.get(self.tick, {})


class WorldClient(Client):
    """mp_client.Client that also speaks the wg_sync.proto payloads, reads
    in the background and keeps its View current."""

    def __init__(self, *a, drop_every=0, **kw):
        super().__init__(*a, **kw)
        self.view = View()
        self.eid = None
        self.spawn = None
        self.events = []      # anything but STATE_DELTA / ENTITY_STATE
        self.deltas = 0
        self.drop_every = drop_every
        self.task = None
        self.error = None

    def _encode(self, mtype, payload, seq, ack, msg_id):
        if self.text or mtype not in WORLD_PAYLOAD:
            return super()._encode(mtype, payload, seq, ack, msg_id)
        env = pb().Envelope(type=pb().MsgType.Value(mtype), seq=seq, ack=ack, msg_id=msg_id)
        msg = getattr(spb(), WORLD_PAYLOAD[mtype])()
        json_format.ParseDict(payload or {}, msg)
        env.payload = msg.SerializeToString()
        return env.SerializeToString()

    def _decode(self, frame):
        m = super()._decode(frame)
        cls = WORLD_PAYLOAD.get(m["type"])
        if cls is None:
            return m
        msg = getattr(spb(), cls)()
        if isinstance(frame, str):
            json_format.ParseDict(m["payload"], msg)
        else:
            env = pb().Envelope()
            env.ParseFromString(frame)
            msg.ParseFromString(env.payload)
        m["pb"] = msg
        return m

    async def dispatch(self, m):
        if m["type"] == "ENTITY_STATE":
            self.eid = m["pb"].id
            self.spawn = (m["pb"].x, m["pb"].y)
        elif m["type"] == "STATE_DELTA":
            self.deltas += 1
            # simulated loss: neither applied nor acknowledged
            if self.drop_every and self.deltas % self.drop_every == 0:
                return
            if self.view.apply(m["pb"]):
                self.view.acked.add(self.view.tick)
                await self.send("SNAPSHOT_ACK", {"tick": self.view.tick})
        else:
            self.events.append(m)

    async def run(self):
        try:
            for m in self.inbox:
                await self.dispatch(m)
            self.inbox = []
            while True:
                m = self._decode(await self.ws.recv())
                if m["seq"]:
                    self.srv_seq = max(self.srv_seq, m["seq"])
                await self.dispatch(m)
        except websockets.ConnectionClosed:
            pass
        except Exception as e:  # surfaced by the scenario
            self.error = e

    def start(self):
        self.task = asyncio.ensure_future(self.run())

    async def stop(self):
        self.task.cancel()
        try:
            await self.task
        except asyncio.CancelledError:
            pass
        await self.close()

    def seen(self):
        """{id: (x, y)} in world units in the newest snapshot."""
        s = ARGS.pos_scale
        return {k: (v[0] / s, v[1] / s) for k, v in self.view.now().items()}

    async def move(self, x, y):
        return await self.send("MOVE", {"seq": self.msg_id + 1, "x": x, "y": y, "yaw": 0.0})


async def until(what, pred, timeout=15):
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not pred():
        for c in CLIENTS:
            if c.error is not None:
                raise c.error
        if loop.time() > end:
            raise AssertionError("timed out waiting for " + what())
        await asyncio.sleep(0.02)


CLIENTS = []
Q = None          # half a quantisation step, plus float noise


def near(p, q):
    return abs(p[0] - q[0]) <= Q and abs(p[1] - q[1]) <= Q


async def walk(c, pos, target):
    """Step to target at most 0.8 of the per-tick limit a move, each step
    confirmed by our own avatar's position in a delta before the next, so
    every move is in a tick of its own and none is refused."""
    step = 0.8 * ARGS.max_speed
    x, y = pos[c.name]
    while (x, y) != target:
        dx, dy = target[0] - x, target[1] - y
        d = math.hypot(dx, dy)
        if d <= step:
            x, y = target
        else:
            x, y = x + dx * step / d, y + dy * step / d
        await c.move(x, y)
        want = (x, y)
        await until(lambda: "%s at %s (sees itself at %s, events %s)" % (
            c.name, want, c.seen().get(c.eid), c.events),
            lambda: near(c.seen().get(c.eid, (-1e9, -1e9)), want))
        check(not c.events, "%s: unexpected %s" % (c.name, c.events))
    pos[c.name] = (x, y)


def expected(c, pos):
    """ids c must see: itself and every other within the radius."""
    me = pos[c.name]
    r = ARGS.radius
    return {o.eid for o in CLIENTS
            if o is c or (pos[o.name][0] - me[0]) ** 2 + (pos[o.name][1] - me[1]) ** 2 <= r * r}


def views_right(pos):
    for c in CLIENTS:
        s = c.seen()
        if set(s) != expected(c, pos):
            return False
        for o in CLIENTS:
            if o.eid in s and not near(s[o.eid], pos[o.name]):
                return False
    return True


def views_text(pos):
    names = {o.eid: o.name for o in CLIENTS}
    return "; ".join("%s sees %s, expects %s" % (
        c.name, {names.get(k, k): v for k, v in c.seen().items()},
        sorted(names[e] for e in expected(c, pos))) for c in CLIENTS)


async def scenario():
    global Q
    Q = 0.5 / ARGS.pos_scale + 1e-4
    spawn = tuple(float(v) for v in ARGS.spawn.split(","))
    specs = [("alice", 2001, False, 0), ("bob", 2002, False, 3), ("carol", 2003, False, 0),
             ("dave", 2004, True, 0)]
    for name, player, text, drop in specs:
        c = WorldClient(ARGS.url, text=text, name=name, drop_every=drop)
        await c.connect()
        m = await c.login(token(player, name))
        check(m["type"] == "LOGIN_ACK", "%s: login answered %s" % (name, m))
        c.start()
        CLIENTS.append(c)
    a, b, c, d = CLIENTS
    await until(lambda: "avatars: %s" % [(x.name, x.eid) for x in CLIENTS],
                lambda: all(x.eid is not None for x in CLIENTS))
    check(len({x.eid for x in CLIENTS}) == 4, "avatar ids not distinct")
    for x in CLIENTS:
        check(near((x.spawn[0] / ARGS.pos_scale, x.spawn[1] / ARGS.pos_scale), spawn),
              "%s spawned at %s, not %s" % (x.name, x.spawn, spawn))
    pos = {x.name: spawn for x in CLIENTS}
    # everybody at the spawn point sees everybody
    await until(lambda: views_text(pos), lambda: views_right(pos))
    RESULT["spawned"] = {x.name: x.eid for x in CLIENTS}

    # spread out: alice and carol lose each other, bob sees everyone,
    # dave only bob
    sx, sy = spawn
    plan = {"alice": (sx - 100, sy), "bob": (sx, sy), "carol": (sx + 100, sy),
            "dave": (sx, sy + 120)}
    await asyncio.gather(*(walk(x, pos, plan[x.name]) for x in CLIENTS))
    await until(lambda: views_text(pos), lambda: views_right(pos))
    check(c.eid in a.view.left and a.eid in c.view.left,
          "alice/carol saw no leave of each other")
    RESULT["spread"] = {x.name: sorted(x.seen()) for x in CLIENTS}

    # carol cheats: too far in one move, then off the world; refused with a
    # reason, and nobody sees her move
    # one tick more than the idle credit (move_slack ticks) allows
    jump = (ARGS.move_slack + 1) * ARGS.max_speed
    far = (sx + 100 - jump, sy) if sx + 100 - jump >= 0 else (sx + 100 + jump, sy)
    check(0 <= far[0] <= ARGS.width, "no room for the cheat in this world")
    for target, text in ((far, "move: faster than logic.world.max_speed"),
                         ((ARGS.width + 1.0, sy), "move: outside the world")):
        mid = await c.move(*target)
        await until(lambda: "carol's error for %s (events %s)" % (target, c.events),
                    lambda: any(e["type"] == "ERROR" for e in c.events))
        e = c.events.pop(0)
        check(e["type"] == "ERROR" and e["payload"].get("code") == "BAD_REQUEST" and
              e["msg_id"] == mid and e["payload"].get("refMsgId") == mid and
              e["payload"].get("text") == text,
              "carol's move to %s answered %s" % (target, e))
    # a few ticks later carol is still where she was, for herself and bob
    t0 = b.view.tick
    await until(lambda: "bob's view past tick %d" % (t0 + 5), lambda: b.view.tick > t0 + 5)
    check(views_right(pos), "after carol's cheats: " + views_text(pos))

    # dave walks out of bob's range: both get a leave
    await walk(d, pos, (sx, sy + 400))
    await until(lambda: views_text(pos), lambda: views_right(pos))
    check(d.eid in b.view.left and b.eid in d.view.left, "bob/dave saw no leave")
    check(set(d.seen()) == {d.eid}, "dave alone: %s" % d.seen())
    RESULT["final"] = {x.name: sorted(x.seen()) for x in CLIENTS}
    for x in CLIENTS:
        check(not x.events, "%s: unexpected %s" % (x.name, x.events))
    # bob dropped every 3rd delta (neither applied nor acked) and still
    # converged every time above
    await until(lambda: "bob: 9 deltas, has %d" % b.deltas, lambda: b.deltas >= 9)
    check(b.view.applied <= b.deltas - b.deltas // 3,
          "bob: %d deltas, %d applied" % (b.deltas, b.view.applied))
    RESULT["deltas"] = {x.name: [x.deltas, x.view.applied, x.view.on_baseline] for x in CLIENTS}
    # SNAPSHOT_ACK reached the world: deltas build on acked snapshots
    for x in CLIENTS:
        check(x.view.on_baseline >= x.view.applied // 2,
              "%s: %d of %d deltas against an acked baseline" % (
                  x.name, x.view.on_baseline, x.view.applied))

    # carol logs out: the others in range (bob) see her leave
    await c.send("LOGOUT")
    await until(lambda: "bob sees carol leave: " + views_text(pos),
                lambda: c.eid not in b.seen())
    for x in CLIENTS:
        await x.stop()


async def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--keys", required=True)
    p.add_argument("--token-tool", required=True)
    p.add_argument("--radius", type=float, required=True)
    p.add_argument("--max-speed", type=float, required=True, help="world units per tick")
    p.add_argument("--move-slack", type=float, required=True)
    p.add_argument("--pos-scale", type=float, required=True)
    p.add_argument("--width", type=float, required=True)
    p.add_argument("--height", type=float, required=True)
    p.add_argument("--spawn", required=True)
    ARGS = p.parse_args()
    try:
        await asyncio.wait_for(scenario(), 120)
        RESULT["ok"] = True
    except Exception as e:
        RESULT["ok"] = False
        RESULT["error"] = "%s: %s" % (type(e).__name__, e)
    print(json.dumps(RESULT, sort_keys=True))
    return 0 if RESULT["ok"] else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
