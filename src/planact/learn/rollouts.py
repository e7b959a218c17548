"""Phase 1: rollouts of the current policy, with exploration (sampling, several rollouts per task
instance, the action grammar), each scored by the outcome reward model. They run through the synth
pipeline's trajectories worker, so each rollout is one resumable unit of an append-only store."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from pathlib import Path
from typing import Any

from ..config import PlanActConfig
from ..synth.engine import Execution, ModelCache, Progress, StageStats, Unit, run_stage
from ..synth.records import Provenance, Record, RecordStore, new_record
from ..synth.sources import load_seeds
from ..synth.trajectories import RolloutWorker
from .curriculum import TaskRecord

RESERVED_SEEDS = 10000  # seeds below this are MiniWoB's evaluation seeds: never trained on


def task_queries(cfg: PlanActConfig) -> dict[str, dict[str, Any]]:
    """The loop's tasks, each a query template: a suite task (its seed is chosen per rollout) or an
    intent from `learn.queries` (WebArena-Lite's training intents, say), keyed by a task id."""
    ls = cfg.learn
    if ls.queries:
        return {s["id"]: {**s, "task_key": s["id"]} for s in load_seeds(ls.queries)}
    from ..bench.registry import get_suite

    suite = get_suite(ls.suite, cfg)
    ids = ls.tasks or [t.id for t in suite.tasks()]
    for t in ids:
        suite.check_task(t)
    return {t: {"intent": None, "suite": ls.suite, "task_id": t, "site": f"{ls.suite}/{t}", "sites": [ls.suite],
                "task_key": t} for t in ids}


def held_out(cfg: PlanActConfig, key: str) -> bool:
    """With learn.queries, a stable share of the intents is kept for validation and never rolled out."""
    if not cfg.learn.queries:
        return False
    h = int(hashlib.sha1(f"{cfg.learn.seed}:{key}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return h < cfg.learn.validate_.holdout


def training_tasks(cfg: PlanActConfig) -> list[str]:
    return [k for k in task_queries(cfg) if not held_out(cfg, k)]


def rollout_seed(seed_start: int, round_: int, index: int, per_seed: int) -> int:
    """Seeds of round r: seed_start + (r-1)*1000 + i // per_seed (fresh instances every round)."""
    return seed_start + (round_ - 1) * 1000 + index // max(1, per_seed)


def round_units(cfg: PlanActConfig, round_: int, alloc: dict[str, int], queries: dict[str, dict[str, Any]],
                explore: dict[str, list[float]] | None = None) -> list[Unit]:
    """One unit per rollout; `explore` gives a task's exploration rates (default rollouts.explore)."""
    ls = cfg.learn
    units = []
    for task, n in alloc.items():
        q = queries[task]
        for i in range(n):
            data = dict(q)
            if not ls.queries:
                data["env_seed"] = rollout_seed(ls.seed_start, round_, i, ls.rollouts.per_seed)
                key = f"r{round_}-{task}-s{data['env_seed']}-k{i % max(1, ls.rollouts.per_seed)}"
            else:
                key = f"r{round_}-{task}-k{i}"
            query = new_record("queries", key, 0, Provenance(stage="learn", seed=ls.seed), data)
            temps = _cycle(ls.rollouts.temperature)
            rates = (explore or {}).get(task) or _cycle(ls.rollouts.explore)
            agent = {"temperature": temps[i % len(temps)]}
            if rates[i % len(rates)]:
                agent.update(explore=rates[i % len(rates)], explore_seed=i % max(1, ls.rollouts.per_seed))
            units.append(Unit(key, {"query": query.model_dump(), "rollout": i, "agent": agent}))
    return units


def _cycle(value: float | list[float]) -> list[float]:
    return value if isinstance(value, list) else [value]


def actor_config(cfg: PlanActConfig, policy: dict[str, str]) -> dict[str, Any]:
    ls = cfg.learn
    ro = ls.rollouts
    temp = ro.temperature[0] if isinstance(ro.temperature, list) else ro.temperature
    agent = {**cfg.agent.model_dump(), "prompt_version": ls.prompt_version, "temperature": temp,
             "max_steps": ro.max_steps, "grammar": ro.grammar, **ro.agent}
    browser = {**cfg.browser.model_dump(), "screenshots": False}
    return PlanActConfig.model_validate({"models": policy, "agent": agent, "browser": browser}).model_dump(
        include={"models", "agent", "browser"})


def run_rollouts(cfg: PlanActConfig, out: Path, round_: int, alloc: dict[str, int], policy: dict[str, str],
                 models: ModelCache, progress: Progress | None,
                 explore: dict[str, list[float]] | None = None) -> StageStats:
    ls = cfg.learn
    units = round_units(cfg, round_, alloc, task_queries(cfg), explore)
    judge = (ls.rollouts.judge or ls.teacher or ls.base) if ls.rollouts.orm == "llm" else None
    worker = RolloutWorker(actor_config(cfg, policy), ls.rollouts.orm, judge, None)
    return run_stage("rollouts", rollout_store(out, round_), units, worker,
                     Execution(workers=ls.rollouts.workers), uses_browser=True, progress=progress, models=models)


def rollout_store(out: Path, round_: int) -> RecordStore:
    return RecordStore(out / "rounds" / str(round_) / "rollouts.jsonl")


def task_of(rec: Record) -> str:
    q = rec.data
    return q.get("task_key") or (q.get("task_id") if q.get("task_id") not in (None, "adhoc") else rec.unit)


def all_rollouts(out: Path, upto: int) -> list[Record]:
    recs: list[Record] = []
    for r in range(1, upto + 1):
        recs.extend(rollout_store(out, r).read())
    return recs


def task_records(out: Path, upto: int) -> dict[str, TaskRecord]:
    """Attempts and successes per task over rounds 1..upto, and in the latest round of each task."""
    per_round: dict[str, dict[int, list[int]]] = defaultdict(dict)
    for r in range(1, upto + 1):
        for rec in rollout_store(out, r).read():
            if rec.reason and rec.reason.startswith(("rollout_error", "no_environment")):
                continue
            s = per_round[task_of(rec)].setdefault(r, [0, 0])
            s[0] += int(rec.kept)
            s[1] += 1
    out_: dict[str, TaskRecord] = {}
    for task, rounds in per_round.items():
        last = rounds[max(rounds)]
        out_[task] = TaskRecord(attempts=sum(v[1] for v in rounds.values()),
                                successes=sum(v[0] for v in rounds.values()),
                                last_attempts=last[1], last_successes=last[0])
    return out_


def round_counts(out: Path, round_: int) -> dict[str, list[int]]:
    counts: dict[str, list[int]] = {}
    for rec in rollout_store(out, round_).read():
        c = counts.setdefault(task_of(rec), [0, 0])
        c[0] += int(rec.kept)
        c[1] += 1
    return counts
