#!/usr/bin/env bash
# Toy-model benchmark, side by side: moescope's fused trainer vs the PyTorch reference (reference.py) on the same
# workloads, under the shared heavy-work lock, with the machine's load and BLAS recorded.
#   bench/toy/run.sh [fig3-steps] [fig4-steps] [fig4-reference-steps]
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$here"
fig3_steps="${1:-50}"; fig4_steps="${2:-500}"; fig4_ref_steps="${3:-100}"
echo "BLAS: $(update-alternatives --display libblas.so.3-x86_64-linux-gnu 2>/dev/null | grep 'currently points' || echo unknown)"
echo "torch: $(/usr/bin/python3 -c 'import torch; print(torch.__version__)')"
run() {
  echo "load before: $(uptime)"
  flock /tmp/moescope-heavy.lock ./moescope bench toy --no-progress --threads 2 "$@"
  echo "load after:  $(uptime)"
}
run --workload fig3 --steps "$fig3_steps" --out runs/bench-toy-fig3
run --workload fig4 --steps "$fig4_steps" --reference-steps "$fig4_ref_steps" --out runs/bench-toy-fig4
