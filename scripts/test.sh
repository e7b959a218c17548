#!/usr/bin/env bash
# Install, then run the test suite (unit tests, real-browser tests, the real embedded model).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
set +e
PY=${VIRTUAL_ENV:+$VIRTUAL_ENV/bin/python}
PY=${PY:-$PWD/.venv/bin/python}
[ -x "$PY" ] || PY=python3  # no .venv: the planact on this Python
"$PY" -m pytest -q -p no:cacheprovider "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure" >&2
  exit 1
fi
exit "$status"
