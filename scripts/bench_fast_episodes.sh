#!/usr/bin/env bash
# Issue 12's benchmarks in one go, on a quiet machine; each prints its table, collected in OUT.
# BrowserGym is installed in its own virtual environment (.bench/browsergym) on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-docs/results/fast-episodes}
PY=${VIRTUAL_ENV:+$VIRTUAL_ENV/bin/python}
PY=${PY:-$PWD/.venv/bin/python}
[ -x "$PY" ] || PY=python3  # no .venv: the planact on this Python
mkdir -p "$OUT"
"$PY" benchmarks/step_vs_browsergym.py --seeds "${SEEDS:-0-2}" --steps 5 | tee "$OUT/step_vs_browsergym.txt"
"$PY" benchmarks/eval_scaling.py --seeds 0-9 | tee "$OUT/eval_scaling.txt"
"$PY" benchmarks/adaptive_replanning.py --seeds 0-4 | tee "$OUT/adaptive_replanning.txt"
"$PY" benchmarks/model_time.py --model local:smollm2-135m --seeds "${MODEL_SEEDS:-0-2}" | tee "$OUT/model_time_base.txt"
"$PY" benchmarks/model_time.py --model local:planact-miniwob --seeds "${MODEL_SEEDS:-0-2}" \
  | tee "$OUT/model_time_trained.txt"
