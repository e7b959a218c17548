#!/usr/bin/env bash
# The main job: install, then run Plan-and-Act on a MiniWoB++ task with the embedded model.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
TASK=${TASK:-click-button}
SEED=${SEED:-3}
PY=${VIRTUAL_ENV:+$VIRTUAL_ENV/bin/python}
PY=${PY:-$PWD/.venv/bin/python}
[ -x "$PY" ] || PY=python3  # no .venv: the planact on this Python
exec "$PY" -m planact.cli.main run --suite miniwob --task "$TASK" --seed "$SEED" --max-steps "${MAX_STEPS:-6}" \
  --output "${OUTPUT:-runs/quickstart}" "$@"
