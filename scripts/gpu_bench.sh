#!/usr/bin/env bash
# The standard, recurrent and Open Neuromorphic (`on`) workloads on wgpu, one table.
#
#   scripts/gpu_bench.sh [criterion filter, default: everything]
#
# Builds the benchmarks with `--features gpu` (25-30 minutes the first time on 2 cores), runs
# `standard_workload` (groups standard/ and on/) and `recurrent_workload` (group recurrent/) with
# SNN_BENCH_BACKENDS=wgpu, and prints one markdown table of the medians from criterion's
# estimates (target/criterion/<group>/<id>/new/estimates.json). On wgpu the fused LIF and LI ops
# and the fused recurrent LIF op run as CubeCL kernels. Compare with the Open Neuromorphic GPU figures (N = 16384, T = 500, B = 16: Spyx fp16
# 47 ms, Norse compiled 110 ms, SpikingJelly CuPy 118 ms per forward+backward) by running the `on`
# group at that size: ON_SIZES=16384 (see benches/standard_workload.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
filter="${1:-}"
target="${CARGO_TARGET_DIR:-target}"
export SNN_BENCH_BACKENDS=wgpu
cargo bench --features gpu --bench standard_workload -- ${filter:+"$filter"}
cargo bench --features gpu --bench recurrent_workload -- "${filter:-recurrent/}"
printf '| benchmark | median (ms) |\n| --- | --- |\n'
find "$target/criterion" -path '*wgpu*' -path '*/new/estimates.json' | sort | while read -r f; do
  id="${f#"$target/criterion/"}"
  id="${id%/new/estimates.json}"
  median=$(sed -n 's/.*"median":{[^}]*"point_estimate":\([0-9.e+-]*\).*/\1/p' "$f")
  awk -v id="$id" -v ns="$median" 'BEGIN { printf "| %s | %.2f |\n", id, ns / 1e6 }'
done
