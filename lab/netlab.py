#!/usr/bin/env python3
"""The VidTorrent network lab: runs a scenario on a network of namespaces.

    netlab.py SCENARIO.json --bin-root DIR [--out DIR] [--json FILE|-] [--bench]

One network namespace per node, each joined by a veth pair to a core
namespace. In the core, a node's upload is shaped on the far side of its veth
(ingress -> ifb -> tbf), and every packet between two nodes passes a
user-space delay line on a TUN device (lab/delay_line.cc) that holds it for
delay(src) + delay(dst). The real tools run inside the namespaces with a real
MPEG-TS stream from ffmpeg; this program feeds the source and reads every
viewer, timestamping bytes on both sides with one clock, and reports per
viewer and per node (docs/netlab.md) as a table (stderr) and JSON lines.

Exit status: 0 the scenario's expectations hold, 1 they do not, 2 a usage
error (bad flag or scenario), 3 the lab itself failed (namespaces, tools).
Python 3 standard library only; needs root (namespaces, tc).
"""

import argparse
import bisect
import ctypes
import fcntl
import hashlib
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

# Addresses live only inside the lab's namespaces: 10.77.0.1 is the core's
# side of every veth (the nodes' gateway), nodes get 10.77.X.Y/32.
GATEWAY = "10.77.0.1"
# Behind a NAT (a node's "nat": true): the LAN between the NAT's namespace
# and the node's, the same in every NAT (as in homes).
NAT_INNER_GATEWAY = "192.168.50.1"
NAT_INNER_ADDR = "192.168.50.10"
# With two NATs ("nat": 2: a carrier-grade NAT in front of the home one), the
# LAN between them, in the shared address space carriers use (RFC 6598).
CGN_INNER_GATEWAY = "100.64.0.1"
CGN_INNER_ADDR = "100.64.0.10"
PORT = 7000
LOCK_PATH = "/run/vt-netlab.lock"
NS_PREFIX = "vtlab"


class UsageError(Exception):
    pass


class LabError(Exception):
    pass


def log(msg):
    print(f"netlab: {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- parsing

def parse_rate(text, what="rate"):
    """'800k', '20M', '1.5M', '2500000' -> bits per second (int)."""
    if isinstance(text, (int, float)):
        return int(text)
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([kKmMgG]?)\s*(bit|bps|b)?\s*", str(text))
    if not m:
        raise UsageError(f"bad {what} '{text}' (write 800k, 20M)")
    mult = {"": 1, "k": 1e3, "m": 1e6, "g": 1e9}[m.group(2).lower()]
    return int(float(m.group(1)) * mult)


def rate_flag(bps):
    """A rate as the tools parse it: whole kbit/s."""
    return f"{max(0, int(round(bps / 1000)))}k"


def fmt_rate(bps):
    if bps is None:
        return "-"
    if bps >= 1e6:
        return f"{bps / 1e6:.3g}M"
    return f"{bps / 1e3:.3g}k"


def pick(value, i):
    """A per-node value: a list is cycled over the group's members."""
    if isinstance(value, list):
        return value[i % len(value)]
    return value


def declared_upload(spec, uplink):
    """'80%' or '20x' of the uplink, a rate, or None (flag not given)."""
    if spec is None:
        return None
    s = str(spec).strip()
    if s.endswith("%"):
        return int(uplink * float(s[:-1]) / 100)
    if s.endswith("x"):
        return int(uplink * float(s[:-1]))
    return parse_rate(s, "upload")


def load_scenario(path):
    try:
        with open(path) as f:
            sc = json.load(f)
    except OSError as e:
        raise UsageError(f"cannot read scenario '{path}': {e.strerror}")
    except json.JSONDecodeError as e:
        raise UsageError(f"scenario '{path}' is not JSON: {e}")
    if not isinstance(sc, dict) or not isinstance(sc.get("nodes"), list):
        raise UsageError(f"scenario '{path}' has no \"nodes\" list")
    sc.setdefault("name", os.path.splitext(os.path.basename(path))[0])
    stream = sc.setdefault("stream", {})
    stream["rate_bps"] = parse_rate(stream.get("rate", "2M"), "stream rate")
    stream.setdefault("duration_s", 30)
    stream.setdefault("gop_s", 2)
    sc.setdefault("stripes", 4)
    sc.setdefault("queue_ms", 300)
    sc.setdefault("drain_s", 20)
    sc.setdefault("expect", {})
    nodes = []
    for g in sc["nodes"]:
        role = g.get("role")
        if role not in ("source", "relay", "sink"):
            raise UsageError(f"node group '{g.get('name')}': role must be source, relay or sink")
        count = int(g.get("count", 1))
        base = g.get("name", role)
        for i in range(count):
            name = base if count == 1 else f"{base}{i + 1}"
            uplink = parse_rate(pick(g.get("uplink", "10M"), i), "uplink")
            upload = declared_upload(pick(g.get("upload"), i), uplink)
            start = float(pick(g.get("start_s", 0), i)) + i * float(g.get("start_step_s", 0))
            node = {
                "name": name,
                "group": base,
                "role": role,
                "uplink_bps": uplink,
                "upload_bps": upload,
                "max_children": pick(g.get("max_children"), i),
                "delay_ms": float(pick(g.get("delay_ms", 10), i)),
                "start_s": 0.0 if role == "source" else start,
                "stop_s": pick(g.get("stop_s"), i),
                "join": g.get("join", ["source"]),
                "flags": [str(x) for x in g.get("flags", [])],
                "queue_ms": float(pick(g.get("queue_ms", sc["queue_ms"]), i)),
                # Behind a masquerading NAT of its own (a namespace between
                # it and the core), or two ("nat": 2: a carrier-grade NAT
                # in front of the home one); "listen": "private" (its own
                # address, the default), "all" (0.0.0.0) or "none" (no
                # --listen).
                "nat": int(pick(g.get("nat", 0), i)),
                "listen": pick(g.get("listen", "private"), i),
                # A public address behind a firewall of its own that drops
                # every connection it did not open (nobody can dial it).
                "firewall": bool(pick(g.get("firewall", False), i)),
            }
            if node["listen"] not in ("private", "all", "none"):
                raise UsageError(f"node group '{base}': listen must be private, all or none")
            if node["nat"] not in (0, 1, 2):
                raise UsageError(f"node group '{base}': nat must be false, true, 1 or 2")
            if node["nat"] and role == "source":
                raise UsageError("the source cannot be behind a NAT (viewers must reach it)")
            if node["firewall"] and (role == "source" or node["nat"]):
                raise UsageError(f"node group '{base}': a firewall is for a relay or viewer with "
                                 "a public address (not the source, not behind a NAT)")
            node["liar"] = bool(g.get("liar", upload is not None and upload > uplink))
            nodes.append(node)
    if sum(1 for n in nodes if n["role"] == "source") != 1:
        raise UsageError("a scenario has exactly one source")
    names = [n["name"] for n in nodes]
    if len(set(names)) != len(names):
        raise UsageError("node names must be unique")
    if len(nodes) > 240:
        raise UsageError("at most 240 nodes")
    nodes.sort(key=lambda n: (n["role"] != "source", n["start_s"]))
    for idx, n in enumerate(nodes):
        n["index"] = idx
        n["addr"] = f"10.77.{1 + idx // 200}.{10 + idx % 200}"
        # Behind a NAT, addr is the NAT's outer address (what the core, the
        # delay line and every peer see); the node has a private one.
        n["private_addr"] = NAT_INNER_ADDR if n["nat"] else n["addr"]
    sc["node_list"] = nodes
    return sc


# ---------------------------------------------------------------- processes

_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1


def _die_with_parent():
    # The lab's processes die with it, even when it is killed with SIGKILL;
    # they are started from the main thread, whose death is what counts.
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def find_tool(name):
    for d in os.environ.get("PATH", "").split(":") + ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]:
        p = os.path.join(d, name)
        if d and os.access(p, os.X_OK):
            return p
    raise LabError(f"'{name}' not found (scripts/setup installs it)")


class Lab:
    """The namespaces, devices and processes of one run; close() removes all."""

    def __init__(self, scenario, tools, out_dir):
        self.sc = scenario
        self.tools = tools
        self.out = out_dir
        self.ip = find_tool("ip")
        self.tc = find_tool("tc")
        # Absolute paths: a test's PATH may not have the sbin directories.
        self.sysctl_path = find_tool("sysctl")
        self.ss = find_tool("ss")
        needs_nat = any(n["nat"] or n["firewall"] for n in scenario["node_list"])
        self.nft = find_tool("nft") if needs_nat else None
        self.run_id = f"{NS_PREFIX}{os.getpid()}"
        self.core = f"{self.run_id}-core"
        self.namespaces = []
        self.procs = []  # every Popen this run started, killed by pid at close
        self.delay_line = None
        self.closed = False

    # -- commands in namespaces
    def sh(self, *args, check=True):
        r = subprocess.run(list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if check and r.returncode != 0:
            raise LabError(f"{' '.join(args)}: {r.stderr.strip() or r.returncode}")
        return r.stdout

    def ns_ip(self, ns, *args, check=True):
        return self.sh(self.ip, "-n", ns, *args, check=check)

    def ns_tc(self, ns, *args, check=True):
        return self.sh(self.tc, "-n", ns, *args, check=check)

    def sysctl(self, ns, *settings):
        self.sh(self.ip, "netns", "exec", ns, self.sysctl_path, "-qw", *settings)

    def spawn(self, ns, argv, **kw):
        p = subprocess.Popen([self.ip, "netns", "exec", ns] + argv, preexec_fn=_die_with_parent,
                             start_new_session=True, **kw)
        self.procs.append(p)
        return p

    def add_ns(self, ns):
        self.sh(self.ip, "netns", "add", ns)
        self.namespaces.append(ns)
        self.ns_ip(ns, "link", "set", "lo", "up")
        # IPv6 would only add neighbour discovery noise to the delay line.
        self.sysctl(ns, "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")

    # -- the network
    def build(self):
        remove_stale_namespaces(self.ip)
        self.add_ns(self.core)
        self.sysctl(self.core, "net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=0",
                    "net.ipv4.conf.default.rp_filter=0")
        for n in self.sc["node_list"]:
            self.add_node(n)
        self.start_delay_line()

    def add_nat(self, ns, outer, gateway=NAT_INNER_GATEWAY, addr=NAT_INNER_ADDR):
        """Namespace `ns` behind `outer`, a masquerading NAT: its LAN
        address is private, its connections leave with the NAT's address,
        and nothing from outside gets in unless it answers a connection the
        node opened (the NAT drops the rest, as home routers do)."""
        self.add_ns(ns)
        self.sysctl(outer, "net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=0",
                    "net.ipv4.conf.default.rp_filter=0")
        self.ns_ip(outer, "link", "add", "lan0", "type", "veth", "peer", "name", "eth0",
                   "netns", ns)
        self.ns_ip(outer, "addr", "add", f"{gateway}/24", "dev", "lan0")
        self.ns_ip(outer, "link", "set", "lan0", "up")
        self.ns_ip(ns, "addr", "add", f"{addr}/24", "dev", "eth0")
        self.ns_ip(ns, "link", "set", "eth0", "up")
        self.ns_ip(ns, "route", "add", "default", "via", gateway, "dev", "eth0")
        rules = (
            "table ip vtnat {\n"
            " chain nat_out { type nat hook postrouting priority srcnat; oifname \"eth0\" masquerade; }\n"
            " chain from_wan { type filter hook forward priority filter; policy accept;\n"
            "  iifname \"eth0\" ct state established,related accept; iifname \"eth0\" drop; }\n"
            " chain to_nat { type filter hook input priority filter; policy accept;\n"
            "  iifname \"eth0\" ct state established,related accept; iifname \"eth0\" drop; }\n"
            "}\n")
        self.nft_rules(outer, rules)

    def add_firewall(self, ns):
        """Drops in `ns` every packet that does not belong to a connection
        the node opened: a public address nobody can dial (a host firewall).
        A dial-back finds it unreachable after its timeout."""
        rules = (
            "table inet vtfw {\n"
            " chain input { type filter hook input priority filter; policy accept;\n"
            "  iifname \"lo\" accept; ct state established,related accept; drop; }\n"
            "}\n")
        self.nft_rules(ns, rules)

    def nft_rules(self, ns, rules):
        """Loads an nftables ruleset into namespace `ns`."""
        r = subprocess.run([self.ip, "netns", "exec", ns, self.nft, "-f", "-"], input=rules,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            raise LabError(f"nft in {ns}: {r.stderr.strip()}")

    def add_node(self, n):
        i, ns = n["index"], f"{self.run_id}-{n['index']}"
        n["ns"] = ns
        veth, ifb = f"vn{i}", f"ib{i}"
        n["veth"], n["ifb"] = veth, ifb
        if n["nat"]:
            # The NAT takes the node's place on the core side; with two, the
            # carrier's is there and the home NAT sits between it and the node.
            outer = f"{self.run_id}-{i}nat"
            n["nat_ns"] = outer
            self.add_ns(outer)
            if n["nat"] == 2:
                home = f"{self.run_id}-{i}nat2"
                self.add_nat(home, outer, CGN_INNER_GATEWAY, CGN_INNER_ADDR)
                self.add_nat(ns, home)
            else:
                self.add_nat(ns, outer)
            ns = outer
        else:
            self.add_ns(ns)
            if n["firewall"]:
                self.add_firewall(ns)
        self.ns_ip(self.core, "link", "add", veth, "type", "veth", "peer", "name", "eth0",
                   "netns", ns)
        self.ns_ip(ns, "addr", "add", f"{n['addr']}/32", "dev", "eth0")
        self.ns_ip(ns, "link", "set", "eth0", "up")
        self.ns_ip(ns, "route", "add", GATEWAY, "dev", "eth0")
        self.ns_ip(ns, "route", "add", "default", "via", GATEWAY, "dev", "eth0")
        self.ns_ip(self.core, "addr", "add", f"{GATEWAY}/32", "dev", veth)
        self.ns_ip(self.core, "link", "set", veth, "up")
        self.ns_ip(self.core, "route", "add", f"{n['addr']}/32", "dev", veth)
        # Everything a node sends goes to the delay line (table 100); what the
        # delay line writes back arrives from tun0 and takes the main table.
        self.ns_ip(self.core, "rule", "add", "iif", veth, "lookup", "100")
        # The node's upload: its veth's ingress in the core, redirected to an
        # ifb whose tbf is the uplink, so the queue builds in the network, not
        # in the sender's own qdisc.
        rate = n["uplink_bps"]
        burst = max(int(rate / 8 * 0.005), 4500)
        limit = max(int(rate / 8 * n["queue_ms"] / 1000), 3 * burst, 30000)
        n["tbf"] = {"rate_bps": rate, "burst_bytes": burst, "limit_bytes": limit}
        self.ns_ip(self.core, "link", "add", ifb, "type", "ifb")
        self.ns_ip(self.core, "link", "set", ifb, "txqueuelen", "1000")
        self.ns_ip(self.core, "link", "set", ifb, "up")
        self.ns_tc(self.core, "qdisc", "add", "dev", ifb, "root", "tbf", "rate", f"{rate}bit",
                   "burst", str(burst), "limit", str(limit))
        self.ns_tc(self.core, "qdisc", "add", "dev", veth, "handle", "ffff:", "ingress")
        self.ns_tc(self.core, "filter", "add", "dev", veth, "parent", "ffff:", "protocol", "all",
                   "u32", "match", "u32", "0", "0", "action", "mirred", "egress", "redirect",
                   "dev", ifb)

    def start_delay_line(self):
        argv = [self.tools["vt-delay-line"], "--tun", "tun0", "--stats-interval", "1s"]
        for n in self.sc["node_list"]:
            argv += ["--delay", f"{n['addr']}={n['delay_ms']}ms"]
        self.delay_log = open(os.path.join(self.out, "delay_line.jsonl"), "w")
        self.delay_line = self.spawn(self.core, argv, stdout=subprocess.PIPE,
                                     stderr=self.delay_log, text=True)
        first = self.delay_line.stdout.readline()
        if '"ready"' not in first:
            raise LabError(f"the delay line did not start: {first.strip() or 'no output'}")
        self.delay_log.write(first)
        self.delay_stats = {}

        def pump():
            for line in self.delay_line.stdout:
                self.delay_log.write(line)
                try:
                    self.delay_stats = json.loads(line).get("data", {})
                except json.JSONDecodeError:
                    pass

        threading.Thread(target=pump, daemon=True).start()
        self.ns_ip(self.core, "link", "set", "tun0", "up")
        self.ns_ip(self.core, "route", "add", "default", "dev", "tun0", "table", "100")

    def send_queue(self, ns):
        """The sum of Send-Q over a namespace's TCP sockets, in bytes."""
        r = subprocess.run([self.ip, "netns", "exec", ns, self.ss, "-tnH"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True)
        if r.returncode != 0:
            return None
        total = 0
        for line in r.stdout.splitlines():
            f = line.split()
            if len(f) >= 3 and f[2].isdigit():
                total += int(f[2])
        return total

    def qdisc_stats(self):
        """{ifb: (bytes sent, drops, backlog bytes)} for every node's shaper."""
        r = subprocess.run([self.tc, "-n", self.core, "-s", "-j", "qdisc", "show"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        out = {}
        try:
            for q in json.loads(r.stdout or "[]"):
                if q.get("kind") == "tbf":
                    out[q["dev"]] = (q.get("bytes", 0), q.get("drops", 0), q.get("backlog", 0))
        except (json.JSONDecodeError, KeyError):
            pass
        return out

    def close(self):
        """Kills what this run started (by pid) and removes its namespaces."""
        if self.closed:
            return
        self.closed = True
        for p in self.procs:
            if p.poll() is None:
                try:
                    p.send_signal(signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for p in self.procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                log(f"process {p.pid} did not die")
        for ns in reversed(self.namespaces):
            subprocess.run([self.ip, "netns", "del", ns], stderr=subprocess.DEVNULL)
        self.namespaces = []


def remove_stale_namespaces(ip):
    """Removes namespaces of lab runs whose orchestrator is gone (SIGKILL)."""
    r = subprocess.run([ip, "netns", "list"], stdout=subprocess.PIPE, text=True)
    for line in r.stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        m = re.fullmatch(NS_PREFIX + r"(\d+)-(core|\d+|\d+nat2?)", name)
        if m and not os.path.exists(f"/proc/{m.group(1)}"):
            log(f"removing stale namespace {name}")
            subprocess.run([ip, "netns", "del", name], stderr=subprocess.DEVNULL)


# ---------------------------------------------------------------- the stream

def make_stream(sc, path):
    """A CBR H.264 + AAC MPEG-TS file of the scenario's rate and duration."""
    st = sc["stream"]
    rate, dur, gop = st["rate_bps"], float(st["duration_s"]), float(st["gop_s"])
    audio = 64000
    # TS and PES headers cost about 6 % at these rates; aim the video below.
    video = max(100000, int(rate * 0.94) - audio)
    size = st.get("size", "640x360")
    cmd = [find_tool("ffmpeg"), "-hide_banner", "-loglevel", "error", "-y",
           "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=25",
           "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
           "-t", f"{dur}", "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency",
           "-b:v", f"{video}", "-minrate", f"{video}", "-maxrate", f"{video}",
           "-bufsize", f"{video // 2}", "-x264-params", "nal-hrd=cbr",
           "-g", f"{int(25 * gop)}", "-c:a", "aac", "-b:a", f"{audio}",
           "-f", "mpegts", path]
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise LabError(f"ffmpeg could not make the stream: {r.stderr.strip()}")


class Feeder:
    """ffmpeg -re plays the file live; every byte it writes is copied into the
    source's stdin and into fed.ts, with the time it entered the source."""

    def __init__(self, lab, media, source_stdin, out_dir):
        self.proc = subprocess.Popen(
            [find_tool("ffmpeg"), "-hide_banner", "-loglevel", "error", "-re", "-i", media,
             "-c", "copy", "-flush_packets", "1", "-f", "mpegts", "-"],
            stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
            stderr=open(os.path.join(out_dir, "feeder.log"), "w"),
            preexec_fn=_die_with_parent, start_new_session=True)
        lab.procs.append(self.proc)
        self.dst = source_stdin
        self.path = os.path.join(out_dir, "fed.ts")
        self.times, self.ends = [], []  # byte offset ends[i] was written at times[i]
        self.start_t = None
        self.end_t = None
        self.error = None
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        src = self.proc.stdout.fileno()
        total = 0
        with open(self.path, "wb") as f:
            try:
                while True:
                    data = os.read(src, 65536)
                    if not data:
                        break
                    if self.start_t is None:
                        self.start_t = time.monotonic()
                    view = memoryview(data)
                    while view:
                        n = os.write(self.dst, view)
                        view = view[n:]
                    total += len(data)
                    self.times.append(time.monotonic())
                    self.ends.append(total)
                    f.write(data)
            except OSError as e:
                self.error = f"writing to the source: {e.strerror}"
        self.end_t = time.monotonic()
        try:
            os.close(self.dst)
        except OSError:
            pass

    def entered(self, offset):
        """When the byte at `offset` entered the source."""
        i = bisect.bisect_right(self.ends, offset)
        return self.times[min(i, len(self.times) - 1)]


class ViewerReader:
    """Reads a sink's stdout into a file, noting when each byte came out."""

    def __init__(self, name, fd, out_dir):
        self.path = os.path.join(out_dir, f"{name}.ts")
        self.fd = fd
        self.times, self.ends = [], []
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        total = 0
        with open(self.path, "wb") as f:
            while True:
                try:
                    data = os.read(self.fd, 65536)
                except OSError:
                    break
                if not data:
                    break
                total += len(data)
                self.times.append(time.monotonic())
                self.ends.append(total)
                f.write(data)
        os.close(self.fd)


# ---------------------------------------------------------------- analysis

def align(inp, out):
    """Where each piece of a viewer's output sits in the input.

    Returns (segments, foreign): segments are (out_offset, in_offset, length),
    in output order; foreign counts output bytes found nowhere in the input.
    Output is TS packets, so mismatches are searched 188 bytes at a time.
    """
    segs, foreign = [], 0
    n, m = len(out), len(inp)
    mo, mi = memoryview(out), memoryview(inp)
    q, p = 0, 0
    cur = None  # [out_start, in_start, length]
    while q < n:
        if cur is not None and p < m and mo[q:q + 1] == mi[p:p + 1]:
            step = 65536
            while step >= 1:
                while q + step <= n and p + step <= m and mo[q:q + step] == mi[p:p + step]:
                    q += step
                    p += step
                    cur[2] += step
                step = {65536: 4096, 4096: 188, 188: 1}.get(step, 0)
            if q >= n:
                break
            if p < m and mo[q:q + 1] == mi[p:p + 1]:
                continue
        # A jump: find the next output bytes elsewhere in the input.
        found = -1
        for k in (min(4096, n - q), min(188, n - q)):
            key = bytes(mo[q:q + k])
            found = inp.find(key, p)
            if found < 0:
                found = inp.find(key)
            if found >= 0:
                break
        if found < 0:
            skip = min(188, n - q)
            foreign += skip
            q += skip
            cur = None
            continue
        cur = [q, found, 0]
        segs.append(cur)
        p = found
    return [tuple(s) for s in segs if s[2] > 0], foreign


def percentile(values, pct):
    if not values:
        return None
    v = sorted(values)
    k = max(0, min(len(v) - 1, math.ceil(pct / 100 * len(v)) - 1))
    return v[k]


def analyse_viewer(node, reader, feeder, fed):
    out = open(reader.path, "rb").read() if os.path.exists(reader.path) else b""
    res = {"bytes": len(out)}
    if not out:
        res.update(start_offset=None, identical=False, complete=False, gaps=0,
                   missing_bytes=None, tail_missing_bytes=None, repeats=0, foreign_bytes=0)
        return res, []
    segs, foreign = align(fed, out)
    gaps, missing, repeats = 0, 0, 0
    for a, b in zip(segs, segs[1:]):
        expected = a[1] + a[2]
        if b[1] > expected:
            gaps += 1
            missing += b[1] - expected
        elif b[1] < expected:
            repeats += 1
    start = segs[0][1] if segs else None
    end = segs[-1][1] + segs[-1][2] if segs else 0
    tail = max(0, len(fed) - end)
    complete = bool(segs) and gaps == 0 and repeats == 0 and foreign == 0 and tail == 0
    res.update(start_offset=start, identical=complete and start == 0 and len(out) == len(fed),
               complete=complete, gaps=gaps, missing_bytes=missing, tail_missing_bytes=tail,
               repeats=repeats, foreign_bytes=foreign)
    # Delay behind live: at time t, t minus the time the newest byte the viewer
    # had written by t entered the source; sampled every 100 ms from its first
    # byte until the end of the feed.
    seg_starts = [s[0] for s in segs]

    def in_offset(out_off):
        i = bisect.bisect_right(seg_starts, out_off) - 1
        if i < 0:
            return None
        s = segs[i]
        return s[1] + min(out_off - s[0], s[2] - 1)

    ev_t, ev_in = [], []
    for t, e in zip(reader.times, reader.ends):
        x = in_offset(e - 1)
        if x is not None:
            ev_t.append(t)
            ev_in.append(feeder.entered(x))
    series = []
    if ev_t:
        g = ev_t[0]
        while g <= feeder.end_t + 1e-9:
            j = bisect.bisect_right(ev_t, g) - 1
            if j >= 0:
                series.append((g, g - ev_in[j]))
            g += 0.1
    return res, series


def parse_node_log(path, t0_wall, liar_after_s):
    """Last error, warning count, children over time, from a tool's stderr."""
    info = {"last_error": None, "errors": 0, "warnings": 0, "children_max": 0,
            "children_end": None, "children_after": 0, "rtt_ms_max": None, "tool_gaps": None,
            "rate_out_bps_max": 0, "joined_s": None, "reachable": None,
            "punches": 0, "punched": 0}
    listening_t = None
    try:
        lines = open(path, errors="replace").read().splitlines()
    except OSError:
        return info
    for line in lines:
        try:
            ev = json.loads(line)
            data = ev.get("data", {})
        except json.JSONDecodeError:
            if line.strip():
                info["last_error"] = line.strip()[:300]
                info["errors"] += 1
            continue
        if ev.get("event") == "log":
            level = data.get("level")
            # The tool's own join: from listening to every stripe joined.
            msg = data.get("msg", "")
            if msg == "listening" and listening_t is None:
                listening_t = ev.get("time")
            elif msg == "joined all stripes" and info["joined_s"] is None and listening_t:
                info["joined_s"] = round(ev.get("time", listening_t) - listening_t, 3)
            elif msg == "reachable":
                info["reachable"] = True
            elif msg == "reached the adopter by hole punching":
                info["punches"] += 1
                info["punched"] += 1
            elif msg == "could not punch through to the adopter":
                info["punches"] += 1
            elif msg.startswith("not reachable"):
                info["reachable"] = False
            if level in ("error", "warn"):
                info["errors" if level == "error" else "warnings"] += 1
                extra = " ".join(f"{k}={v}" for k, v in data.items()
                                 if k not in ("level", "tool", "msg"))
                text = f"{data.get('msg', '')} {extra}".strip()[:300]
                if level == "error" or info["last_error"] is None:
                    info["last_error"] = text
        elif ev.get("event") == "stats":
            ch = data.get("children", 0)
            info["children_max"] = max(info["children_max"], ch)
            info["children_end"] = ch
            if ev.get("time", 0) - t0_wall >= liar_after_s:
                info["children_after"] = max(info["children_after"], ch)
            rtt = data.get("rtt_ms")
            if rtt is not None and rtt >= 0:
                info["rtt_ms_max"] = max(info["rtt_ms_max"] or 0, rtt)
            info["tool_gaps"] = data.get("gaps")
            info["rate_out_bps_max"] = max(info["rate_out_bps_max"], data.get("rate_out_bps", 0))
    return info


# ---------------------------------------------------------------- the run

class Run:
    def __init__(self, sc, tools, out_dir, args):
        self.sc, self.tools, self.out, self.args = sc, tools, out_dir, args
        self.lab = Lab(sc, tools, out_dir)
        self.nodes = sc["node_list"]
        self.samples = {}  # ifb -> list of (t, bytes, drops, backlog)
        self.stop_sampling = threading.Event()

    def node_argv(self, n, source_id, source_addr):
        tool = {"source": "vt-source", "relay": "vt-relay", "sink": "vt-sink"}[n["role"]]
        listen = {"private": [f"{n['private_addr']}:{PORT}"], "all": [f"0.0.0.0:{PORT}"],
                  "none": []}[n["listen"]]
        argv = [self.tools[tool]] + (["--listen"] + listen if listen else []) + [
                "--stream-rate", rate_flag(self.sc["stream"]["rate_bps"]),
                "--stats-interval", "1s", "--json", "--log-format", "json"]
        if n["role"] == "source":
            argv += ["--key", self.source_key, "--stripes", str(self.sc["stripes"])]
        else:
            argv += ["--source-key", source_id]
            by_name = {x["name"]: x for x in self.nodes}
            for j in n["join"]:
                target = source_addr if j == "source" else f"{by_name[j]['addr']}:{PORT}"
                argv += ["--join", target]
        if n["max_children"] is not None:
            argv += ["--max-children", str(n["max_children"])]
        elif n["upload_bps"] is not None:
            argv += ["--upload", rate_flag(n["upload_bps"])]
        return argv + n["flags"]

    def sampler(self):
        period = 0.2
        next_rss = 0.0
        while not self.stop_sampling.is_set():
            t = time.monotonic()
            for dev, (b, d, backlog) in self.lab.qdisc_stats().items():
                self.samples.setdefault(dev, []).append((t, b, d, backlog))
            if t >= next_rss:
                next_rss = t + 1.0
                for n in self.nodes:
                    p = n.get("proc")
                    if p is not None and p.poll() is None:
                        rss, hwm = read_rss(p.pid)
                        if hwm:
                            n["rss_peak_kb"] = max(n.get("rss_peak_kb", 0), hwm, rss or 0)
                        # Bytes the node's sockets hold unsent: the queue in
                        # the host, which the shaper's backlog does not show.
                        q = self.lab.send_queue(n["ns"])
                        if q is not None:
                            n["sendq_peak_bytes"] = max(n.get("sendq_peak_bytes", 0), q)
            self.stop_sampling.wait(period)

    def run(self):
        sc, out = self.sc, self.out
        log(f"scenario {sc['name']}: {len(self.nodes)} nodes, "
            f"{fmt_rate(sc['stream']['rate_bps'])} stream for {sc['stream']['duration_s']} s, "
            f"output in {out}")
        media = os.path.join(out, "input.ts")
        make_stream(sc, media)
        self.source_key = os.path.join(out, "source.key")
        r = subprocess.run([self.tools["vt-keygen"], "-o", self.source_key, "--force"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            raise LabError(f"vt-keygen: {r.stderr.strip()}")
        source_id = r.stdout.strip().split()[-1]
        self.lab.build()
        log(f"network up: {len(self.nodes)} namespaces in {self.lab.core}")

        src = self.nodes[0]
        source_addr = f"{src['addr']}:{PORT}"
        rfd, wfd = os.pipe()
        src["log"] = os.path.join(out, f"{src['name']}.log")
        src["proc"] = self.lab.spawn(src["ns"], self.node_argv(src, source_id, source_addr),
                                     stdin=rfd, stdout=subprocess.DEVNULL,
                                     stderr=open(src["log"], "w"))
        os.close(rfd)
        # The source is up once it logs where it listens.
        deadline = time.monotonic() + 10
        while "listening" not in open(src["log"]).read():
            if src["proc"].poll() is not None or time.monotonic() > deadline:
                raise LabError(f"the source did not start: {tail_line(src['log'])}")
            time.sleep(0.05)
        # Time 0 is when the stream starts; nodes with a negative start_s are
        # up before it (early joiners), so the feed waits for them.
        lead = max([0.0] + [-n["start_s"] for n in self.nodes[1:]])
        src["start_s"] = -lead
        src["started"] = time.monotonic()
        t0 = src["started"] + lead
        self.t0_wall = time.time() + lead
        feeder = None
        sampler = threading.Thread(target=self.sampler, daemon=True)
        sampler.start()

        pending = sorted(self.nodes[1:], key=lambda n: n["start_s"])
        stops = sorted((n for n in self.nodes if n["stop_s"] is not None),
                       key=lambda n: float(n["stop_s"]))
        readers = {}
        while pending or stops or feeder is None or feeder.thread.is_alive():
            now = time.monotonic() - t0
            if feeder is None and now >= 0:
                feeder = Feeder(self.lab, media, wfd, out)
                feeder.thread.start()
            while pending and pending[0]["start_s"] <= now:
                n = pending.pop(0)
                n["log"] = os.path.join(out, f"{n['name']}.log")
                argv = self.node_argv(n, source_id, source_addr)
                stdout = subprocess.PIPE if n["role"] == "sink" else subprocess.DEVNULL
                n["started"] = time.monotonic()
                n["proc"] = self.lab.spawn(n["ns"], argv, stdin=subprocess.DEVNULL,
                                           stdout=stdout, stderr=open(n["log"], "w"))
                if n["role"] == "sink":
                    fd = os.dup(n["proc"].stdout.fileno())
                    n["proc"].stdout.close()
                    readers[n["name"]] = ViewerReader(n["name"], fd, out)
            while stops and float(stops[0]["stop_s"]) <= now:
                n = stops.pop(0)
                if n.get("proc") is not None and n["proc"].poll() is None:
                    n["stopped_by_lab"] = True
                    n["proc"].send_signal(signal.SIGTERM)
            self.note_exits()
            if feeder and feeder.thread.is_alive() and now > float(sc["stream"]["duration_s"]) + 30:
                # The source stopped reading its stdin: the feeder is blocked
                # on a full pipe. End the feed (its writes then fail).
                log("the source stopped reading its input; ending the feed")
                feeder.error = feeder.error or "the source stopped reading"
                for p in (feeder.proc, src["proc"]):
                    if p.poll() is None:
                        p.kill()
                feeder.thread.join(timeout=5)
            time.sleep(0.02)
        if feeder.error:
            log(f"feeder: {feeder.error}")
        log(f"stream fed: {feeder.ends[-1] if feeder.ends else 0} bytes in "
            f"{(feeder.end_t or t0) - t0:.1f} s; waiting for the viewers to finish")

        # The stream has ended: sinks should write the rest and exit by
        # themselves; the source and relays linger, then exit.
        deadline = time.monotonic() + float(sc["drain_s"])
        while time.monotonic() < deadline:
            self.note_exits()
            if all(n["proc"].poll() is not None for n in self.nodes if n.get("proc")):
                break
            time.sleep(0.1)
        for n in self.nodes:
            p = n.get("proc")
            if p is not None and p.poll() is None:
                n["hung"] = True
                p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(
                n["proc"].poll() is None for n in self.nodes if n.get("proc")):
            time.sleep(0.1)
        for n in self.nodes:
            p = n.get("proc")
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()
        self.note_exits()
        for r in readers.values():
            r.thread.join(timeout=10)
        self.stop_sampling.set()
        sampler.join(timeout=5)
        self.lab.delay_line.send_signal(signal.SIGTERM)
        try:
            self.lab.delay_line.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        time.sleep(0.1)
        return self.report(t0, feeder, readers)

    def note_exits(self):
        for n in self.nodes:
            p = n.get("proc")
            if p is not None and "ended" not in n and p.poll() is not None:
                n["ended"] = time.monotonic()

    def report(self, t0, feeder, readers):
        sc = self.sc
        fed = open(feeder.path, "rb").read()
        expect = sc["expect"]
        liar_after = float(expect.get("liars_no_children_after_s", 15))
        events = []
        all_delays = []
        for n in self.nodes:
            info = parse_node_log(n.get("log", ""), self.t0_wall, liar_after)
            p = n.get("proc")
            rc = p.returncode if p is not None else None
            samples = self.samples.get(n["ifb"], [])
            node = {
                "name": n["name"], "role": n["role"], "addr": n["addr"],
                "uplink_bps": n["uplink_bps"], "declared_upload_bps": n["upload_bps"],
                "max_children_flag": n["max_children"], "liar": n["liar"],
                "delay_ms": n["delay_ms"], "start_s": round(n["start_s"], 3),
                "exit_code": rc if rc is None or rc >= 0 else f"signal {-rc}",
                "hung": bool(n.get("hung")), "stopped_by_lab": bool(n.get("stopped_by_lab")),
                "ended_s": round(n["ended"] - t0, 2) if "ended" in n else None,
                "last_error": info["last_error"], "errors": info["errors"],
                "warnings": info["warnings"],
                "nat": n["nat"], "firewall": n["firewall"], "reachable": info["reachable"],
                "punches": info["punches"], "punched": info["punched"],
                "children_max": info["children_max"], "children_end": info["children_end"],
                f"children_after_{liar_after:g}s": info["children_after"],
                "rtt_ms_max": info["rtt_ms_max"], "rss_peak_kb": n.get("rss_peak_kb"),
                "sendq_peak_bytes": n.get("sendq_peak_bytes", 0),
                # The same queue in time: how long the uplink needs to send it.
                "sendq_peak_ms": round(n.get("sendq_peak_bytes", 0) * 8 / n["uplink_bps"] * 1000,
                                       1),
            }
            node.update(upload_stats(samples, n["tbf"], n.get("started", t0),
                                     n.get("ended", feeder.end_t or t0)))
            events.append({"event": "node", "data": node})
            if n["role"] == "sink":
                r = readers.get(n["name"])
                v = {"name": n["name"], "exit_code": node["exit_code"],
                     "last_error": node["last_error"], "start_s": node["start_s"],
                     "tool_gaps": info["tool_gaps"], "hung": node["hung"],
                     "joined_s": info["joined_s"], "nat": n["nat"],
                     "reachable": info["reachable"]}
                if r is None:
                    v.update(bytes=0, join_s=None)
                    events.append({"event": "viewer", "data": v})
                    continue
                res, series = analyse_viewer(n, r, feeder, fed)
                v.update(res)
                # From its start, or from the stream's start if it came earlier.
                v["join_s"] = round(r.times[0] - max(n["started"], t0), 3) if r.times else None
                d = [x[1] for x in series]
                last20 = [x[1] for x in series if x[0] >= feeder.end_t - 20]
                v["delay_p50_s"] = rnd(percentile(d, 50))
                v["delay_p95_s"] = rnd(percentile(d, 95))
                v["delay_max_s"] = rnd(max(d) if d else None)
                v["delay_last20_p95_s"] = rnd(percentile(last20, 95))
                v["delay_last20_max_s"] = rnd(max(last20) if last20 else None)
                # One value a second (the worst of that second), for plots.
                per_s = {}
                for t, x in series:
                    k = int(t - t0)
                    per_s[k] = max(per_s.get(k, 0), x)
                v["delay_by_second"] = {"from_s": min(per_s) if per_s else None,
                                        "values": [rnd(per_s[k]) for k in sorted(per_s)]}
                all_delays += d
                events.append({"event": "viewer", "data": v})
                if not self.args.keep_media:
                    os.unlink(r.path)
        checks = evaluate(expect, events)
        viewers = [e["data"] for e in events if e["event"] == "viewer"]
        nodes = [e["data"] for e in events if e["event"] == "node"]
        summary = {
            "scenario": sc["name"], "nodes": len(nodes), "viewers": len(viewers),
            "stream_bytes": len(fed),
            "stream_rate_bps": int(len(fed) * 8 / max(0.001, feeder.end_t - feeder.start_t))
            if feeder.start_t else 0,
            "fed_s": round((feeder.end_t or t0) - t0, 2),
            "viewers_complete": sum(1 for v in viewers if v.get("complete")),
            "viewers_identical": sum(1 for v in viewers if v.get("identical")),
            "viewers_without_bytes": sum(1 for v in viewers if not v.get("bytes")),
            "nonzero_exits": sum(1 for x in nodes if x["exit_code"] not in (0,)),
            "gaps": sum(v.get("gaps") or 0 for v in viewers),
            "missing_bytes": sum((v.get("missing_bytes") or 0) + (v.get("tail_missing_bytes") or 0)
                                 for v in viewers),
            "delay_p50_s": rnd(percentile(all_delays, 50)),
            "delay_p95_s": rnd(percentile(all_delays, 95)),
            # Over the viewers that played something (None when none did).
            "worst_viewer_delay_p95_s": worst(viewers, "delay_p95_s"),
            "worst_viewer_delay_last20_p95_s": worst(viewers, "delay_last20_p95_s"),
            "join_s_max": worst(viewers, "join_s"),
            "source_upload_ratio": next(x["upload_ratio"] for x in nodes if x["role"] == "source"),
            "source_queue_peak_ms": next(x["queue_peak_ms"] for x in nodes
                                         if x["role"] == "source"),
            "queue_peak_ms_max": max(x["queue_peak_ms"] for x in nodes),
            "source_sendq_peak_bytes": next(x["sendq_peak_bytes"] for x in nodes
                                            if x["role"] == "source"),
            "source_sendq_peak_ms": next(x["sendq_peak_ms"] for x in nodes
                                         if x["role"] == "source"),
            "sendq_peak_bytes_max": max(x["sendq_peak_bytes"] for x in nodes),
            "rss_peak_kb_max": max((x["rss_peak_kb"] or 0) for x in nodes),
            # Hole punches a joiner tried toward an adopter nobody can dial
            # (both behind NATs), and those that connected.
            "punches": sum(x["punches"] for x in nodes),
            "punched": sum(x["punched"] for x in nodes),
            "liar_children_after": max((x[f"children_after_{liar_after:g}s"] for x in nodes
                                        if x["liar"]), default=None),
            # Every byte between nodes crossed the delay line (IP headers, TCP,
            # records, control, ACKs); against one copy of the stream per
            # receiver, that is the overlay's cost on the wire.
            "wire_bytes": self.lab.delay_stats.get("bytes_in"),
            "wire_overhead_pct": rnd(100 * (self.lab.delay_stats.get("bytes_in", 0) /
                                            max(1, (len(nodes) - 1) * len(fed)) - 1), 1)
            if all(v.get("complete") for v in viewers) and
            not any(x["stopped_by_lab"] for x in nodes) else None,
            "delay_line": self.lab.delay_stats,
            "checks": checks,
            "ok": all(c["ok"] for c in checks),
        }
        events.append({"event": "summary", "data": summary})
        return events


def worst(viewers, field):
    values = [v[field] for v in viewers if v.get(field) is not None]
    return rnd(max(values)) if values else None


def rnd(x, digits=3):
    return None if x is None else round(x, digits)


def read_rss(pid):
    rss = hwm = None
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    except OSError:
        pass
    return rss, hwm


def tail_line(path):
    try:
        lines = [x for x in open(path, errors="replace").read().splitlines() if x.strip()]
        return lines[-1] if lines else "no output"
    except OSError:
        return "no log"


def upload_stats(samples, tbf, start, end):
    """Upload used against the budget (the tbf rate), and the shaper's queue."""
    rate = tbf["rate_bps"]
    res = {"budget_bps": rate, "upload_bps": None, "upload_ratio": None,
           "upload_peak_1s_bps": None, "queue_peak_bytes": 0, "queue_peak_ms": 0.0,
           "shaper_drops": 0, "sent_bytes": 0}
    if not samples:
        return res
    res["sent_bytes"] = samples[-1][1]
    res["shaper_drops"] = samples[-1][2]
    peak = max(s[3] for s in samples)
    res["queue_peak_bytes"] = peak
    res["queue_peak_ms"] = round(peak * 8 / rate * 1000, 1)
    active = [s for s in samples if start <= s[0] <= end]
    if len(active) >= 2 and active[-1][0] > active[0][0]:
        bps = (active[-1][1] - active[0][1]) * 8 / (active[-1][0] - active[0][0])
        res["upload_bps"] = int(bps)
        res["upload_ratio"] = round(bps / rate, 3)
        best, j = 0, 0
        for i in range(len(active)):
            while active[i][0] - active[j][0] > 1.0:
                j += 1
            if active[i][0] - active[j][0] >= 0.8:
                best = max(best, (active[i][1] - active[j][1]) * 8 / (active[i][0] - active[j][0]))
        res["upload_peak_1s_bps"] = int(best)
    return res


# ---------------------------------------------------------------- expectations

def evaluate(expect, events):
    """The scenario's checks: [{"check", "ok", "detail"}]."""
    viewers = [e["data"] for e in events if e["event"] == "viewer"]
    nodes = [e["data"] for e in events if e["event"] == "node"]
    checks = []

    def check(name, bad, what):
        checks.append({"check": name, "ok": not bad,
                       "detail": f"{what}: " + ", ".join(bad) if bad else "ok"})

    refuse_s = expect.get("refused_within_s")

    def refused(v):
        return refuse_s is not None and v is not None and not v.get("bytes")

    def refused_relay(x):
        # A relay that joins a full overlay is refused like a viewer: it
        # exits 1 saying "no capacity" (checked in time below).
        return (refuse_s is not None and x["role"] == "relay" and x["exit_code"] == 1
                and "no capacity" in (x.get("last_error") or ""))

    if expect.get("exit_zero", False):
        bad = [f"{x['name']}={x['exit_code']}{' (hung)' if x['hung'] else ''}" for x in nodes
               if (x["exit_code"] != 0 or x["hung"]) and not x["stopped_by_lab"]
               and not refused(next((v for v in viewers if v["name"] == x["name"]), None))
               and not refused_relay(x)]
        check("exit_zero", bad, "exit codes")
    if expect.get("complete", False):
        bad = [f"{v['name']} ({viewer_status(v)})" for v in viewers
               if not v.get("complete") and not refused(v)]
        check("complete", bad, "incomplete viewers")
    if expect.get("early_identical_s") is not None:
        lim = float(expect["early_identical_s"])
        early = [v for v in viewers if v["start_s"] <= lim and not refused(v)]
        bad = [v["name"] for v in early if not v.get("identical")]
        check("early_identical", bad, f"viewers started by {lim:g} s not byte-identical")
        checks[-1]["detail"] += f" ({len(early)} viewers started by {lim:g} s)"
    if refuse_s is not None:
        bad = []
        for v in viewers:
            if v.get("bytes"):
                continue
            x = next(n for n in nodes if n["name"] == v["name"])
            took = None if x["ended_s"] is None else x["ended_s"] - x["start_s"]
            if took is None or took > float(refuse_s) or x["exit_code"] in (0, None):
                bad.append(f"{v['name']} (exit {x['exit_code']} after {took} s)")
        for x in nodes:
            took = None if x["ended_s"] is None else x["ended_s"] - x["start_s"]
            if refused_relay(x) and (took is None or took > float(refuse_s)):
                bad.append(f"{x['name']} (exit 1 after {took} s)")
        check("refused_within_s", bad, "refused viewers and relays not told in time")
    for key, field in (("max_gaps", "gaps"),):
        if key in expect:
            bad = [f"{v['name']}={v.get(field)}" for v in viewers
                   if (v.get(field) or 0) > expect[key]]
            check(key, bad, "gaps")
    for key, field in (("delay_p95_s", "delay_p95_s"),
                       ("delay_last20_p95_s", "delay_last20_p95_s"),
                       ("delay_last20_max_s", "delay_last20_max_s"),
                       ("join_s", "join_s"),
                       ("joined_s", "joined_s")):
        if key in expect:
            lim = float(expect[key])
            # A viewer that played nothing fails these too (unless it was
            # refused, when the scenario allows that).
            bad = [f"{v['name']}={v.get(field)}" for v in viewers
                   if not refused(v) and (v.get(field) is None or v[field] > lim)]
            check(key, bad, f"over {lim:g} s")
    if "queue_peak_ms" in expect:
        lim = float(expect["queue_peak_ms"])
        bad = [f"{x['name']}={x['queue_peak_ms']}" for x in nodes if x["queue_peak_ms"] > lim]
        check("queue_peak_ms", bad, f"shaper queues over {lim:g} ms")
    if "source_queue_peak_ms" in expect:
        lim = float(expect["source_queue_peak_ms"])
        bad = [f"{x['name']}={x['queue_peak_ms']}" for x in nodes
               if x["role"] == "source" and x["queue_peak_ms"] > lim]
        check("source_queue_peak_ms", bad, f"source queue over {lim:g} ms")
    if "source_sendq_peak_ms" in expect:
        lim = float(expect["source_sendq_peak_ms"])
        bad = [f"{x['name']}={x['sendq_peak_ms']}" for x in nodes
               if x["role"] == "source" and x["sendq_peak_ms"] > lim]
        check("source_sendq_peak_ms", bad, f"source's sockets held more than {lim:g} ms of uplink")
    if "liars_no_children_after_s" in expect:
        key = f"children_after_{float(expect['liars_no_children_after_s']):g}s"
        bad = [f"{x['name']}={x[key]}" for x in nodes if x["liar"] and x[key] > 0]
        check("liars_no_children", bad, "liars holding children")
    if expect.get("nat_serves", False):
        # A NATed node that uploads feeds children it dialed (connection
        # reversal): at least one of them held a child.
        natted = [x for x in nodes if x.get("nat")]
        bad = [] if any(x["children_max"] > 0 for x in natted) else [
            f"{x['name']}=0" for x in natted]
        check("nat_serves", bad, "no NATed node held a child")
    if expect.get("nat_punches", False):
        # Two nodes behind NATs connected by hole punching at least once.
        tried = sum(x["punches"] for x in nodes)
        ok = sum(x["punched"] for x in nodes)
        check("nat_punches", [] if ok > 0 else [f"{ok} of {tried} punches connected"],
              "no hole punch connected")
    if "rss_peak_mb" in expect:
        lim = float(expect["rss_peak_mb"])
        bad = [f"{x['name']}={(x['rss_peak_kb'] or 0) / 1024:.0f}" for x in nodes
               if (x["rss_peak_kb"] or 0) / 1024 > lim]
        check("rss_peak_mb", bad, f"RSS over {lim:g} MB")
    return checks


def viewer_status(v):
    if not v.get("bytes"):
        return "no bytes"
    if v.get("identical"):
        return "identical"
    parts = []
    if v.get("start_offset"):
        parts.append(f"from {v['start_offset'] / 1e6:.2f}MB")
    if v.get("complete"):
        return "complete " + " ".join(parts)
    if v.get("gaps"):
        parts.append(f"{v['gaps']} gaps -{v['missing_bytes'] / 1e3:.0f}kB")
    if v.get("tail_missing_bytes"):
        parts.append(f"tail -{v['tail_missing_bytes'] / 1e3:.0f}kB")
    if v.get("repeats"):
        parts.append(f"{v['repeats']} repeats")
    if v.get("foreign_bytes"):
        parts.append(f"{v['foreign_bytes']}B foreign")
    return " ".join(parts)


# ---------------------------------------------------------------- output

def table(events, file):
    viewers = [e["data"] for e in events if e["event"] == "viewer"]
    nodes = {e["data"]["name"]: e["data"] for e in events if e["event"] == "node"}
    summary = next(e["data"] for e in events if e["event"] == "summary")

    def fmt(x, spec="{:.2f}"):
        return "-" if x is None else spec.format(x)

    def row(cells, widths):
        return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()

    print(f"\n== {summary['scenario']}: {summary['nodes']} nodes, stream "
          f"{fmt_rate(summary['stream_rate_bps'])} for {summary['fed_s']} s", file=file)
    w = [10, 6, 6, 5, 6, 8, 30, 6, 6, 7, 7]
    print(row(["viewer", "start", "join", "exit", "gaps", "MB", "bytes", "p50", "p95",
               "l20p95", "l20max"], w), file=file)
    for v in viewers:
        print(row([v["name"], fmt(v["start_s"], "{:.1f}"), fmt(v.get("join_s")),
                   v["exit_code"], v.get("gaps", 0), fmt(v["bytes"] / 1e6),
                   viewer_status(v)[:30], fmt(v.get("delay_p50_s")), fmt(v.get("delay_p95_s")),
                   fmt(v.get("delay_last20_p95_s")), fmt(v.get("delay_last20_max_s"))], w),
              file=file)
    print("", file=file)
    w = [10, 6, 6, 6, 7, 13, 6, 8, 7, 8, 6, 6, 6]
    print(row(["node", "role", "dly", "uplink", "decl", "used/budget", "upl%", "qpeak",
               "drops", "sendq", "chmax", "ch>", "RSS"], w), file=file)
    for x in nodes.values():
        print(row([x["name"], x["role"], f"{x['delay_ms']:g}ms", fmt_rate(x["uplink_bps"]),
                   fmt_rate(x["declared_upload_bps"]) + ("!" if x["liar"] else ""),
                   f"{fmt_rate(x['upload_bps'])}/{fmt_rate(x['budget_bps'])}",
                   fmt(None if x["upload_ratio"] is None else 100 * x["upload_ratio"], "{:.0f}"),
                   f"{x['queue_peak_ms']:.0f}ms", x["shaper_drops"],
                   f"{x['sendq_peak_bytes'] / 1e3:.0f}kB", x["children_max"],
                   next(v for k, v in x.items() if k.startswith("children_after_")),
                   fmt(None if x["rss_peak_kb"] is None else x["rss_peak_kb"] / 1024, "{:.0f}M")],
                  w), file=file)
    errs = [(x["name"], x["exit_code"], x["last_error"]) for x in nodes.values()
            if x["last_error"] and (x["exit_code"] != 0 or x["hung"])]
    if errs:
        print("", file=file)
        for name, rc, err in errs:
            print(f"{name} (exit {rc}): {err[:150]}", file=file)
    print("", file=file)
    for c in summary["checks"]:
        print(f"{'PASS' if c['ok'] else 'FAIL'} {c['check']}: {c['detail'][:200]}", file=file)
    if summary["punches"]:
        print(f"hole punches: {summary['punched']} of {summary['punches']} connected",
              file=file)
    print(f"== {summary['scenario']}: {'PASS' if summary['ok'] else 'FAIL'} "
          f"({summary['viewers_complete']}/{summary['viewers']} viewers complete, "
          f"{summary['nonzero_exits']} non-zero exits, delay p95 {fmt(summary['delay_p95_s'])} s)",
          file=file, flush=True)


def bench_lines(events):
    """The summary in scripts/bench's line format (bench/results/netlab.json)."""
    s = next(e["data"] for e in events if e["event"] == "summary")
    name = s["scenario"]
    rows = [
        ("viewers_complete_pct", 100 * s["viewers_complete"] / max(1, s["viewers"]), "%"),
        ("nonzero_exits", s["nonzero_exits"], "nodes"),
        ("gaps", s["gaps"], "gaps"),
        ("missing_bytes", s["missing_bytes"], "bytes"),
        ("delay_p50", s["delay_p50_s"], "s"),
        ("delay_p95", s["delay_p95_s"], "s"),
        ("worst_viewer_delay_p95", s["worst_viewer_delay_p95_s"], "s"),
        ("worst_viewer_delay_last20_p95", s["worst_viewer_delay_last20_p95_s"], "s"),
        ("join_max", s["join_s_max"], "s"),
        ("source_upload_ratio", s["source_upload_ratio"], "ratio"),
        ("source_queue_peak", s["source_queue_peak_ms"], "ms"),
        ("queue_peak_max", s["queue_peak_ms_max"], "ms"),
        ("source_sendq_peak", s["source_sendq_peak_bytes"], "bytes"),
        ("source_sendq_peak_time", s["source_sendq_peak_ms"], "ms"),
        ("sendq_peak_max", s["sendq_peak_bytes_max"], "bytes"),
        ("rss_peak_max", s["rss_peak_kb_max"], "kB"),
    ]
    if s["wire_overhead_pct"] is not None:
        rows.append(("wire_overhead", s["wire_overhead_pct"], "%"))
    if s["liar_children_after"] is not None:
        rows.append(("liar_children_after_15s", s["liar_children_after"], "children"))
    if s.get("punches"):
        rows.append(("punches", s["punches"], "tries"))
        rows.append(("punch_success", round(100 * s["punched"] / s["punches"], 1), "%"))
    rows.append(("checks_passed", sum(c["ok"] for c in s["checks"]), "checks"))
    for key, value, unit in rows:
        yield {"bench": f"netlab.{name}.{key}", "value": value, "unit": unit, "baseline": None,
               "baseline_value": None, "ratio": None}


# ---------------------------------------------------------------- calibration

# Run with `ip netns exec NS python3 -c`: a TCP server that echoes ("e") or
# counts bytes until EOF and answers "bytes seconds" ("s").
_CAL_SERVER = r"""
import socket, sys, threading, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 7100)); s.listen(8)
def serve(c):
    if c.recv(1) == b"e":
        while True:
            b = c.recv(64)
            if not b: break
            c.sendall(b)
    else:
        n, t0 = 0, None
        while True:
            b = c.recv(65536)
            if not b: break
            t0 = t0 or time.monotonic(); n += len(b)
        c.sendall(f"{n} {time.monotonic() - (t0 or time.monotonic())}".encode())
    c.close()
while True:
    c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
"""

# The client: idle round trips, then a bulk upload with round trips beside it.
_CAL_CLIENT = r"""
import json, socket, statistics, sys, threading, time
host, bulk_s = sys.argv[1], float(sys.argv[2])
def conn(mode):
    for _ in range(50):
        try:
            c = socket.create_connection((host, 7100)); break
        except OSError: time.sleep(0.1)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1); c.sendall(mode); return c
def ping(c):
    t = time.monotonic(); c.sendall(b"x"); c.recv(1); return (time.monotonic() - t) * 1000
e = conn(b"e"); idle = []
for _ in range(20):
    idle.append(ping(e)); time.sleep(0.05)
res = {}
def bulk():
    b = conn(b"s"); end = time.monotonic() + bulk_s; block = b"x" * 65536
    while time.monotonic() < end: b.sendall(block)
    b.shutdown(socket.SHUT_WR); n, secs = b.recv(100).split(); res.update(bytes=int(n), secs=float(secs))
t = threading.Thread(target=bulk); t.start(); time.sleep(1.0); loaded = []
while t.is_alive():
    loaded.append(ping(e)); time.sleep(0.1)
print(json.dumps({"idle_rtt_ms_min": min(idle), "idle_rtt_ms_median": statistics.median(idle),
                  "loaded_rtt_ms_median": statistics.median(loaded), "loaded_rtt_ms_max": max(loaded),
                  "goodput_bps": int(res["bytes"] * 8 / res["secs"])}))
"""


def calibrate(tools, out):
    """Measures the lab itself: round trips against the configured delays, and
    TCP goodput and queueing through a shaper, on two nodes."""
    spec = {"name": "calibrate", "queue_ms": 300, "nodes": [
        {"name": "a", "role": "source", "uplink": "4M", "delay_ms": 10},
        {"name": "b", "role": "sink", "uplink": "20M", "delay_ms": 25}]}
    path = os.path.join(out, "calibrate.json")
    with open(path, "w") as f:
        json.dump(spec, f)
    sc = load_scenario(path)
    lab = Lab(sc, tools, out)
    try:
        lab.build()
        a, b = sc["node_list"]
        lab.spawn(b["ns"], [sys.executable, "-c", _CAL_SERVER, b["addr"]],
                  stdout=subprocess.DEVNULL)
        client = lab.spawn(a["ns"], [sys.executable, "-c", _CAL_CLIENT, b["addr"], "6"],
                           stdout=subprocess.PIPE, text=True)
        peak = 0
        while client.poll() is None:
            peak = max(peak, lab.qdisc_stats().get(a["ifb"], (0, 0, 0))[2])
            time.sleep(0.1)
        res = json.loads(client.stdout.read() or "{}")
    finally:
        lab.close()
    expected_rtt = 2 * (a["delay_ms"] + b["delay_ms"])
    res.update(expected_rtt_ms=expected_rtt, uplink_bps=a["uplink_bps"],
               goodput_ratio=round(res.get("goodput_bps", 0) / a["uplink_bps"], 3),
               shaper_peak_bytes=peak, shaper_peak_ms=round(peak * 8 / a["uplink_bps"] * 1000, 1))
    for k, v in res.items():
        if isinstance(v, float):
            res[k] = round(v, 2)
    ok = (expected_rtt <= res.get("idle_rtt_ms_median", 0) <= expected_rtt + 10 and
          0.85 <= res["goodput_ratio"] <= 1.0)
    res["ok"] = ok
    print(json.dumps({"event": "calibration", "data": res}), flush=True)
    log(f"calibration: idle RTT {res.get('idle_rtt_ms_median')} ms (configured {expected_rtt}), "
        f"goodput {res['goodput_ratio']:.0%} of a {fmt_rate(a['uplink_bps'])} uplink, RTT under "
        f"load {res.get('loaded_rtt_ms_median')} ms (max {res.get('loaded_rtt_ms_max')}), shaper "
        f"peak {res['shaper_peak_ms']} ms: {'ok' if ok else 'OUT OF RANGE'}")
    return 0 if ok else 1


# ---------------------------------------------------------------- main

TOOLS = ("vt-source", "vt-relay", "vt-sink", "vt-keygen", "vt-delay-line")


def find_tools(root, names=TOOLS):
    tools = {}
    for t in names:
        for cand in (os.path.join(root, "cmd", t, t), os.path.join(root, "lab", t),
                     os.path.join(root, t)):
            if os.access(cand, os.X_OK) and os.path.isfile(cand):
                tools[t] = os.path.abspath(cand)
                break
        else:
            raise UsageError(f"{t} not found under {root} (give --bin-root bazel-bin)")
    return tools


def main(argv):
    ap = argparse.ArgumentParser(
        prog="netlab", description="Runs a VidTorrent scenario on a lab of network namespaces "
        "(docs/netlab.md).",
        epilog="example: lab/netlab.py testdata/netlab/smoke.json --bin-root bazel-bin")
    ap.add_argument("scenario", nargs="?", help="scenario file (testdata/netlab/*.json)")
    ap.add_argument("--calibrate", action="store_true",
                    help="measure the lab itself (RTT against the configured delays, goodput "
                    "through a shaper) instead of running a scenario")
    ap.add_argument("--bin-root", default="bazel-bin",
                    help="where cmd/<tool>/<tool> and lab/vt-delay-line are (bazel-bin, runfiles)")
    ap.add_argument("--out", help="output directory (default: a new one under /tmp)")
    ap.add_argument("--json", dest="json_out",
                    help="write the JSON lines here (- = stdout); always in OUT/results.jsonl")
    ap.add_argument("--bench", action="store_true",
                    help="print scripts/bench lines (netlab.SCENARIO.*) on stdout")
    ap.add_argument("--duration", type=float, help="override the stream's duration (s)")
    ap.add_argument("--keep-media", action="store_true",
                    help="keep every viewer's output and the stream (kept anyway on failure: "
                    "input.ts, fed.ts)")
    args = ap.parse_args(argv)

    if args.calibrate:
        if os.geteuid() != 0:
            print("netlab: needs root (network namespaces, tc)", file=sys.stderr)
            return 2
        try:
            tools = {"vt-delay-line": find_tools(args.bin_root, ("vt-delay-line",))["vt-delay-line"]}
        except UsageError as e:
            print(f"netlab: {e}", file=sys.stderr)
            return 2
        out = args.out or f"/tmp/netlab-calibrate-{time.strftime('%Y%m%d-%H%M%S')}"
        os.makedirs(out, exist_ok=True)
        lock = open(LOCK_PATH, "a+")
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return calibrate(tools, out)
        except LabError as e:
            log(f"lab failed: {e}")
            return 3
    if not args.scenario:
        ap.print_usage(sys.stderr)
        return 2
    try:
        sc = load_scenario(args.scenario)
        if args.duration:
            sc["stream"]["duration_s"] = args.duration
        tools = find_tools(args.bin_root)
    except UsageError as e:
        print(f"netlab: {e}", file=sys.stderr)
        return 2
    if os.geteuid() != 0:
        print("netlab: needs root (network namespaces, tc)", file=sys.stderr)
        return 2
    out = args.out or f"/tmp/netlab-{sc['name']}-{time.strftime('%Y%m%d-%H%M%S')}"
    os.makedirs(out, exist_ok=True)

    # One lab at a time on a machine: two would share the CPUs and measure
    # each other.
    lock = open(LOCK_PATH, "a+")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        log("another lab run holds " + LOCK_PATH + "; waiting")
        fcntl.flock(lock, fcntl.LOCK_EX)

    # The tools are copied, so a rebuild in the same tree during the run (or a
    # node started late) cannot mix two versions of the code.
    bin_dir = os.path.join(out, "bin")
    os.makedirs(bin_dir, exist_ok=True)
    for t, path in list(tools.items()):
        tools[t] = os.path.join(bin_dir, t)
        shutil.copyfile(path, tools[t])
        os.chmod(tools[t], 0o755)

    run = Run(sc, tools, out, args)

    def on_signal(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    try:
        events = run.run()
    except LabError as e:
        log(f"lab failed: {e}")
        return 3
    except KeyboardInterrupt:
        log("interrupted; removing the lab")
        return 3
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        run.stop_sampling.set()
        run.lab.close()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    with open(os.path.join(out, "results.jsonl"), "w") as f:
        for e in events:
            f.write(json.dumps(e) + "\n")
    if args.json_out and args.json_out != "-":
        shutil.copyfile(os.path.join(out, "results.jsonl"), args.json_out)
    table(events, sys.stderr)
    if args.json_out == "-":
        for e in events:
            print(json.dumps(e), flush=True)
    if args.bench:
        for line in bench_lines(events):
            print(json.dumps(line, separators=(",", ":")), flush=True)
    ok = events[-1]["data"]["ok"]
    if ok and not args.keep_media:
        for f in ("input.ts", "fed.ts"):
            os.unlink(os.path.join(out, f))
    shutil.rmtree(bin_dir, ignore_errors=True)
    log(f"results in {out}/results.jsonl")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
