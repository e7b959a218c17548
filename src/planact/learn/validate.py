"""Phase 6: validation of a round's policy on held-out seeds (>= 10000, never rolled out), with each
agent configuration of `learn.validate.agents` (say, planner and executor, and the executor alone);
the best configuration's score decides whether the round is kept. Greedy decoding; an eval run folder
per configuration and round (`validation/<name>/`), so a killed validation resumes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from ..agent.factory import build_agent
from ..bench.records import RecordLog, latest
from ..bench.registry import get_suite
from ..bench.runner import RunSettings, parse_seeds, run_eval
from ..config import AgentSettings, PlanActConfig
from ..synth.engine import ModelCache, Progress
from ..synth.engine import Execution, Unit, run_stage
from ..synth.records import Provenance, RecordStore, new_record
from ..synth.trajectories import RolloutWorker
from ..web.observation import page_script
from .rollouts import held_out, task_of, task_queries


def validation_config(cfg: PlanActConfig, policy: dict[str, str], agent: dict[str, Any] | None = None) -> PlanActConfig:
    """The eval settings of one validation configuration (the first of `learn.validate.agents` by default)."""
    v = cfg.learn.validate_
    agent = {**cfg.agent.model_dump(), "prompt_version": cfg.learn.prompt_version, "temperature": 0.0,
             "max_steps": v.max_steps, "grammar": True, **(next(iter(v.agents.values())) if agent is None else agent)}
    browser = {**cfg.browser.model_dump(), "screenshots": False}
    return PlanActConfig.model_validate({"models": policy, "agent": agent, "browser": browser})


def behaviour(agent: AgentSettings) -> dict[str, Any]:
    """The agent settings that change what it does: not the speed-only prefix cache, not vision and
    its image budget (the loop's local models take no images), and the adaptive replanning knobs only
    when replanning is adaptive."""
    d = agent.model_dump(mode="json", exclude={"prefix_cache", "vision", "image_tokens"})
    if agent.replan != "adaptive":
        d.pop("replan_on")
        d.pop("replan_every")
    return d


def _mechanics() -> str:
    """The code that decides what an action does and which answers the executor may give: the browser's
    actions and page scripts, grammars and grounding, and the loop that tells an action that changed
    nothing (the page's digest) and leaves it out. A change there can move a score with the policy
    unchanged (a click on an <option> that now picks it), so it is part of the protocol."""
    import planact.agent.grammars as grammars
    import planact.agent.grounding as grounding
    import planact.agent.loop as loop
    import planact.web.env as env
    import planact.web.observation as observation

    h = hashlib.sha1()
    files = [Path(m.__file__) for m in (grammars, grounding, env, loop, observation)]
    files += sorted((Path(env.__file__).parent / "js").glob("*.js"))
    for f in files:
        h.update(f.name.encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


def _digest(d: dict) -> str:
    return hashlib.sha1(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()[:10]


def _shared(cfg: PlanActConfig) -> dict:
    browser = validation_config(cfg, {}).browser.model_dump(mode="json", exclude={"set_of_marks"})
    return {"browser": browser, "observe": hashlib.sha1(page_script("observe").encode()).hexdigest(),
            "mechanics": _mechanics(), "tasks": sorted(task_queries(cfg)), "seeds": cfg.learn.validate_.seeds,
            "suite": cfg.learn.suite}


def validation_protocol(cfg: PlanActConfig) -> str:
    """What validation scores depend on besides the policy: each configuration's resolved agent
    settings (defaults included), the browser settings, what observations show and what actions do
    (the page scripts, the browser's actions, grammars and grounding), tasks and seeds. Scores under
    different protocols are not compared: a changed protocol has the best round validated again
    (unless only configurations other than the best one were dropped: `agent_protocols`)."""
    agents = {name: behaviour(validation_config(cfg, {}, a).agent) for name, a in cfg.learn.validate_.agents.items()}
    return _digest({"agents": agents, **_shared(cfg)})


def agent_protocols(cfg: PlanActConfig) -> dict[str, str]:
    """The protocol of each validation configuration alone: its agent settings and all the rest that
    `validation_protocol` covers. A configuration whose digest is unchanged scores as it did."""
    shared = _shared(cfg)
    return {name: _digest({"agent": behaviour(validation_config(cfg, {}, a).agent), **shared})
            for name, a in cfg.learn.validate_.agents.items()}


def validation_jobs(cfg: PlanActConfig) -> list[tuple[str, int | None]]:
    return [(t, s) for t in task_queries(cfg) for s in parse_seeds(cfg.learn.validate_.seeds)]


def run_validation(cfg: PlanActConfig, folder: Path, policy: dict[str, str], models: ModelCache,
                   progress: Progress | None) -> None:
    """Each configuration into `folder/<name>/`. Suite tasks: an eval run on the validation seeds
    (`episodes.jsonl`, with traces). Intents (learn.queries): the held-out intents, scored by the
    loop's ORM (`validation.jsonl`)."""
    for name, agent in cfg.learn.validate_.agents.items():
        vcfg = validation_config(cfg, policy, agent)
        label = f"validate {name}"
        if cfg.learn.queries:
            _validate_intents(cfg, vcfg, folder / name, models, progress)
        else:
            _validate_suite(cfg, vcfg, folder / name, models, progress, label)


def _validate_suite(cfg: PlanActConfig, vcfg: PlanActConfig, folder: Path, models: ModelCache,
                    progress: Progress | None, label: str) -> None:
    suite = get_suite(cfg.learn.suite, vcfg)
    jobs = validation_jobs(cfg)
    log = RecordLog(folder / "episodes.jsonl")
    done = len({(suite.name, t, s) for t, s in jobs} & log.done_keys())
    if progress:
        progress(label, done, len(jobs))
    counter = [done]

    def on_record(_rec) -> None:  # noqa: ANN001
        counter[0] += 1
        if progress:
            progress(label, counter[0], len(jobs))

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
    """task -> [successes, episodes] of one configuration's validation (either kind)."""
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


def validation_results(cfg: PlanActConfig, folder: Path) -> dict[str, dict[str, list[int]]]:
    """name -> task -> [successes, episodes], for each configuration validated in `folder`."""
    return {name: validation_counts(folder / name) for name in cfg.learn.validate_.agents}


def best_of(results: dict[str, dict[str, list[int]]]) -> tuple[str, float]:
    """The configuration with the highest success rate (the first listed on a tie), and that rate."""
    name = max(results, key=lambda k: (rate(results[k]), -list(results).index(k)))
    return name, rate(results[name])


def rate(counts: dict[str, list[int]]) -> float:
    n = sum(c[1] for c in counts.values())
    return sum(c[0] for c in counts.values()) / n if n else 0.0
