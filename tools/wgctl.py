#!/usr/bin/env python3
"""wgctl: operator's view of a running warpgate appliance.

Reads the YAML config the processes run with, and queries the dataplane
over DPDK telemetry (/var/run/dpdk/<file_prefix>/dpdk_telemetry.v2).

  wgctl.py -c CONFIG get eal.file_prefix    print one config value
  wgctl.py -c CONFIG tap                    "iface ip/prefix peer_ip" of the first net_tap port
  wgctl.py -c CONFIG query /wg/stats        raw JSON reply of one telemetry command
  wgctl.py -c CONFIG status                 human summary
  wgctl.py -c CONFIG line                   one-line live status
  wgctl.py -c CONFIG wait-ready [SECONDS]   wait until telemetry answers
  wgctl.py -c CONFIG wait-instances N [S]   wait until N instances are alive
"""
import ipaddress
import json
import os
import socket
import sys
import time

import yaml


def load_conf(path):
    with open(path) as f:
        c = yaml.safe_load(f) or {}
    c.setdefault("eal", {}).setdefault("file_prefix", "warpgate")
    return c


def conf_get(c, dotted):
    node = c
    for part in dotted.split("."):
        if isinstance(node, list):
            node = node[int(part)]
        else:
            node = node[part]
    return node


def sock_path(c):
    runtime = "/var/run/dpdk" if os.getuid() == 0 else os.path.join(
        os.environ.get("XDG_RUNTIME_DIR", "/tmp"), "dpdk")
    return os.path.join(runtime, c["eal"]["file_prefix"], "dpdk_telemetry.v2")


class Telemetry:
    def __init__(self, path, timeout=2.0):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.s.settimeout(timeout)
        self.s.connect(path)
        hello = json.loads(self.s.recv(65536).decode())
        self.max_len = hello.get("max_output_len", 16384)

    def query(self, cmd):
        self.s.send(cmd.encode())
        reply = json.loads(self.s.recv(self.max_len + 1024).decode())
        return reply.get(cmd.split(",")[0])

    def close(self):
        self.s.close()


def telemetry(c):
    return Telemetry(sock_path(c))


def tap_info(c):
    for p in c.get("ports", []):
        dev = p.get("dev", "")
        if not dev.startswith("net_tap"):
            continue
        iface = "dtap0"
        for kv in dev.split(",")[1:]:
            if kv.startswith("iface="):
                iface = kv.split("=", 1)[1]
        net = ipaddress.ip_interface(p["ipv4"])
        ours = net.ip
        peer = next(h for h in net.network.hosts() if h != ours)
        return iface, str(net), "%s/%d" % (peer, net.network.prefixlen)
    raise SystemExit("no net_tap port in the configuration")


def status(c):
    t = telemetry(c)
    info = t.query("/wg/info")
    ports = t.query("/wg/ports")
    inst = t.query("/wg/instances") or {}
    st = t.query("/wg/stats")
    arp = t.query("/wg/arp") or {}
    streams = t.query("/wg/streams") or {}
    t.close()
    print("dataplane %s pid %s up %.1fs, %s worker(s), file prefix %s, config %s" % (
        info["version"], info["pid"], info["uptime_ms"] / 1000.0, info["workers"],
        info["file_prefix"], info["config"]))
    print("mbufs in use: packets %s, messages %s" % (info["pkt_mbufs_in_use"],
                                                      info["msg_mbufs_in_use"]))
    for name, p in ports.items():
        print("port %-8s %s %s (%s) %s mtu %s queues %s" % (
            name, p["ipv4"], p["mac"], p["driver"], p["device"], p["mtu"], p["queues"]))
    print("instances:")
    for slot, i in sorted(inst.items(), key=lambda kv: int(kv[0])):
        print("  slot %-2s %-7s %-2s %-9s pid %-7s gen %-3s beats %-6s age %sms "
              "msgs tx %s rx %s pongs %s rtt %sus deaths %s drained %s" % (
                  slot, i["kind"], i["index"], i["state"], i["pid"], i["generation"],
                  i["heartbeat"], i["heartbeat_age_ms"], i["msgs_tx"], i["msgs_rx"],
                  i["pongs"], i["ring_rtt_us"], i["deaths"], i["drained"]))
    print("arp:")
    for e in arp.values():
        print("  %-15s %s %s" % (e["ip"], e["mac"], e["state"]))
    print("counters (non-zero):")
    for k, v in st.items():
        if v:
            print("  %-22s %s" % (k, v))
    if streams:
        print("streams (TLS / WebSocket / framed, non-zero):")
        for k, v in streams.items():
            if v:
                print("  %-22s %s" % (k, v))


def line(c):
    t = telemetry(c)
    info = t.query("/wg/info")
    inst = t.query("/wg/instances") or {}
    st = t.query("/wg/stats")
    streams = t.query("/wg/streams") or {}
    t.close()
    alive = sum(1 for i in inst.values() if i["state"] == "alive")
    pongs = sum(i["pongs"] for i in inst.values())
    print("up %6.1fs | rx %d tx %d pkts | arp req %d rep %d | icmp echo %d/%d | "
          "instances alive %d/%d | ring msgs tx %d rx %d pongs %d | streams %d open, "
          "tls %d, msgs %d/%d" % (
              info["uptime_ms"] / 1000.0, st["rx_pkts"], st["tx_pkts"],
              st["arp_rx_request"], st["arp_tx_reply"], st["icmp_echo_request"],
              st["icmp_echo_reply_tx"], alive, len(inst), st["msgs_tx"], st["msgs_rx"], pongs,
              streams.get("active", 0), streams.get("tls_handshakes", 0),
              streams.get("msgs_in", 0), streams.get("msgs_out", 0)))


def wait_until(fn, secs):
    end = time.time() + secs
    last = None
    while time.time() < end:
        try:
            if fn():
                return 0
        except (OSError, ValueError, KeyError, TypeError) as e:
            last = e
        time.sleep(0.1)
    print("timed out after %ss%s" % (secs, ": %s" % last if last else ""), file=sys.stderr)
    return 1


def main(argv):
    if len(argv) < 4 or argv[1] != "-c":
        print(__doc__, file=sys.stderr)
        return 2
    c = load_conf(argv[2])
    cmd, args = argv[3], argv[4:]
    if cmd == "get":
        v = conf_get(c, args[0])
        print(json.dumps(v) if isinstance(v, (dict, list)) else v)
    elif cmd == "tap":
        print(*tap_info(c))
    elif cmd == "query":
        t = telemetry(c)
        print(json.dumps(t.query(args[0]), indent=1, sort_keys=True))
        t.close()
    elif cmd == "status":
        status(c)
    elif cmd == "line":
        line(c)
    elif cmd == "wait-ready":
        return wait_until(lambda: telemetry(c).query("/wg/info") is not None,
                          float(args[0]) if args else 30)
    elif cmd == "wait-instances":
        want = int(args[0])

        def enough():
            inst = telemetry(c).query("/wg/instances") or {}
            return sum(1 for i in inst.values() if i["state"] == "alive") >= want
        return wait_until(enough, float(args[1]) if len(args) > 1 else 30)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except (OSError, ConnectionError) as e:
        print("wgctl: cannot reach the dataplane: %s" % e, file=sys.stderr)
        sys.exit(1)
