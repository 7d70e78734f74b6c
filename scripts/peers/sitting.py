"""Builds the chart data of one sitting (docs/data/sitting.json, drawn by
`cargo run --release --example performance_chart`) from that sitting's raw results:

    python3 scripts/peers/sitting.py docs/data/sitting-DATE > docs/data/sitting.json

DIR holds `peers.jsonl` (scripts/peers/bench.sh) and the criterion logs of our benches
(`ours_*.log`, from `cargo bench --bench standard_workload` / `recurrent_workload`). Each value is
the median in ms: the train step of the standard and recurrent workloads, forward + backward of
the `on` workload; for each peer library its fastest variant. Standard library only.
"""

import json
import pathlib
import re
import sys

GROUPS = [("standard", 256), ("standard", 1024), ("standard", 4096), ("recurrent", 256),
          ("recurrent", 1024), ("on", 512), ("on", 2048)]
PEERS = [("spyx", "Spyx 1.0"), ("torch-loop", "torch loop"), ("snntorch", "snnTorch 1.0"),
         ("norse", "Norse 1.1"), ("spikingjelly", "SpikingJelly 2.0")]
UNITS = {"ns": 1e-6, "µs": 1e-3, "us": 1e-3, "ms": 1.0, "s": 1e3}


def ours(directory):
    """{(workload, size, backend): median ms} from criterion's text output."""
    found = {}
    for log in sorted(directory.glob("ours_*.log")):
        name = None
        for line in log.read_text().splitlines():
            m = re.match(r"^(standard|recurrent|on)/(\w+)/(train|forward_backward)/optimized/(\d+)", line)
            if m:
                name = (m.group(1), int(m.group(4)), m.group(2))
                continue
            m = re.search(r"time:\s+\[\S+ \S+ (\S+) (\S+) ", line)
            if m and name:
                found[name] = float(m.group(1)) * UNITS[m.group(2)]
                name = None
    return found


def peers(directory):
    """{(workload, size, lib): fastest median ms over the lib's variants}."""
    found = {}
    for line in (directory / "peers.jsonl").read_text().splitlines():
        row = json.loads(line)
        wanted = "fwd+bwd" if row["workload"] == "on" else "train"
        if row["mode"] != wanted or row.get("quick"):
            continue
        key = (row["workload"], row["size"], row["lib"])
        found[key] = min(found.get(key, float("inf")), row["median_ms"])
    return found


def main():
    directory = pathlib.Path(sys.argv[1])
    date = directory.name.removeprefix("sitting-")
    mine, theirs = ours(directory), peers(directory)
    nan = float("nan")
    series = [
        {"name": f"burn-snn ({backend})",
         "ms": [round(mine.get((w, s, backend), nan), 2) for w, s in GROUPS]}
        for backend in ("ndarray", "flex")
    ]
    series += [
        {"name": label, "ms": [theirs.get((w, s, lib), nan) for w, s in GROUPS]}
        for lib, label in PEERS
    ]
    for entry in series:
        entry["ms"] = [None if v != v else v for v in entry["ms"]]  # NaN -> null
    out = {
        "title": f"ms per step on 2 CPU cores, lower is better (one sitting, {date})",
        "groups": [f"{w} {'N' if w == 'on' else 'H'}={s}" for w, s in GROUPS],
        "series": series,
    }
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
