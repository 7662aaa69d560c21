#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Headless Chromium as a WebSocket client: echo N messages through a
wss:// (or ws://) server and check every echo byte for byte.

Chromium is driven over the DevTools protocol (its own websocket), so the
test needs nothing but Debian's chromium and python3-websockets. The
certificate is trusted the way a user's browser trusts it: the test CA is
imported into the NSS database of a throw-away HOME, not by flags that turn
verification off.

usage: browser_ws.py URL [--ca CA.pem] [--count N] [--max-size BYTES] [--seed S]
prints one JSON line: {"sent": .., "ok": .., "bad": .., "bytes": .., "error": ..}
exit 0 only when every message came back intact.
"""
import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

import websockets

# The page's test: a seeded size sequence over 0..max, text and binary
# alternating, a window of messages in flight (a game client does not wait
# for each answer), every echo compared with what was sent.
PAGE_JS = r"""
async function wgEcho(url, count, maxSize, seed, window_) {
  let s = seed >>> 0;
  const rnd = () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s; };
  const sizes = [];
  for (let i = 0; i < count; i++) {
    // every 16th message is large, the rest small: a game's shape
    const r = rnd();
    sizes.push(i === 0 ? 0 : i === 1 ? maxSize : (i % 16 === 0 ? r % (maxSize + 1) : r % 512));
  }
  const make = (i) => {
    const n = sizes[i];
    if (i % 2 === 0) {
      // whole code points of 1..4 UTF-8 bytes; n counts UTF-8 bytes, the
      // unit of the server's message limit
      const pts = [['a', 1], ['z', 1], ['0', 1], [' ', 1], ['\u00e9', 2], ['\u4e16', 3],
                   ['\ud83d\ude00', 4]];
      let t = '', bytes = 0;
      for (let k = 0; bytes < n; k++) {
        const p = pts[(i + k) % pts.length];
        if (bytes + p[1] <= n) { t += p[0]; bytes += p[1]; } else { t += 'x'; bytes++; }
      }
      return t;
    }
    const b = new Uint8Array(n);
    for (let k = 0; k < n; k++) b[k] = (i * 31 + k * 7) & 255;
    return b;
  };
  const same = (a, b) => {
    if (typeof a === 'string') return typeof b === 'string' && a === b;
    if (!(b instanceof ArrayBuffer)) return false;
    const v = new Uint8Array(b);
    if (v.length !== a.length) return false;
    for (let k = 0; k < v.length; k++) if (v[k] !== a[k]) return false;
    return true;
  };
  return await new Promise((resolve) => {
    const res = { sent: 0, ok: 0, bad: 0, bytes: 0, error: null };
    const pending = [];
    let ws;
    try { ws = new WebSocket(url); } catch (e) { res.error = String(e); resolve(res); return; }
    ws.binaryType = 'arraybuffer';
    const pump = () => {
      while (res.sent < count && pending.length < window_) {
        const m = make(res.sent);
        pending.push(m);
        ws.send(m);
        res.sent++;
      }
    };
    ws.onopen = pump;
    ws.onmessage = (ev) => {
      const want = pending.shift();
      if (want !== undefined && same(want, ev.data)) {
        res.ok++;
        res.bytes += typeof want === 'string' ? want.length : want.length;
      } else {
        res.bad++;
      }
      if (res.ok + res.bad === count) { ws.close(1000, 'done'); return; }
      pump();
    };
    ws.onerror = () => { res.error = res.error || 'websocket error'; };
    ws.onclose = (ev) => {
      if (res.ok + res.bad !== count && !res.error)
        res.error = 'closed early: code ' + ev.code + ' ' + ev.reason;
      res.closeCode = ev.code;
      resolve(res);
    };
  });
}
"""


def nss_trust(home, ca):
    db = os.path.join(home, ".pki", "nssdb")
    os.makedirs(db)
    subprocess.run(["certutil", "-N", "-d", "sql:" + db, "--empty-password"], check=True)
    subprocess.run(["certutil", "-A", "-d", "sql:" + db, "-n", "warpgate-test-ca",
                    "-t", "C,,", "-i", ca], check=True)


def devtools_port(profile, proc, deadline):
    path = os.path.join(profile, "DevToolsActivePort")
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("chromium exited with %d" % proc.returncode)
        try:
            with open(path) as f:
                return int(f.readline())
        except (OSError, ValueError):
            time.sleep(0.1)
    raise RuntimeError("chromium did not open its DevTools port")


async def cdp_eval(ws_url, expr, timeout):
    async with websockets.connect(ws_url, max_size=None) as ws:
        await ws.send(json.dumps({"id": 1, "method": "Runtime.evaluate",
                                  "params": {"expression": expr, "awaitPromise": True,
                                             "returnByValue": True}}))
        while True:
            msg = json.loads(await asyncio.wait_for(ws.recv(), timeout))
            if msg.get("id") == 1:
                return msg


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--ca")
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--max-size", type=int, default=65536)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--window", type=int, default=16)
    ap.add_argument("--timeout", type=float, default=300)
    a = ap.parse_args()

    home = tempfile.mkdtemp(prefix="wg-chromium-")
    proc = None
    try:
        if a.ca:
            nss_trust(home, a.ca)
        profile = os.path.join(home, "profile")
        env = dict(os.environ, HOME=home)
        proc = subprocess.Popen(
            ["chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
             "--no-first-run", "--no-default-browser-check", "--disable-extensions",
             "--user-data-dir=" + profile, "--remote-debugging-port=0",
             "--remote-allow-origins=*", "about:blank"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        port = devtools_port(profile, proc, deadline)
        targets = []
        while not targets and time.monotonic() < deadline:
            with urllib.request.urlopen("http://127.0.0.1:%d/json" % port) as r:
                targets = [t for t in json.load(r) if t.get("type") == "page"]
            if not targets:
                time.sleep(0.1)
        if not targets:
            raise RuntimeError("no page target")
        expr = PAGE_JS + "\nwgEcho(%s, %d, %d, %d, %d)" % (
            json.dumps(a.url), a.count, a.max_size, a.seed, a.window)
        reply = asyncio.run(cdp_eval(targets[0]["webSocketDebuggerUrl"], expr, a.timeout))
        result = reply.get("result", {})
        if "exceptionDetails" in result:
            res = {"error": json.dumps(result["exceptionDetails"])[:500]}
        else:
            res = result.get("result", {}).get("value") or {"error": "no value: %r" % reply}
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(home, ignore_errors=True)
    print(json.dumps(res), flush=True)
    ok = (res.get("error") is None and res.get("ok") == a.count and res.get("bad") == 0)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
