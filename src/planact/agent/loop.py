"""The Plan-and-Act loop: plan, then act step by step, replanning after every action (the paper),
never, or adaptively: only when something says the plan may be stale."""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal, Protocol

from ..llm.base import LLM
from ..web.actions import Action
from ..web.browser import PageHung
from ..web.env import ActionResult
from ..web.observation import Observation
from .explore import draw
from .plan import Plan
from .prompts import AUTO, concrete_version
from .roles import ExecutorRole, PlannerRole, RoleOutput, RoleSettings, fallback_plan
from .trace import PlanVersion, StepRecord, Trajectory


class Environment(Protocol):
    def observe(self) -> Observation: ...

    def act(self, action: Action) -> ActionResult: ...

    def finished(self) -> bool:
        """True once the environment itself ended the episode (e.g. MiniWoB's done flag)."""
        ...


@dataclass
class AgentConfig:
    use_planner: bool = True
    replan: Literal["every-step", "never", "adaptive"] = "every-step"
    # adaptive replanning: the triggers that call the replanner, and the most actions between two plans
    replan_on: tuple[str, ...] = ("failed", "no_effect", "navigated", "step_done", "asked", "plan_done", "interval")
    replan_every: int = 4
    vision: bool = True  # screenshots to a planner / executor whose model takes images
    image_tokens: int = 1105  # a screenshot costs at most this (OpenAI's count; 1280x720 at high detail is 1105)
    ground_element: bool = False  # the executor's "# Element:" description narrows the ids it may use
    type_from_task: bool = False  # what the executor types is made of the task's words (grammar backends)
    type_into_fields: bool = False  # Type / Search only into fields, Select only in lists (grammar backends)
    cot: bool = False
    max_steps: int = 25
    episode_timeout_s: float = 1800.0  # checked before each step; 0 = no limit
    max_repeats: int = 3  # identical action, page unchanged, this many times in a row = loop
    # an action that left the page unchanged is not offered again on that same page (grammar backends)
    avoid_futile: bool = False
    planner_max_tokens: int = 512
    executor_max_tokens: int = 256
    cot_extra_tokens: int = 512
    temperature: float = 0.0
    use_grammar: bool = True
    grammar_notes: bool = True
    grammar_exit: bool = True
    explore: float = 0.0  # rollouts only: per-step chance of trying one afforded action type (explore.py)
    explore_seed: int = 0
    prompt_version: str = AUTO  # or v1, v2: see prompts.concrete_version
    prompt_dir: str | None = None
    snippet_chars: int = 400


Event = Callable[[str, dict[str, Any]], None]

# actions whose effect the observation may not show (the whole page is observed, not the viewport)
_QUIET = {"Scroll Up", "Scroll Down", "Hover"}
_STEP_DONE = re.compile(r"\bstep\s*\d*\s*(?:is\s+)?(?:done|complete|completed|finished)\b", re.IGNORECASE)
_ASKED = re.compile(r"\b(?:replan|new plan|plan is wrong|plan does not fit)\b", re.IGNORECASE)


def replan_reasons(action: Action, result: ActionResult, before: Observation, after: Observation,
                   actions_since_plan: int, plan: Plan | None, replan_every: int) -> list[str]:
    """Why the plan may be stale after this action (adaptive replanning); empty: keep the plan."""
    reasons = []
    if result.error:
        reasons.append("failed")
    elif after.digest == before.digest and action.name not in _QUIET:
        reasons.append("no_effect")
    if after.url != before.url:
        reasons.append("navigated")
    note = action.note or ""
    if _STEP_DONE.search(note):
        reasons.append("step_done")
    if _ASKED.search(note):
        reasons.append("asked")
    if plan is not None and actions_since_plan >= len(plan.steps):
        reasons.append("plan_done")
    if actions_since_plan >= replan_every:
        reasons.append("interval")
    return reasons


def history_text(steps: list[StepRecord]) -> str:
    """The executor's and replanner's view of past steps: each action, the element it acted on
    (a snippet of that past page), and what failed."""
    lines = []
    for rec in steps:
        if rec.action is None:
            lines.append(f"Step {rec.index}: (no valid action: {rec.parse_error})")
            continue
        desc = f"Step {rec.index}: {rec.action}"
        if rec.note:
            desc += f"  # Note: {rec.note}"
        lines.append(desc)
        if rec.element is not None:
            lines.append(f"  on: {rec.snippet or ''}")
        if rec.action_error:
            lines.append(f"  failed: {rec.action_error}")
        if rec.page_notice:
            lines.append(f"  page: {rec.page_notice}")
    return "\n".join(lines)


def executor_variables(task: str, plan: str, steps: list[StepRecord], feedback: str | None, url: str,
                       html: str) -> dict[str, Any]:
    """What the executor prompt is rendered with; training data is rendered with the same function."""
    return {
        "task": task,
        "plan": plan,
        "notes": [s.note for s in steps if s.action is not None and s.note],
        "history": history_text(steps),
        "feedback": feedback,
        "url": url,
        "html": html,
    }


class PlanActAgent:
    def __init__(self, executor: LLM, planner: LLM | None = None, replanner: LLM | None = None,
                 config: AgentConfig | None = None) -> None:
        self.config = cfg = config or AgentConfig()
        extra = cfg.cot_extra_tokens if cfg.cot else 0
        plan_settings = RoleSettings(cfg.planner_max_tokens + extra, cfg.temperature, cfg.cot, cfg.use_grammar,
                                     vision=cfg.vision, image_tokens=cfg.image_tokens)
        self.executor = ExecutorRole(
            executor, RoleSettings(cfg.executor_max_tokens + extra, cfg.temperature, cfg.cot, cfg.use_grammar,
                                   grammar_notes=cfg.grammar_notes, grammar_exit=cfg.grammar_exit, vision=cfg.vision,
                                   image_tokens=cfg.image_tokens, ground_element=cfg.ground_element,
                                   type_from_task=cfg.type_from_task, type_into_fields=cfg.type_into_fields),
            concrete_version(cfg.prompt_version, executor), cfg.prompt_dir)
        self.planner = self.replanner = None
        if cfg.use_planner:
            if planner is None:
                raise ValueError("use_planner is set but no planner model was given")
            self.planner = PlannerRole(planner, plan_settings, "planner", concrete_version(cfg.prompt_version, planner),
                                       cfg.prompt_dir)
            if cfg.replan in ("every-step", "adaptive"):
                llm = replanner or planner
                self.replanner = PlannerRole(llm, plan_settings, "replanner", concrete_version(cfg.prompt_version, llm),
                                             cfg.prompt_dir)

    # ---------------------------------------------------------------------------------------
    def describe(self) -> tuple[dict[str, str], dict[str, str]]:
        models = {"executor": self.executor.llm.name}
        prompts = {"executor": self.executor.prompt.id}
        for role in (self.planner, self.replanner):
            if role is not None:
                models[role.role] = role.llm.name
                prompts[role.role] = role.prompt.id
        return models, prompts

    def _record_plan(self, traj: Trajectory, role: str, step: int, plan: Plan | None, out: RoleOutput,
                     error: str | None, previous: Plan | None, emit: Event, reasons: list[str]) -> Plan:
        traj.llm_calls.extend(out.calls)
        if plan is None:
            plan = previous or fallback_plan(traj.task)
        traj.plans.append(PlanVersion(step, role, plan.to_dict(), plan.render(), out.raw, out.reasoning, error,
                                      reasons))
        emit("plan", {"role": role, "after_step": step, "text": plan.render(), "error": error,
                      "reasoning": out.reasoning, "reasons": reasons})
        return plan

    def run(self, env: Environment, task: str, on_event: Event | None = None,
            trajectory: Trajectory | None = None) -> Trajectory:
        cfg = self.config
        emit = on_event or (lambda kind, payload: None)
        traj = trajectory or Trajectory(task=task)
        traj.config = asdict(cfg)
        traj.models, traj.prompts = self.describe()
        started = time.perf_counter()
        try:
            self._run(env, task, traj, emit)
        except PageHung as err:  # the browser was killed; the trace keeps what happened before
            traj.status, traj.error = "timeout", str(err)
            emit("error", {"error": traj.error})
        except Exception as err:  # noqa: BLE001 - the trace keeps what happened before the failure
            traj.status, traj.error = "error", f"{type(err).__name__}: {err}"
            emit("error", {"error": traj.error})
        traj.wall_s = time.perf_counter() - started
        emit("done", {"status": traj.status, "answer": traj.answer, "steps": len(traj.steps)})
        return traj

    def _run(self, env: Environment, task: str, traj: Trajectory, emit: Event) -> None:
        cfg = self.config
        t0 = time.perf_counter()
        obs = env.observe()
        observe_s = time.perf_counter() - t0
        traj.start_url = traj.start_url or obs.url
        plan: Plan | None = None
        if self.planner is not None:
            p, out, err = self.planner.plan(task, obs)
            plan = self._record_plan(traj, "planner", 0, p, out, err, None, emit, ["initial"])
        feedback: str | None = None
        repeats = 0
        traj.status = "max_steps"
        rng = random.Random(f"{cfg.explore_seed}:{task}")  # exploration's draws: reproducible per episode
        acted: list[Action] = []  # what exploration steers away from repeating
        futile: dict[str, set[tuple[str, int | None]]] = {}  # page digest -> actions that did not change it
        deadline = time.perf_counter() + cfg.episode_timeout_s if cfg.episode_timeout_s else None
        since_plan = 0  # actions since the plan in use was written
        for index in range(1, cfg.max_steps + 1):
            if deadline is not None and time.perf_counter() > deadline:
                traj.status, traj.error = "timeout", f"the episode time limit ({cfg.episode_timeout_s:g} s) was reached"
                emit("error", {"error": traj.error})
                break
            variables = executor_variables(task, plan.render() if plan else "", traj.steps, feedback, obs.url,
                                           obs.html)
            explored = draw(obs, task, cfg.explore, rng, acted)
            if explored is not None:  # exploration's random action instead of the model's (no model call)
                action, out, parse_error = explored, RoleOutput(explored.call(), None, []), None
            else:
                avoid = futile.get(obs.digest, set()) if cfg.avoid_futile else set()
                action, out, parse_error = self.executor.next_action(variables, obs, index, feedback, avoid)
            traj.llm_calls.extend(out.calls)
            rec = StepRecord(index=index, url=obs.url, observation=obs.html, observation_tokens=obs.tokens,
                             raw_html_chars=obs.raw_html_chars, raw_output=out.raw, reasoning=out.reasoning,
                             parse_error=parse_error, plan_version=len(traj.plans) - 1 if traj.plans else None,
                             observe_s=observe_s, screenshot_bytes=obs.screenshot,
                             explored=explored.name if explored else None)
            traj.steps.append(rec)
            if action is None:
                feedback = parse_error
                emit("action", {"step": index, "raw": out.raw, "error": parse_error})
                continue
            rec.action, rec.element, rec.note = action.call(), action.element, action.note
            acted.append(action)
            if action.element is not None:
                rec.snippet = obs.snippet(action.element, cfg.snippet_chars)
            if action.is_exit:
                traj.answer, traj.status = action.message, "exit"
                emit("action", {"step": index, "action": rec.action, "raw": out.raw})
                break
            result = env.act(action)
            rec.act_s = result.elapsed_s
            rec.action_error = result.error
            rec.page_notice = result.notice
            feedback = result.error
            emit("action", {"step": index, "action": rec.action, "raw": out.raw, "error": result.error})
            t0 = time.perf_counter()
            new_obs = env.observe()
            observe_s = time.perf_counter() - t0
            since_plan += 1
            reasons = ["every-step"] if cfg.replan == "every-step" else [
                r for r in replan_reasons(action, result, obs, new_obs, since_plan, plan, cfg.replan_every)
                if r in cfg.replan_on]
            if new_obs.digest == obs.digest and not result.error:
                futile.setdefault(obs.digest, set()).add((action.name, action.element))
            same = new_obs.digest == obs.digest and len(traj.steps) > 1 and traj.steps[-2].action == rec.action
            repeats = repeats + 1 if same else 0
            obs = new_obs
            if env.finished():
                traj.status = "env_done"
                break
            if repeats + 1 >= cfg.max_repeats:
                traj.status = "loop"
                emit("loop", {"step": index, "action": rec.action})
                break
            if self.replanner is not None and index < cfg.max_steps and reasons:
                history = history_text(traj.steps)
                p, out, err = self.replanner.replan(task, plan, history, obs, step=index)
                plan = self._record_plan(traj, "replanner", index, p, out, err, plan, emit, reasons)
                since_plan = 0
        traj.final_url = obs.url
        traj.final_observation = obs.html
        traj.final_screenshot_bytes = obs.screenshot
