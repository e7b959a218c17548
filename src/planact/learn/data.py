"""Phases 3 and 4: planner and replanner data from the round's successful trajectories (grounded
plans and the plan that remains after each action, by the offline annotator or a teacher model),
then the three training sets, rendered with the agent's own prompt templates (the compact `v2`
by default), balanced across tasks, capped, and measured in tokens."""

from __future__ import annotations

import json
import random
import re
import statistics
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..config import PlanActConfig
from ..synth import export, plans, replan
from ..synth.annotator import OFFLINE_TEACHER
from ..synth.context import StageContext
from ..synth.engine import ModelCache, Progress, StageStats
from .augment import renumber_rows

ROLES = ("executor", "planner", "replanner")


def synth_config(cfg: PlanActConfig, folder: Path) -> PlanActConfig:
    """The synth pipeline's settings for a round's folder: its teacher, prompts and plan share."""
    ls = cfg.learn
    teacher = ls.teacher or OFFLINE_TEACHER
    return cfg.with_overrides(
        synth={"out": str(folder), "model": teacher, "seed": ls.seed},
        **{"synth.plans": {"teacher": teacher}, "synth.replan": {"teacher": teacher,
                                                                 "max_points": ls.train.replan_points},
           "synth.export": {"executor_plan": "grounded", "plan_share": ls.train.plan_share,
                            "out": str(folder / "export")},
           "agent": {"prompt_version": ls.prompt_version}})


def annotate(cfg: PlanActConfig, folder: Path, models: ModelCache, progress: Progress | None) -> list[StageStats]:
    ctx = StageContext(synth_config(cfg, folder), progress=progress, models=models)
    if not ctx.store("trajectories").read(kept_only=True):
        return []  # no success to learn from this round
    stats = plans.run(ctx)
    if "replanner" in cfg.learn.train.roles:
        stats += replan.run(ctx)
    return stats


def balanced(rows: list[dict[str, Any]], limit: int, seed: int) -> list[dict[str, Any]]:
    """At most `limit` rows, taken round-robin across sites (tasks) so that each keeps its share."""
    if len(rows) <= limit:
        return rows
    rng = random.Random(seed)
    by_site: dict[str, list] = defaultdict(list)
    for r in rows:
        by_site[r["source"]["site"]].append(r)
    for v in by_site.values():
        rng.shuffle(v)
    out: list[dict[str, Any]] = []
    while len(out) < limit:
        for site in sorted(by_site):
            if by_site[site] and len(out) < limit:
                out.append(by_site[site].pop())
    return out


def _upsampled(rows: list[dict[str, Any]], minimum: int,
               key: Callable[[dict[str, Any]], str | None] = lambda r: r["source"]["site"]) -> list[dict[str, Any]]:
    """Each group's rows (by `key`: the site or task by default) repeated, in order, until it has at
    least `minimum`; rows whose key is None are left as they are."""
    if minimum <= 0:
        return rows
    groups: dict[str, list] = defaultdict(list)
    for r in rows:
        k = key(r)
        if k is not None:
            groups[k].append(r)
    out = list(rows)
    for k in sorted(groups):
        have = groups[k]
        out.extend(have[i % len(have)] for i in range(max(0, minimum - len(have))))
    return out


_ACTION = re.compile(r'do\(action="([^"]+)"|(exit)\(')


def action_name(row: dict[str, Any]) -> str | None:
    """The action an executor example answers with (its last call), or None."""
    found = _ACTION.findall(row["messages"][-1]["content"])
    return (found[-1][0] or found[-1][1]) if found else None


def build_training_sets(cfg: PlanActConfig, folder: Path, tokenizer) -> dict[str, dict[str, Any]]:  # noqa: ANN001
    """Export the round's examples, cap each role, write `data/<role>.jsonl`; token statistics per role."""
    ls = cfg.learn
    ctx = StageContext(synth_config(cfg, folder))
    export.run(ctx)
    examples = export.build_examples(ctx)
    stats: dict[str, dict[str, Any]] = {}
    data_dir = folder / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    for role in ROLES:
        if role not in ls.train.roles:
            continue
        settings = getattr(ls.train, role)
        rows = _upsampled(balanced(examples[role], settings.max_examples, ls.seed), settings.min_per_task)
        if role == "executor":
            rows = _upsampled(rows, settings.min_per_action, action_name)
        rows, renumbered = renumber_rows(rows, settings.renumber, ls.seed)
        tokens = [count_tokens(tokenizer, r["messages"]) for r in rows]
        tmp = data_dir / f"{role}.jsonl.tmp"
        with tmp.open("w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        tmp.replace(data_dir / f"{role}.jsonl")
        stats[role] = {"examples": len(rows), "available": len(examples[role]),
                       "renumbered": renumbered,
                       "tokens_median": int(statistics.median(tokens)) if tokens else 0,
                       "tokens_max": max(tokens) if tokens else 0, "tokens_total": sum(tokens),
                       "by_task": _by_site(rows)}
    return stats


def count_tokens(tokenizer, messages: list[dict[str, str]]) -> int:  # noqa: ANN001
    """Tokens of a chat example as training sees it (the chat template applied)."""
    text = tokenizer.apply_chat_template(messages, tokenize=False)
    return len(tokenizer(text, add_special_tokens=False)["input_ids"])


def _by_site(rows: list[dict[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for r in rows:
        out[r["source"]["site"]] += 1
    return dict(out)
