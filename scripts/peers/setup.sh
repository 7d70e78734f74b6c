#!/usr/bin/env bash
# Makes the two Python environments the peer benchmarks run in, with the versions the
# measurements in docs/src/performance.md used. Usage: bash scripts/peers/setup.sh [DIR]
# (default ~/.cache/burn-snn/peers). Needs python3.11 (or python3) with venv and the internet.
# PyPI's torch wheel is the CUDA build (about 4 GB with its nvidia wheels); CUDA is not used.
set -euo pipefail
dir="${1:-$HOME/.cache/burn-snn/peers}"
python="$(command -v python3.11 || command -v python3)"
mkdir -p "$dir"
"$python" -m venv "$dir/torch"
"$dir/torch/bin/pip" install --quiet numpy==2.4.6 torch==2.15.0 snntorch==1.0.0 norse==1.1.0 \
    spikingjelly==2.0.0 nir==1.0.8 nirtorch==2.6
"$python" -m venv "$dir/jax"
"$dir/jax/bin/pip" install --quiet numpy==2.4.6 jax==0.10.2 jaxlib==0.10.2 flax==0.12.8 \
    optax==0.2.8 spyx==1.0.0
echo "peers installed in $dir: $dir/torch (snnTorch, Norse, SpikingJelly), $dir/jax (Spyx)"
