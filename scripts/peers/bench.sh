#!/usr/bin/env bash
# Runs every peer on the three workloads, one JSON line per result into OUT (default
# peers.jsonl), from the environments of setup.sh. Usage:
#   bash scripts/peers/bench.sh [DIR] [OUT]      (add QUICK=1 for a smoke test)
# Run it on an idle machine, in the same sitting as ours:
#   cargo bench --bench standard_workload; cargo bench --bench recurrent_workload
set -euo pipefail
dir="${1:-$HOME/.cache/burn-snn/peers}"
out="${2:-peers.jsonl}"
here="$(cd "$(dirname "$0")" && pwd)"
quick=()
[[ "${QUICK:-0}" == 1 ]] && quick=(--quick --sizes 64)
for workload in standard recurrent on; do
    "$dir/torch/bin/python" "$here/bench_torch.py" --workload "$workload" --out "$out" "${quick[@]}"
    "$dir/jax/bin/python" "$here/bench_jax.py" --workload "$workload" --out "$out" "${quick[@]}"
done
echo "results in $out"
