"""Stage 2: run each query with an actor agent, record the whole trajectory, score it with an
outcome reward model: `env` (the suite's own evaluator, e.g. MiniWoB's reward) or `llm` (a judge
model reads the task, the actions, the final page and the answer). Successful trajectories are
kept (executor training data); every score is recorded, failed ones as dropped records."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..agent.factory import build_agent
from ..agent.loop import history_text
from ..bench.adhoc import AdHocSuite
from ..bench.registry import get_suite, known_suite
from ..bench.runner import RunSettings, play_episode
from ..config import PlanActConfig
from ..web.browser import BrowserSession
from .context import StageContext
from .engine import ModelCache, StageStats, Unit, UnitFailed, run_stage
from .prompting import Tally, ask, parse_verdict, prompt_id, synth_prompt, verdict_grammar
from .records import Provenance, Record, load_records, new_record
from .sources import UnresolvedSite, load_seeds, resolve_start_url


@dataclass
class RolloutWorker:
    config: dict[str, Any]  # the actor: a PlanActConfig dump (models + agent + browser)
    orm: str
    judge: str | None
    prompt_dir: str | None
    max_tokens: int = 512

    def __call__(self, models: ModelCache) -> "RolloutWorker":
        cfg = PlanActConfig.model_validate(self.config)
        self.cfg = cfg
        self.agent = build_agent(cfg, models.get)
        self._models = models
        self._variants: dict[str, tuple] = {}
        self.settings = RunSettings.from_config(cfg)
        self.settings.screenshots = False
        self.judge_llm = models.get(self.judge) if self.orm == "llm" and self.judge else None
        self.judge_prompt = synth_prompt("orm_judge", directory=self.prompt_dir)
        self.sessions: dict[str, BrowserSession] = {}
        return self

    def _session(self, suite) -> BrowserSession:
        if suite.name not in self.sessions:
            self.sessions[suite.name] = BrowserSession(suite.browser_options(self.settings.browser)).start()
        return self.sessions[suite.name]

    def _suite(self, q: dict[str, Any]):
        if q.get("task_id") and known_suite(q.get("suite")):
            return get_suite(q["suite"]), q["task_id"], q.get("env_seed")
        if not q.get("start_url"):
            raise ValueError("the query has neither a suite task nor a start_url")
        return AdHocSuite(resolve_start_url(q["start_url"]), q["intent"]), "adhoc", q.get("env_seed")

    def _agent_for(self, overrides: dict[str, Any] | None):
        """The actor, or a variant of it for one unit (e.g. another sampling temperature)."""
        if not overrides:
            return self.agent, self.cfg
        key = json.dumps(overrides, sort_keys=True)
        if key not in self._variants:
            cfg = self.cfg.with_overrides(agent=overrides)
            self._variants[key] = (build_agent(cfg, self._models.get), cfg)
        return self._variants[key]

    def process(self, unit: Unit) -> list[Record]:
        q = unit.payload["query"]["data"]
        parent = unit.payload["query"]["id"]
        agent, cfg = self._agent_for(unit.payload.get("agent"))
        actor = {"models": agent.describe()[0], "agent": cfg.agent.model_dump()}
        prov = Provenance(stage="trajectories", model=agent.executor.llm.name,
                          prompt=",".join(agent.describe()[1].values()), seed=unit.payload["rollout"],
                          extra={"actor": actor, "orm": self.orm, "judge": self.judge if self.orm == "llm" else None})
        try:
            suite, task_id, env_seed = self._suite(q)
        except UnresolvedSite as err:  # configuration, not the query: redo once the site is set
            raise UnitFailed(f"{unit.key}: {err}") from None
        except ValueError as err:
            return [new_record("trajectories", unit.key, 0, prov, {"query": q.get("intent")}, [parent], "dropped",
                               f"no_environment: {err}")]
        session = self._session(suite)
        # a suite task without an intent of its own is asked as the suite asks it (MiniWoB's utterance)
        traj = play_episode(suite, session, agent, task_id, env_seed, self.settings, goal=q.get("intent") or None)
        if traj.status == "error" and not traj.steps:
            raise UnitFailed(f"{unit.key}: {traj.error}")
        tally = Tally()
        for c in traj.llm_calls:
            tally.prompt_tokens += c.prompt_tokens
            tally.completion_tokens += c.completion_tokens
        orm = self.score(traj, tally)
        data = {"query": traj.task, "site": q.get("site"), "suite": suite.name, "task_id": task_id,
                "env_seed": env_seed, "start_url": traj.start_url, "trajectory": traj.to_dict(), "orm": orm,
                **({"task_key": q["task_key"]} if q.get("task_key") else {})}
        if traj.status == "error":
            status, reason = "dropped", f"rollout_error: {traj.error}"
        elif orm["success"]:
            status, reason = "kept", None
        elif orm["success"] is None:
            status, reason = "dropped", f"orm_unparsable: {orm.get('reasoning', '')[:200]}"
        else:
            status, reason = "dropped", "orm_failure: " + (orm.get("reasoning") or f"reward {orm.get('reward')}")[:300]
        return [new_record("trajectories", unit.key, 0, prov, data, [parent], status, reason, tally.as_usage())]

    def score(self, traj, tally: Tally) -> dict[str, Any]:
        if self.orm == "env":
            if traj.success is None:
                return {"kind": "env", "success": None, "reasoning": f"suite {traj.suite} has no evaluator; use --orm llm"}
            return {"kind": "env", "success": bool(traj.success), "reward": traj.reward, "raw_reward": traj.raw_reward,
                    "details": traj.score_details}
        if self.judge_llm is None:
            raise ValueError("--orm llm needs a judge model")
        variables = {"task": traj.task, "actions": history_text(traj.steps), "answer": traj.answer,
                     "url": traj.final_url, "html": traj.final_observation}
        verdict, reasoning, feedback = None, "", None
        for _ in range(2):
            text = ask(self.judge_llm, self.judge_prompt, variables, tally, max_tokens=self.max_tokens,
                       grammar=verdict_grammar("Success", reason_first=True), feedback=feedback)
            verdict, reasoning = parse_verdict(text, "Success")
            if verdict is not None:
                break
            feedback = "end with 'Success: yes' or 'Success: no'"
        return {"kind": "llm", "success": verdict, "reasoning": reasoning, "judge": self.judge,
                "judge_prompt": prompt_id(self.judge_prompt),
                # MiniWoB and other suites still report their own reward: kept for comparison
                "env_reward": traj.reward}

    def close(self) -> None:
        for s in self.sessions.values():
            s.close()
        self.sessions: dict[str, BrowserSession] = {}


def query_records(ctx: StageContext) -> list[Record]:
    ts = ctx.settings.trajectories
    path = Path(ts.queries) if ts.queries else ctx.out / "queries.jsonl"
    if path.suffix == ".jsonl" and path.exists():
        first = path.open(encoding="utf-8").readline()
        if '"provenance"' in first:
            return load_records(path)
    # a plain seed/query file (e.g. WebArena-Lite intents): each line becomes a query
    prov = Provenance(stage="queries", extra={"source": str(path)})
    return [new_record("queries", s["id"], 0, prov, s) for s in load_seeds(path)]


def run(ctx: StageContext) -> list[StageStats]:
    s, ts = ctx.settings, ctx.settings.trajectories
    queries = query_records(ctx)
    if ts.limit is not None:
        queries = queries[: ts.limit]
    missing = set()
    for q in queries:
        if q.data.get("start_url") and not (q.data.get("task_id") and known_suite(q.data.get("suite"))):
            try:
                resolve_start_url(q.data["start_url"])
            except UnresolvedSite as err:
                missing.add(str(err))
    if missing:
        raise ValueError("the queries' sites are not configured; nothing was run:\n  " + "\n  ".join(sorted(missing)))
    units = [Unit(f"{q.id}-r{r}", {"query": q.model_dump(), "rollout": r}) for q in queries for r in range(ts.rollouts)]
    actor = ctx.config.model_dump(include={"models", "agent", "browser"})
    if ts.rollouts > 1 and ctx.config.agent.temperature == 0.0:
        actor["agent"]["temperature"] = 0.7  # several rollouts of one query only differ when sampled
    factory = RolloutWorker(actor, ts.orm, s.role_model(ts.judge) if ts.orm == "llm" else None, s.prompt_dir,
                            s.max_tokens)
    return [run_stage("trajectories", ctx.store("trajectories"), units, factory, ctx.execution, uses_browser=True,
                      progress=ctx.progress, models=ctx.models)]
