#!/usr/bin/env bash
# More validation seeds (90005-90009) for the candidate executors: rounds 14, 15 and their mix.
cd /work/main && source .venv/bin/activate
T=click-button,click-link,click-checkboxes,click-tab,click-tab-2,click-dialog,click-option,click-collapsible,enter-text,enter-password,focus-text,login-user,email-inbox,search-engine,social-media,book-flight,choose-list,navigate-tree,use-autocomplete,multi-layouts
R=/work/main/runs/learn-miniwob/rounds
for c in "r14 $R/14/adapters/executor-dpo-policy" "r15 $R/15/adapters/executor-dpo-policy" "mix $R/15/adapters/executor-mix"; do
  set -- $c
  python -m planact.cli.main eval --config runs/selection/validate.yaml --suite miniwob --tasks $T --seeds 90005-90009 \
    --no-planner --executor "local:$2?prompt=v2" --output runs/selection/$1 --allow-errors
done
