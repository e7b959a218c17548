#!/usr/bin/env bash
# The paper's Table 1 in miniature on MiniWoB++: the 20 training tasks of `planact learn`, evaluation
# seeds 0-4 (never trained on), 100 episodes a cell. Rows: no planner, base planner, trained planner
# (static plan), trained planner with dynamic replanning; columns: base and trained executor.
# Each cell is a resumable `planact eval` run; re-running the script skips finished episodes.
#   bash scripts/table1_miniwob.sh            # all 8 cells, then the report
#   CELLS="none-trained static-trained" bash scripts/table1_miniwob.sh   # some cells
# Each cell's summary (run.json, episodes.jsonl; not the traces) is copied to $RESULTS/table1-miniwob/<cell>/,
# which is committed: on another machine the script starts from those copies and resumes where they stop.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-runs/table1-miniwob}
TASKS=${TASKS:-click-button,click-link,click-checkboxes,click-tab,click-tab-2,click-dialog,click-option,click-collapsible,enter-text,enter-password,focus-text,login-user,email-inbox,search-engine,social-media,book-flight,choose-list,navigate-tree,use-autocomplete,multi-layouts}
BASE=local:smollm2-135m
TRAINED=${TRAINED:-local:planact-miniwob}
PY=${VIRTUAL_ENV:+$VIRTUAL_ENV/bin/python}
PY=${PY:-$PWD/.venv/bin/python}
[ -x "$PY" ] || PY=python3  # no .venv: the planact on this Python
planact() { "$PY" -m planact.cli.main "$@"; }
COMMON=(--suite miniwob --tasks "$TASKS" --seeds "${SEEDS:-0-4}" --max-steps "${MAX_STEPS:-10}")

cell() {  # name planner-variant executor-variant
  local name=$1 planner=$2 executor=$3 exe args=()
  exe=$([ "$executor" = trained ] && echo "$TRAINED" || echo "$BASE")
  case $planner in
    none)    args=(--no-planner) ;;
    base)    args=(--planner "$BASE" --replan never) ;;
    static)  args=(--planner "$TRAINED" --replan never) ;;
    replan)  args=(--planner "$TRAINED" --replan every-step) ;;
  esac
  local ptag=$planner; [ "$planner" = static ] || [ "$planner" = replan ] && ptag=trained
  [ "$planner" = none ] && ptag=base
  echo "== $name: planner=$planner executor=$executor"
  local saved="$RESULTS/table1-miniwob/$name"
  if [ ! -f "$OUT/$name/episodes.jsonl" ] && [ -f "$saved/episodes.jsonl" ]; then
    mkdir -p "$OUT/$name" && cp "$saved/run.json" "$saved/episodes.jsonl" "$OUT/$name/"
    echo "   resuming from $saved"
  fi
  local rc=0
  planact eval "${COMMON[@]}" "${args[@]}" --executor "$exe" --output "$OUT/$name" \
    --tag planner="$ptag" --tag executor="$executor" --allow-errors || rc=$?  # errored episodes rerun on the next pass
  if [ -f "$OUT/$name/episodes.jsonl" ]; then
    mkdir -p "$saved" && cp "$OUT/$name/run.json" "$OUT/$name/episodes.jsonl" "$saved/"
  fi
  return $rc
}

RESULTS=${RESULTS:-docs/results}
ALL="none-base none-trained base-base base-trained static-base static-trained replan-base replan-trained"
for c in ${CELLS:-$ALL}; do
  cell "$c" "${c%-*}" "${c#*-}"
done
mkdir -p "$RESULTS"
runs=(); for c in $ALL; do [ -f "$RESULTS/table1-miniwob/$c/episodes.jsonl" ] && runs+=("$RESULTS/table1-miniwob/$c"); done
planact report "${runs[@]}" --format markdown --out "$RESULTS/table1-miniwob.md"
planact report "${runs[@]}" --format html --out "$RESULTS/table1-miniwob.html"
