#!/usr/bin/env bash
# The GPU check of the performance table (issue 32): the single-fit and
# one-call-search rows of benchmarks/bench_backends.py on 50,000 Fashion-MNIST
# rows, h2 compiled with jit_compile=True, on each Keras backend in turn.
#
#   bash benchmarks/gpu_check.sh            # on a machine with one GPU
#   OUT=/some/folder bash benchmarks/gpu_check.sh
#
# Sized for a short loan (about 15 minutes of device time in all): each
# backend gets at most $BUDGET seconds (default 200); a backend that fails
# or runs out of time is reported and the next one runs. The JSON files (every
# pair, the machine, the GPU) land in $OUT (default benchmarks/results).
# On PyTorch jit_compile=True is torch.compile (Dynamo), not XLA.
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-benchmarks/results}"
budget="${BUDGET:-200}"
pairs="${PAIRS:-7}"
mkdir -p "$out"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || echo "nvidia-smi: no GPU visible"
python - <<'PY' || true
import jax, torch
print("jax devices:", jax.devices())
print("torch cuda:", torch.cuda.is_available())
PY
for backend in jax tensorflow torch; do
    echo "== $backend"
    timeout "$budget" python benchmarks/bench_backends.py --backend "$backend" \
        --jit-compile --size fashion --rows aa fit search --pairs "$pairs" \
        --json "$out/gpu_${backend}_fashion.json" \
        || echo "$backend: failed or out of time (exit $?)"
done
