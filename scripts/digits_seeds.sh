#!/usr/bin/env bash
# The README's headline number: the digits main job (default settings) for seeds 1-5 (or $SEEDS), each into
# its own run folder, then one table with the test accuracy (evaluated once, after training), the
# last epoch's validation accuracy and the training time of each seed, and their mean, min, max.
#
#   [SEEDS="1 2 3 4 5"] scripts/digits_seeds.sh [OUT_DIR (default artifacts/digits-seeds)] [extra snn-train options]
#
# A fresh run needs an empty folder: delete OUT_DIR first to measure again (or pass --overwrite).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-artifacts/digits-seeds}"
shift || true
cargo build --release -q -p snn-train
bin="${CARGO_TARGET_DIR:-target}/release/snn-train"
rows=()
for seed in ${SEEDS:-1 2 3 4 5}; do
  log=$("$bin" --seed "$seed" --out "$out/seed-$seed" "$@" | tail -n 2)
  valid=$(sed -n 's/^validation accuracy: \([0-9.]*\) %.*/\1/p' <<<"$log")
  test=$(sed -n 's/^test accuracy: \([0-9.]*\) %.*/\1/p' <<<"$log")
  secs=$(sed -n 's/.*(\([0-9.]*\) s of training.*/\1/p' <<<"$log")
  rows+=("$seed $test $valid $secs")
done
printf '| seed | test accuracy (%%) | validation accuracy (%%) | training (s) |\n| --- | --- | --- | --- |\n'
for row in "${rows[@]}"; do
  read -r seed test valid secs <<<"$row"
  printf '| %s | %s | %s | %s |\n' "$seed" "$test" "$valid" "$secs"
done
printf '%s\n' "${rows[@]}" | awk '
  { t += $2; if (NR == 1 || $2 < lo) lo = $2; if (NR == 1 || $2 > hi) hi = $2; s += $4 }
  END { printf "| mean (min, max) | %.2f (%.2f, %.2f) | | %.1f |\n", t / NR, lo, hi, s / NR }'
