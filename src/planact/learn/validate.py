"""Phase 6: validation of a round's policy on held-out seeds (>= 10000, never rolled out), with the
agent configuration that decides whether the round is kept. Greedy decoding; an eval run folder
per round, so a killed validation resumes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..agent.factory import build_agent
from ..bench.records import RecordLog, latest
from ..bench.registry import get_suite
from ..bench.runner import RunSettings, parse_seeds, run_eval
from ..config import PlanActConfig
from ..synth.engine import ModelCache, Progress
from ..synth.engine import Execution, Unit, run_stage
from ..synth.records import Provenance, RecordStore, new_record
from ..synth.trajectories import RolloutWorker
from .rollouts import held_out, task_of, task_queries


def validation_config(cfg: PlanActConfig, policy: dict[str, str]) -> PlanActConfig:
    v = cfg.learn.validate_
    agent = {**cfg.agent.model_dump(), "prompt_version": cfg.learn.prompt_version, "temperature": 0.0,
             "max_steps": v.max_steps, "grammar": True, **v.agent}
    browser = {**cfg.browser.model_dump(), "screenshots": False}
    return PlanActConfig.model_validate({"models": policy, "agent": agent, "browser": browser})


def validation_protocol(cfg: PlanActConfig) -> str:
    """What validation scores depend on besides the policy: resolved agent and browser settings
    (defaults included), tasks and seeds. Scores under different protocols are not compared."""
    vcfg = validation_config(cfg, {})
    d = {"agent": vcfg.agent.model_dump(mode="json"), "browser": vcfg.browser.model_dump(mode="json"),
         "tasks": sorted(task_queries(cfg)), "seeds": cfg.learn.validate_.seeds, "suite": cfg.learn.suite}
    return hashlib.sha1(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()[:10]


def validation_jobs(cfg: PlanActConfig) -> list[tuple[str, int | None]]:
    return [(t, s) for t in task_queries(cfg) for s in parse_seeds(cfg.learn.validate_.seeds)]


def run_validation(cfg: PlanActConfig, folder: Path, policy: dict[str, str], models: ModelCache,
                   progress: Progress | None) -> None:
    """Suite tasks: an eval run on the validation seeds (`folder/episodes.jsonl`, with traces).
    Intents (learn.queries): the held-out intents, scored by the loop's ORM (`folder/validation.jsonl`)."""
    vcfg = validation_config(cfg, policy)
    if cfg.learn.queries:
        _validate_intents(cfg, vcfg, folder, models, progress)
        return
    suite = get_suite(cfg.learn.suite, vcfg)
    jobs = validation_jobs(cfg)
    log = RecordLog(folder / "episodes.jsonl")
    done = len({(suite.name, t, s) for t, s in jobs} & log.done_keys())
    if progress:
        progress("validate", done, len(jobs))
    counter = [done]

    def on_record(_rec) -> None:  # noqa: ANN001
        counter[0] += 1
        if progress:
            progress("validate", counter[0], len(jobs))

    agent = build_agent(vcfg, models.get)
    run_eval(suite, lambda: agent, jobs, folder, RunSettings.from_config(vcfg), workers=cfg.learn.validate_.workers,
             on_record=on_record)


def _validate_intents(cfg: PlanActConfig, vcfg: PlanActConfig, folder: Path, models: ModelCache,
                      progress: Progress | None) -> None:
    ls = cfg.learn
    units = []
    for key, q in task_queries(cfg).items():
        if held_out(cfg, key):
            query = new_record("queries", key, 0, Provenance(stage="learn", seed=ls.seed), q)
            units.append(Unit(f"val-{key}", {"query": query.model_dump(), "rollout": 0}))
    if not units:
        raise ValueError("no intent is held out for validation: raise learn.validate.holdout")
    judge = (ls.rollouts.judge or ls.teacher or ls.base) if ls.rollouts.orm == "llm" else None
    actor = vcfg.model_dump(include={"models", "agent", "browser"})
    stats = run_stage("validate", RecordStore(folder / "validation.jsonl"), units,
                      RolloutWorker(actor, ls.rollouts.orm, judge, None), Execution(workers=ls.validate_.workers),
                      uses_browser=True, progress=progress, models=models)
    if stats.errors:
        raise RuntimeError(f"{stats.errors} validation episodes failed ({stats.error_messages[0]}); run again")


def validation_counts(folder: Path) -> dict[str, list[int]]:
    """task -> [successes, episodes] of a round's validation (either kind)."""
    out: dict[str, list[int]] = {}
    if (folder / "validation.jsonl").exists():
        for rec in RecordStore(folder / "validation.jsonl").read():
            c = out.setdefault(task_of(rec), [0, 0])
            c[0] += int(rec.kept)
            c[1] += 1
        return out
    for rec in latest(RecordLog(folder / "episodes.jsonl").read()):
        c = out.setdefault(rec.task_id, [0, 0])
        c[0] += int(bool(rec.success))
        c[1] += 1
    return out


def rate(counts: dict[str, list[int]]) -> float:
    n = sum(c[1] for c in counts.values())
    return sum(c[0] for c in counts.values()) / n if n else 0.0
