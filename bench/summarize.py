#!/usr/bin/env python3
"""bench/all's summary: reads the outputs in target/bench, writes summary.json, compares with the last recorded one.

Usage: summarize.py OUT_DIR LOAD_BEFORE SECONDS LAST_JSON. Only ratios to a baseline measured in the same run are
compared (higher is better; flagged when more than BENCH_TOLERANCE, default 0.15, below the recorded value): the
machine is shared, so absolute rates say more about the neighbours than about the code. Exit status 1 when flagged.
"""
import datetime, json, os, re, subprocess, sys

out, load_before, seconds, last_path = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
tolerance = float(os.environ.get("BENCH_TOLERANCE", "0.15"))


def read(name):
    try:
        with open(os.path.join(out, name)) as f:
            return f.read()
    except OSError:
        return ""


summary = {
    "recorded_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    "git": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip(),
    "load_before": load_before,
    "seconds": seconds,
}
ratios = {}

# ingest: IngestBenchmark's RESULT line
m = re.search(r"^RESULT (\{.*\})$", read("ingest.txt"), re.M)
if m:
    ingest = json.loads(m.group(1))
    rounds = ingest["rounds"]
    ingest["ratio_cold"] = rounds[0]["ratio"]
    ingest["ratio_warm"] = max(r["ratio"] for r in rounds[1:]) if len(rounds) > 1 else None
    summary["ingest"] = ingest
    ratios["ingest_vs_raw_copy_cold"] = ingest["ratio_cold"]
    if ingest["ratio_warm"] is not None:
        ratios["ingest_vs_raw_copy_warm"] = ingest["ratio_warm"]

# fanout: FanoutBenchmark's table (server subs events/s offered/s deliv/s p50 p99 max server% client% other% srv-us ...)
runs = []
for line in read("fanout.txt").splitlines():
    f = line.split()
    if len(f) >= 14 and f[0] in ("bare", "jobstream", "batched") and f[1].isdigit():
        runs.append({"server": f[0], "subscribers": int(f[1]), "events_per_s": int(f[2]), "delivered_per_s": float(f[4]),
                     "p50_ms": float(f[5]), "p99_ms": float(f[6]), "server_share": float(f[8].rstrip("%")) / 100,
                     "server_us_per_msg": float(f[11])})
if runs:
    summary["fanout"] = {"runs": runs}
    for server in ("jobstream", "batched"):
        for r in runs:
            if r["server"] != server:
                continue
            bare = [b for b in runs if b["server"] == "bare" and b["subscribers"] == r["subscribers"]
                    and b["events_per_s"] == r["events_per_s"]]
            if bare and r["server_us_per_msg"] > 0:
                # bare's CPU per delivered message over ours: 1.0 = as cheap as the bare broadcast
                key = "fanout_%s_cpu_vs_bare_%dx%d" % (server, r["subscribers"], r["events_per_s"])
                ratios[key] = round(bare[0]["server_us_per_msg"] / r["server_us_per_msg"], 3)

# jmh: IngestPathBenchmark, per event, and the plain Jackson read of the same body over the whole path
try:
    jmh = json.loads(read("jmh.json") or "[]")
except ValueError:
    jmh = []
events = {"synthetic": 500, "recorded": 788}
scores = {}
for b in jmh:
    mix = b.get("params", {}).get("mix")
    name = b["benchmark"].rsplit(".", 1)[1]
    if mix in events:
        scores.setdefault(mix, {})[name + "_us_per_event"] = round(b["primaryMetric"]["score"] / events[mix], 3)
for mix, s in scores.items():
    if s.get("path_us_per_event") and s.get("jacksonBaseline_us_per_event"):
        s["jackson_over_path"] = round(s["jacksonBaseline_us_per_event"] / s["path_us_per_event"], 3)
        ratios["jmh_%s_jackson_over_path" % mix] = s["jackson_over_path"]
if scores:
    summary["jmh"] = scores

# lag: load's report line "lag created->websocket (ms): p50 X  p90 X  p99 X ..."
m = re.search(r"p50 ([\d.]+)\s+p90 ([\d.]+)\s+p99 ([\d.]+)", read("lag.txt"))
if m:
    summary["lag"] = {"command": "bench/lag 2000 5 10", "p50_ms": float(m.group(1)), "p90_ms": float(m.group(2)),
                      "p99_ms": float(m.group(3))}

summary["ratios"] = ratios
with open(os.path.join(out, "summary.json"), "w") as f:
    json.dump(summary, f, indent=2)
    f.write("\n")

try:
    with open(last_path) as f:
        last = json.load(f)
except (OSError, ValueError):
    last = None
print("\nbench/all: %d s, load %.1f before; summary in %s/summary.json" % (seconds, load_before, out))
flagged = []
if last is None:
    print("no recorded summary (%s) to compare with; record this one with BENCH_RECORD=1" % last_path)
else:
    print("compared with %s (%s, git %s); higher is better, flagged when more than %.0f%% worse"
          % (last_path, last.get("recorded_at"), last.get("git"), 100 * tolerance))
    for key in sorted(set(ratios) | set(last.get("ratios", {}))):
        now, before = ratios.get(key), last.get("ratios", {}).get(key)
        if now is None or before is None:
            print("  %-45s %8s -> %8s  (missing%s)" % (key, before, now, ": that part failed" if now is None else ""))
            if now is None:
                flagged.append(key)  # a benchmark that broke must not pass silently
            continue
        change = now / before - 1 if before else 0
        bad = change < -tolerance
        if bad:
            flagged.append(key)
        print("  %-45s %8.3f -> %8.3f  %+6.0f%%%s" % (key, before, now, 100 * change, "  REGRESSION?" if bad else ""))
    if "lag" in summary and "lag" in last:
        print("  %-45s %8.1f -> %8.1f  (no baseline: not flagged)" % ("lag_p99_ms", last["lag"]["p99_ms"],
                                                                      summary["lag"]["p99_ms"]))
if flagged:
    print("flagged: %s (a missing one: see target/bench/<part>.txt; a worse one: re-run once, a loaded machine moves"
          " ratios too; see docs/BENCHMARKS.md)" % ", ".join(flagged))
    sys.exit(1)
