"""`planact synth run --config pipeline.yaml`: the stages in order, each resuming where it stopped."""

from __future__ import annotations

from collections.abc import Callable

from . import augment, cot, expand, export, plans, queries, replan, trajectories
from .context import StageContext
from .engine import StageStats

STAGES: dict[str, Callable[[StageContext], list[StageStats]]] = {
    "queries": queries.run, "trajectories": trajectories.run, "plans": plans.run, "expand": expand.run,
    "augment": augment.run, "cot": cot.run, "replan": replan.run, "export": export.run,
}


def run_pipeline(ctx: StageContext, on_stage: Callable[[str, list[StageStats]], None] | None = None) -> dict[str, list[StageStats]]:
    done: dict[str, list[StageStats]] = {}
    for name in ctx.settings.stages:
        stats = STAGES[name](ctx)
        done[name] = stats
        if on_stage:
            on_stage(name, stats)
    return done
