"""Stage 3: grounded plan generation. A teacher reverse-engineers each successful trajectory into
a plan in the planner's format whose steps list the actions they cover (`Actions: 1, 2`). The
grounding is validated (in order, consecutive runs, every action exactly once); an invalid plan is
sent back with the error, and dropped after `max_attempts`. With a grammar-capable backend the
grammar itself allows only valid groundings."""

from __future__ import annotations

from dataclasses import dataclass

from ..agent.grammars import grounded_plan_grammar
from ..agent.plan import Plan, PlanParseError, parse_plan
from .annotator import ANNOTATOR_VERSION, OFFLINE_TEACHER, annotate, describe_trajectory
from .context import StageContext
from .engine import StageStats, Unit, run_stage
from .prompting import PromptWorker, Tally, ask, prompt_id
from .records import Provenance, Record, load_records, new_record
from .trajdata import actions_of, numbered_actions


def validate_grounding(plan: Plan, n_actions: int) -> str | None:
    """None if the steps' action lists cover 1..n in order, each exactly once, each step a
    consecutive run; otherwise what is wrong, in words a model can act on."""
    expected = 1
    for i, step in enumerate(plan.steps, 1):
        if not step.actions:
            return f"step {i} has no 'Actions:' line listing the actions it covers"
        for a in step.actions:
            if a < 1 or a > n_actions:
                return f"step {i} lists action {a}, but the actions are numbered 1 to {n_actions}"
            if a < expected:
                return f"action {a} is listed twice or out of order (step {i})"
            if a > expected:
                return f"action {expected} is not covered (step {i} jumps to {a}); every action from 1 to " \
                       f"{n_actions} must belong to exactly one step, in order"
            expected += 1
    if expected <= n_actions:
        return f"actions {expected} to {n_actions} are not covered by any step"
    return None


def plan_text(plan: Plan, with_actions: bool = False) -> str:
    """The planner's training target: the grounded plan without its `Actions:` lines."""
    if with_actions:
        return plan.render()
    return Plan([type(s)(step=s.step, reasoning=s.reasoning) for s in plan.steps]).render()


def imported_plan(rec: dict, n_actions: int) -> Plan | None:
    """The plan an imported trajectory came with (`synth import --format plan-and-act`), when it is
    grounded (`Actions:` lines covering the actions in order): used as the teacher's. Otherwise None,
    and the teacher grounds the trajectory as any other."""
    imported = (rec["data"].get("imported_plans") or {}).get("initial_plan")
    if not isinstance(imported, str):
        return None
    try:
        plan = parse_plan(imported)
    except PlanParseError:
        return None
    return plan if validate_grounding(plan, n_actions) is None else None


def plan_data(rec: dict, plan: Plan, views: list, attempts: int) -> dict:
    """A grounded plan record's data (what `export` and `replan` read)."""
    traj = rec["data"]["trajectory"]
    first = traj["steps"][0]
    return {"task": traj["task"], "site": rec["data"].get("site"), "start_url": first["url"],
            "initial_observation": first["observation"], "plan": plan.to_dict(), "plan_text": plan_text(plan),
            "grounded_text": plan.render(), "n_actions": len(views), "action_positions": [v.position for v in views],
            "trajectory_id": rec["id"], "answer": traj.get("answer"), "attempts": attempts}


@dataclass
class OfflineGroundWorker:
    """`--teacher offline`: the grounded plan written from the actions and their elements (no model)."""

    def __call__(self, models) -> "OfflineGroundWorker":  # noqa: ANN001 - the engine's ModelCache
        return self

    def process(self, unit: Unit) -> list[Record]:
        rec = unit.payload["trajectory"]
        traj = rec["data"]["trajectory"]
        views = actions_of(traj)
        prov = Provenance(stage="plans", model=OFFLINE_TEACHER, prompt=f"synth.annotator.{ANNOTATOR_VERSION}")
        if not views:
            return [new_record("plans", unit.key, 0, prov, {"trajectory_id": rec["id"]}, [rec["id"]], "dropped",
                               "no_actions: the trajectory has no parsed action")]
        given = imported_plan(rec, len(views))
        if given is not None:
            prov = Provenance(stage="plans", model=rec["provenance"]["model"], prompt="imported")
            return [new_record("plans", unit.key, 0, prov, plan_data(rec, given, views, 0), [rec["id"]])]
        plan = annotate(traj["task"], describe_trajectory(traj))
        problem = validate_grounding(plan, len(views))
        if problem is not None:  # cannot happen by construction; kept as a guard
            return [new_record("plans", unit.key, 0, prov, {"trajectory_id": rec["id"]}, [rec["id"]], "dropped",
                               f"invalid_grounding: {problem}")]
        return [new_record("plans", unit.key, 0, prov, plan_data(rec, plan, views, 1), [rec["id"]])]

    def close(self) -> None:
        pass


@dataclass
class GroundWorker(PromptWorker):
    prompt_name = "grounded_plan"
    model: str
    max_attempts: int
    max_tokens: int
    prompt_dir: str | None

    def process(self, unit: Unit) -> list[Record]:
        rec = unit.payload["trajectory"]
        traj = rec["data"]["trajectory"]
        views = actions_of(traj)
        prov = Provenance(stage="plans", model=self.model, prompt=prompt_id(self.prompt))
        if not views:
            return [new_record("plans", unit.key, 0, prov, {"trajectory_id": rec["id"]}, [rec["id"]], "dropped",
                               "no_actions: the trajectory has no parsed action")]
        given = imported_plan(rec, len(views))
        if given is not None:
            prov = Provenance(stage="plans", model=rec["provenance"]["model"], prompt="imported")
            return [new_record("plans", unit.key, 0, prov, plan_data(rec, given, views, 0), [rec["id"]])]
        first = traj["steps"][0]
        variables = {"task": traj["task"], "url": first["url"], "html": first["observation"], "n": len(views),
                     "actions": numbered_actions(views), "answer": traj.get("answer")}
        tally = Tally()
        feedback, error, raw = None, "", ""
        grammar = grounded_plan_grammar(len(views))
        for attempt in range(self.max_attempts):
            raw = ask(self.llm, self.prompt, variables, tally, max_tokens=self.max_tokens + 24 * len(views),
                      grammar=grammar, feedback=feedback, seed=attempt)
            try:
                plan = parse_plan(raw)
            except PlanParseError as err:
                error = f"unparsable: {err}"
                feedback = str(err)
                continue
            problem = validate_grounding(plan, len(views))
            if problem is None:
                data = plan_data(rec, plan, views, attempt + 1)
                return [new_record("plans", unit.key, 0, prov, data, [rec["id"]], usage=tally.as_usage())]
            error = f"invalid_grounding: {problem}"
            feedback = problem
        return [new_record("plans", unit.key, 0, prov, {"trajectory_id": rec["id"], "raw": raw}, [rec["id"]],
                           "dropped", error, tally.as_usage())]


def run(ctx: StageContext) -> list[StageStats]:
    s = ctx.settings
    trajs = load_records(ctx.out / "trajectories.jsonl")
    units = [Unit(t.id, {"trajectory": t.model_dump()}) for t in trajs]
    teacher = s.role_model(s.plans.teacher)
    factory = OfflineGroundWorker() if teacher == OFFLINE_TEACHER else \
        GroundWorker(teacher, s.plans.max_attempts, s.max_tokens, s.prompt_dir)
    return [run_stage("plans", ctx.store("plans"), units, factory, ctx.execution, progress=ctx.progress,
                      models=ctx.models)]
