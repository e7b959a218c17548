"""Stage 7: replanning data. From each grounded plan (and its successful trajectory), one example
per point after an action: task, the plan so far, the actions taken, the current page -> the plan
for what remains. A teacher that sees the future actions writes it; a plan that states the final
answer before the page or the history has shown it is dropped as a leak."""

from __future__ import annotations

from dataclasses import dataclass

from ..agent.grammars import plan_grammar
from ..agent.plan import PlanParseError, parse_plan
from .annotator import ANNOTATOR_VERSION, OFFLINE_TEACHER, describe_trajectory, remaining_plan
from .context import StageContext
from .dedupe import normalize
from .engine import StageStats, Unit, run_stage
from .plans import plan_text
from .prompting import PromptWorker, Tally, ask, prompt_id
from .records import Provenance, Record, load_records, new_record
from .trajdata import actions_of, history_until, numbered_actions


def answer_leak(plan: str, answer: str | None, seen: str) -> bool:
    """The final answer appears in the plan although neither the page nor the history shows it."""
    if not answer:
        return False
    a = normalize(answer)
    if len(a) < 3 or a in {"done", "yes", "no", "ok", "n a"}:
        return False
    return f" {a} " in f" {normalize(plan)} " and f" {a} " not in f" {normalize(seen)} "


@dataclass
class ReplanWorker(PromptWorker):
    prompt_name = "replan_teacher"
    model: str
    max_tokens: int
    prompt_dir: str | None

    def process(self, unit: Unit) -> list[Record]:
        p = unit.payload
        tally = Tally()
        variables = {k: p[k] for k in ("task", "plan", "history", "url", "html", "future")}
        feedback, problem, raw = None, "", ""
        prov = Provenance(stage="replan", model=self.model, prompt=prompt_id(self.prompt))
        for attempt in range(2):
            raw = ask(self.llm, self.prompt, variables, tally, max_tokens=self.max_tokens, grammar=plan_grammar(),
                      feedback=feedback, seed=attempt)
            try:
                plan = parse_plan(raw)
            except PlanParseError as err:
                problem, feedback = f"unparsable: {err}", str(err)
                continue
            text = plan_text(plan)
            if answer_leak(text, p["answer"], p["html"] + "\n" + p["history"]):
                problem = "leak: the plan states the final answer before the page has shown it"
                feedback = "the plan states a result that the current page has not shown yet; write how to find it"
                continue
            data = {k: p[k] for k in ("task", "plan", "history", "url", "html", "after_action", "trajectory_id")}
            data.update({"site": p.get("site"), "target": plan.to_dict(), "target_text": text})
            return [new_record("replan", unit.key, 0, prov, data, [p["plan_id"], p["trajectory_id"]],
                               usage=tally.as_usage())]
        return [new_record("replan", unit.key, 0, prov, {"raw": raw[:2000]}, [p["plan_id"]], "dropped", problem,
                           tally.as_usage())]


def _imported_history(t: Record) -> list[tuple[int, str, str]]:
    """An imported trajectory's own replans (`synth import --format plan-and-act`): (after action k, the
    plan in use, the plan written then) for each later plan of `plan_history` at its `replan_steps`."""
    plans = t.data.get("imported_plans") or {}
    history, at = plans.get("plan_history") or [], plans.get("replan_steps") or []
    n = len(actions_of(t.data["trajectory"]))
    out = []
    for j in range(1, len(history)):
        k = at[j - 1] if j - 1 < len(at) else None
        if isinstance(k, int) and 1 <= k < n and isinstance(history[j - 1], str) and isinstance(history[j], str):
            out.append((k, history[j - 1], history[j]))
    return out


def imported_units(ctx: StageContext) -> list[Unit]:
    units = []
    for t in load_records(ctx.out / "trajectories.jsonl"):
        traj = t.data["trajectory"]
        views, steps = actions_of(traj), traj["steps"]
        for k, before, after in _imported_history(t):
            nxt = views[k]
            units.append(Unit(f"imported-{t.id}-{k}", {
                "task": traj["task"], "plan": before, "target": after, "history": history_until(traj, nxt.position),
                "url": steps[nxt.position]["url"], "html": steps[nxt.position]["observation"], "after_action": k,
                "trajectory_id": t.id, "site": t.data.get("site"), "model": t.provenance.model}))
    return units


@dataclass
class ImportedReplanWorker:
    """The replans an imported trajectory came with, as replanning examples (no teacher)."""

    def __call__(self, models) -> "ImportedReplanWorker":  # noqa: ANN001
        return self

    def process(self, unit: Unit) -> list[Record]:
        p = unit.payload
        prov = Provenance(stage="replan", model=p["model"], prompt="imported")
        data = {k: p[k] for k in ("task", "history", "url", "html", "after_action", "trajectory_id", "site")}
        try:
            before, target = plan_text(parse_plan(p["plan"])), parse_plan(p["target"])
        except PlanParseError as err:
            return [new_record("replan", unit.key, 0, prov, data, [p["trajectory_id"]], "dropped", f"unparsable: {err}")]
        data.update({"plan": before, "target": target.to_dict(), "target_text": plan_text(target)})
        return [new_record("replan", unit.key, 0, prov, data, [p["trajectory_id"]])]

    def close(self) -> None:
        pass


def replan_units(ctx: StageContext, with_trajectory: bool = False) -> list[Unit]:
    trajs = {t.id: t for t in load_records(ctx.out / "trajectories.jsonl")}
    units = []
    limit = ctx.settings.replan.max_points
    for pr in load_records(ctx.out / "plans.jsonl"):
        t = trajs.get(pr.data["trajectory_id"])
        if t is None or _imported_history(t):
            continue  # (a trajectory that came with its own replans has them as its replanning data)
        traj = t.data["trajectory"]
        views = actions_of(traj)
        steps = traj["steps"]
        points = list(range(1, len(views)))  # after action k, with actions left to do
        if limit is not None:
            points = points[:limit]
        for k in points:
            nxt = views[k]  # the step the agent is at after action k
            units.append(Unit(f"{pr.id}-{k}", {
                "task": traj["task"], "plan": pr.data["plan_text"], "history": history_until(traj, nxt.position),
                "url": steps[nxt.position]["url"], "html": steps[nxt.position]["observation"],
                "future": numbered_actions(views[k:]) + (f"\nFinal answer: {traj['answer']}" if traj.get("answer") else ""),
                "answer": traj.get("answer"), "after_action": k, "trajectory_id": t.id, "plan_id": pr.id,
                "site": pr.data.get("site"), **({"trajectory": traj} if with_trajectory else {})}))
    return units


@dataclass
class OfflineReplanWorker:
    """`--teacher offline`: the remaining plan written from the actions still to come (no model).
    The current plan shown is the one a replanning agent had then: what remained one action earlier."""

    def __call__(self, models) -> "OfflineReplanWorker":  # noqa: ANN001 - the engine's ModelCache
        return self

    def process(self, unit: Unit) -> list[Record]:
        p = unit.payload
        k = p["after_action"]
        actions = describe_trajectory(p["trajectory"])
        prov = Provenance(stage="replan", model=OFFLINE_TEACHER, prompt=f"synth.annotator.{ANNOTATOR_VERSION}")
        current = plan_text(remaining_plan(p["task"], actions, k - 1))
        target = remaining_plan(p["task"], actions, k)
        data = {kk: p[kk] for kk in ("task", "history", "url", "html", "after_action", "trajectory_id")}
        data.update({"plan": current, "site": p.get("site"), "target": target.to_dict(),
                     "target_text": plan_text(target)})
        return [new_record("replan", unit.key, 0, prov, data, [p["plan_id"], p["trajectory_id"]])]

    def close(self) -> None:
        pass


def run(ctx: StageContext) -> list[StageStats]:
    s = ctx.settings
    teacher = s.role_model(s.replan.teacher)
    offline = teacher == OFFLINE_TEACHER
    worker = OfflineReplanWorker() if offline else ReplanWorker(teacher, s.max_tokens, s.prompt_dir)
    units = replan_units(ctx, with_trajectory=offline)
    stats = [run_stage("replan", ctx.store("replan"), units, worker, ctx.execution, progress=ctx.progress,
                       models=ctx.models)]
    given = imported_units(ctx)
    if given:
        stats.append(run_stage("replan", ctx.store("replan"), given, ImportedReplanWorker(), ctx.execution,
                               progress=ctx.progress, models=ctx.models))
    return stats
