"""What both peer benchmarks share: the three workloads' data, the timing rule and the output.

Written for burn-snn from the workload definitions (docs/src/performance.md):
* standard: Bernoulli(0.05) spikes [B=32, T=100, 700] -> Linear(700, H) -> LIF (beta 0.95,
  threshold 1, subtractive reset, fast-sigmoid slope 10) -> Linear(H, 20) -> LI (0.95);
  cross-entropy of the time-summed readout; train = forward + backward + Adam(1e-3).
* recurrent: the same with a recurrent Linear(H, H) (no bias) on the previous step's spikes.
* on: Bernoulli(0.05) spikes [B=16, T=500, N] -> Linear(N, N) -> LIF; loss = sum of the spikes;
  fwd+bwd = forward + backward, no optimizer.
Timing: 3 warm-up calls, then the median (and minimum) of 20 timed calls, two threads.
"""

import argparse
import json
import statistics
import time

import numpy as np

CLASSES = 20
SIZES = {"standard": [256, 1024, 4096], "recurrent": [256, 1024], "on": [512, 2048]}


def data(workload, size, quick=False):
    """Batch-major float32 spikes `x` [B, T, features] and int labels `y` [B], from numpy seeds
    0 and 1 (the same numbers in every environment)."""
    if workload == "on":
        b, t, features = 16, 500, size
    else:
        b, t, features = 32, 100, 700
    if quick:
        t = 10
    x = (np.random.default_rng(0).random((b, t, features), dtype=np.float32) < 0.05)
    y = np.random.default_rng(1).integers(0, CLASSES, b)
    return x.astype(np.float32), y.astype(np.int32)


def measure(step, quick=False):
    """(median ms, min ms) of `step()` after warm-up; `step` must block until its result is
    computed."""
    warmup, iterations = (1, 2) if quick else (3, 20)
    for _ in range(warmup):
        step()
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        step()
        times.append(1e3 * (time.perf_counter() - start))
    return statistics.median(times), min(times)


def arguments(libraries):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--workload", choices=list(SIZES), default="standard")
    p.add_argument("--sizes", type=int, nargs="*", help="H (or N for on); default: all")
    p.add_argument("--libs", nargs="*", choices=libraries, default=libraries)
    p.add_argument("--quick", action="store_true", help="10 steps, 2 timed calls: a smoke test")
    p.add_argument("--out", help="append one JSON line per result to this file")
    args = p.parse_args()
    args.sizes = args.sizes or SIZES[args.workload]
    return args


def report(args, lib, version, size, mode, timing, rate):
    median, low = timing
    row = {
        "workload": args.workload,
        "lib": lib,
        "version": version,
        "size": size,
        "mode": mode,
        "median_ms": round(median, 3),
        "min_ms": round(low, 3),
        "hidden_spike_rate": round(float(rate), 5),
        "quick": args.quick,
    }
    print(json.dumps(row), flush=True)
    if args.out:
        with open(args.out, "a") as f:
            f.write(json.dumps(row) + "\n")
