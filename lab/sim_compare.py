#!/usr/bin/env python3
"""Puts a network-lab run and a vt-sim run of the same network side by side
(issue 15's validation; docs/simulator.md, "Validation against the lab").

  lab/sim_compare.py LAB_DIR SIM_JSONL [--json OUT]

LAB_DIR is a `scripts/netlab --out` directory (results.jsonl and the tools'
logs); SIM_JSONL is vt-sim's output (its last line is the summary). Both
sides are measured over the same receivers (relays and viewers):

- join: from a node's start to its "joined all stripes" (the lab: the tool's
  own clock, from its `listening` line);
- delay behind live on arrival: the lab samples each receiver's
  `behind_live_ms` once a second (the newest chunk received, on the stream
  clock); vt-sim measures every chunk's arrival. The lab's playout delay
  (the viewers' stdout) is shown too; vt-sim has no playout;
- continuity: not measured alike. The lab: the viewers' bytes written
  against the input from their start (a viewer that never joined counts 0);
  vt-sim: relays and viewers that joined and stayed, the share of chunks
  that arrived within its buffer_s. Equal at 100 %, which is what lab50
  gives; a lab run with a refused viewer would not compare;
- source upload over the stream rate; bytes sent beyond the distinct
  payload the receivers got (the lab's payload is an estimate: viewers from
  their first byte on stdout, relays from their start), and beyond the chunk
  bytes the nodes sent (TCP/IP headers, ACKs, records, control; both sides
  count headers and ACKs, vt-sim by its model of them);
- repairs, and the deepest path per stripe at the end.
"""
import argparse
import glob
import json
import os
import statistics
import sys


def pct(values, p):
    if not values:
        return None
    v = sorted(values)
    return v[min(len(v) - 1, int(p / 100.0 * (len(v) - 1)))]


def read_log(path):
    out = []
    with open(path) as f:
        for line in f:
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


def lab_side(d):
    nodes, viewers, summary = {}, {}, None
    with open(os.path.join(d, "results.jsonl")) as f:
        for line in f:
            e = json.loads(line)
            if e["event"] == "node":
                nodes[e["data"]["name"]] = e["data"]
            elif e["event"] == "viewer":
                viewers[e["data"]["name"]] = e["data"]
            elif e["event"] == "summary":
                summary = e["data"]
    joins, behind, repairs, depth, chunks_out = [], [], 0, {}, 0
    for path in sorted(glob.glob(os.path.join(d, "*.log"))):
        name = os.path.basename(path)[:-4]
        if name not in nodes:
            continue
        if nodes[name]["role"] == "source":
            for e in read_log(path):
                if e.get("event") == "summary":
                    chunks_out += int(e["data"].get("bytes_out", 0))
            continue
        listening = joined = None
        last_stats = None
        stripe_depth = {}
        for e in read_log(path):
            data = e.get("data", {})
            if e.get("event") == "log":
                msg = data.get("msg")
                if msg == "listening" and listening is None:
                    listening = e["time"]
                elif msg == "joined all stripes" and joined is None:
                    joined = e["time"]
                elif msg == "joined stripe" and "depth" in data:
                    stripe_depth[int(data["stripe"])] = int(data["depth"])
            elif e.get("event") in ("stats", "summary") and "repairs" in data:
                last_stats = data
                if data.get("behind_live_ms") is not None and e.get("event") == "stats":
                    behind.append(float(data["behind_live_ms"]))
        if listening is not None and joined is not None:
            joins.append((joined - listening) * 1e3)
        if last_stats:
            repairs += int(last_stats.get("repairs", 0))
            chunks_out += int(last_stats.get("bytes_out", 0))
        for s, dep in stripe_depth.items():
            depth[s] = max(depth.get(s, 0), dep)
    rate = summary["stream_rate_bps"]
    stream_bytes = summary["stream_bytes"]
    fed_s = summary["fed_s"]
    src = nodes["src"]
    continuity = []
    payload = 0.0
    for v in viewers.values():
        offset = v.get("start_offset") or 0
        want = max(1, stream_bytes - offset)
        continuity.append(100.0 * min(1.0, (v.get("bytes") or 0) / want))
        payload += v.get("bytes") or 0
    for x in nodes.values():
        if x["role"] == "relay":
            # A relay receives the stream from about its start on.
            payload += stream_bytes * max(0.0, 1.0 - max(0.0, x["start_s"]) / fed_s)
    sent = sum(x.get("sent_bytes") or 0 for x in nodes.values())
    return {
        "receivers": len(nodes) - 1,
        "join_ms": {"p50": pct(joins, 50), "p95": pct(joins, 95), "n": len(joins)},
        "arrival_behind_live_ms": {"p50": pct(behind, 50), "p95": pct(behind, 95)},
        "playout_behind_live_ms": {"p50": summary["delay_p50_s"] * 1e3,
                                   "p95": summary["delay_p95_s"] * 1e3},
        "continuity_pct": {"p1": pct(continuity, 1), "p50": pct(continuity, 50)},
        "source_upload_ratio": src["upload_bps"] / rate,
        "overhead": sent / payload - 1.0 if payload else None,
        "transport_overhead": sent / chunks_out - 1.0 if chunks_out else None,
        "repairs": repairs,
        "max_depth": [depth.get(s, 0) for s in sorted(depth)],
    }


def sim_side(path):
    summary = None
    with open(path) as f:
        for line in f:
            e = json.loads(line)
            if "summary" in e:
                summary = e["summary"]
    if summary is None:
        sys.exit(f"{path}: no summary line")
    return {
        "receivers": summary["viewers"],
        "join_ms": summary["join_ms"],
        "arrival_behind_live_ms": summary["delay_behind_live_ms"],
        "playout_behind_live_ms": None,
        "continuity_pct": summary["continuity_pct"],
        "source_upload_ratio": summary["source_upload_ratio"],
        "overhead": summary["wire_overhead"],
        "transport_overhead": summary["control_overhead"],
        "repairs": summary["repairs"],
        "max_depth": [d["max"] for d in summary["depth"]],
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("lab_dir")
    ap.add_argument("sim_jsonl")
    ap.add_argument("--json", help="write both sides here as JSON")
    ap.add_argument("--bench", action="store_true",
                    help="print scripts/bench JSON lines (simval.*: vt-sim's value, the lab's "
                         "as the baseline) instead of the table")
    a = ap.parse_args()
    lab, sim = lab_side(a.lab_dir), sim_side(a.sim_jsonl)

    def fmt(v):
        if v is None:
            return "-"
        if isinstance(v, float):
            return f"{v:.3g}" if abs(v) < 10 else f"{v:.0f}"
        return str(v)

    rows = [("receivers", ("receivers",)),
            ("join p50 ms", ("join_ms", "p50")), ("join p95 ms", ("join_ms", "p95")),
            ("arrival behind live p50 ms", ("arrival_behind_live_ms", "p50")),
            ("arrival behind live p95 ms", ("arrival_behind_live_ms", "p95")),
            ("playout behind live p50 ms", ("playout_behind_live_ms", "p50")),
            ("playout behind live p95 ms", ("playout_behind_live_ms", "p95")),
            ("continuity p1 %", ("continuity_pct", "p1")),
            ("continuity p50 %", ("continuity_pct", "p50")),
            ("source upload / stream", ("source_upload_ratio",)),
            ("bytes sent beyond payload", ("overhead",)),
            ("bytes sent beyond chunks sent", ("transport_overhead",)),
            ("repairs", ("repairs",)), ("max depth per stripe", ("max_depth",))]

    def get(side, keys):
        v = side
        for k in keys:
            if v is None:
                return None
            v = v.get(k) if isinstance(v, dict) else None
        return v

    if a.bench:
        units = {"receivers": "peers", "source upload / stream": "x",
                 "bytes sent beyond payload": "x", "bytes sent beyond chunks sent": "x",
                 "repairs": "repairs"}
        for label, keys in rows:
            lv, sv = get(lab, keys), get(sim, keys)
            if not isinstance(lv, (int, float)) or not isinstance(sv, (int, float)):
                continue
            name = "_".join(keys).replace("_ms_", "_").replace("_pct_", "_")
            unit = units.get(label, "%" if "continuity" in label else "ms")
            print(json.dumps({"bench": f"simval.{name}", "value": sv, "unit": unit,
                              "baseline": f"lab.{name}", "baseline_value": lv,
                              "ratio": sv / lv if lv else None}))
    else:
        print("| metric | lab | vt-sim | sim/lab |\n|---|---|---|---|")
        for label, keys in rows:
            lv, sv = get(lab, keys), get(sim, keys)
            ratio = (f"{sv / lv:.2f}" if isinstance(lv, (int, float))
                     and isinstance(sv, (int, float)) and lv else "")
            print(f"| {label} | {fmt(lv)} | {fmt(sv)} | {ratio} |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"lab": lab, "sim": sim}, f, indent=1)


if __name__ == "__main__":
    main()
