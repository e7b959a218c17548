#!/usr/bin/env bash
# The main job: install, then run Plan-and-Act on a MiniWoB++ task with the embedded model.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
TASK=${TASK:-click-button}
SEED=${SEED:-3}
exec planact run --suite miniwob --task "$TASK" --seed "$SEED" --max-steps "${MAX_STEPS:-6}" \
  --output "${OUTPUT:-runs/quickstart}" "$@"
