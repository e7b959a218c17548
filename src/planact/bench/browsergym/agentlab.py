"""planact's agent as an AgentLab / BrowserGym agent: `get_action(obs) -> (action, agent_info)` on any
BrowserGym environment (WorkArena, VisualWebArena, AssistantBench, its WebArena and MiniWoB, ...).

    from planact.bench.browsergym.agentlab import PlanActAgentArgs
    agent_args = PlanActAgentArgs(config="my-planact.yaml")        # or planner=..., executor=...

`obs` is BrowserGym's observation; the agent reads its DOM snapshot and element properties into
planact's simplified HTML (`dom.py`: ids are BrowserGym's bids), runs planact's Plan-and-Act loop
(planner, executor, replanning, all as configured), and answers each step with the BrowserGym
action for planact's action on that element's bid (`actions.py`). planact's loop drives its own
environment; here BrowserGym drives, so the loop runs in a thread of its own and each `get_action`
hands it the next observation and waits for its next action (within `step_timeout_s`).

When AgentLab is installed the arguments subclass its `AgentArgs` (and the agent its `Agent`, through
BrowserGym's experiments package), so studies take them like any AgentLab agent; without AgentLab
they keep the same interface. AgentLab itself needs BrowserGym in planact's environment: BrowserGym
0.14.3 pins Playwright 1.44, but runs on planact's newer one (`pip install --no-deps browsergym-core`,
then its other requirements).
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass
from typing import Any

from ...agent.loop import PlanActAgent
from ...agent.trace import Trajectory
from ...web.actions import Action
from ...web.env import ActionResult
from ...web.observation import Observation, ObservationOptions, add_tab_line, build_observation
from .actions import Untranslatable, to_browsergym
from .dom import BidNumbers, observation_raw

try:  # AgentLab's own base classes, where it is installed
    from agentlab.agents.agent_args import AgentArgs as _ArgsBase  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - depends on what is installed
    try:
        from browsergym.experiments.loop import AbstractAgentArgs as _ArgsBase  # type: ignore[import-not-found]
    except ImportError:
        _ArgsBase = object  # type: ignore[assignment,misc]
try:
    from browsergym.experiments.agent import Agent as _AgentBase  # type: ignore[import-not-found]
    from browsergym.experiments.agent import AgentInfo as _AgentInfo  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover
    _AgentBase, _AgentInfo = object, None  # type: ignore[assignment,misc]


class EpisodeOver(RuntimeError):
    """BrowserGym stopped sending observations (the episode ended, or the agent was closed)."""


def goal_text(obs: dict) -> str:
    if obs.get("goal"):
        return str(obs["goal"])
    parts = [p.get("text", "") for p in obs.get("goal_object") or [] if isinstance(p, dict) and p.get("type") == "text"]
    return "\n".join(parts)


class PushedEnv:
    """planact's environment interface over observations pushed by BrowserGym's loop: `act` hands the
    action over and waits for the next observation, which `observe` then shows."""

    def __init__(self, options: ObservationOptions, count_tokens, timeout_s: float) -> None:  # noqa: ANN001
        self.options = options
        self.count_tokens = count_tokens
        self.timeout_s = timeout_s
        self.inbox: queue.Queue[dict | None] = queue.Queue()
        self.outbox: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.numbers = BidNumbers()
        self.bids: dict[int, str] = {}
        self._next: dict | None = None

    def _receive(self) -> dict:
        try:
            obs = self.inbox.get(timeout=self.timeout_s)
        except queue.Empty:
            raise EpisodeOver(f"no observation from BrowserGym within {self.timeout_s:.0f} s") from None
        if obs is None:
            raise EpisodeOver("the episode is over")
        return obs

    def observe(self) -> Observation:
        obs, self._next = (self._next or self._receive()), None
        raw, self.bids = observation_raw(obs, self.numbers, self.options.max_text)
        tabs = list(obs.get("open_pages_titles") or [])
        current = obs.get("active_page_index") or 0
        current = int(current[0] if isinstance(current, (list, tuple)) else current)  # numpy's array, as a list
        out = build_observation(raw, obs.get("url") or "", tabs[current] if current < len(tabs) else "",
                                self.options, self.count_tokens)
        add_tab_line(out, tabs, current, self.count_tokens)
        return out

    def act(self, action: Action) -> ActionResult:
        t0 = time.perf_counter()
        try:
            command = to_browsergym(action, self.bids)
        except (Untranslatable, ValueError) as err:
            return ActionResult(False, str(err), "", 0.0)
        self.outbox.put(("act", command))
        self._next = self._receive()  # BrowserGym carried it out: its next observation says how it went
        error = self._next.get("last_action_error") or None
        return ActionResult(error is None, error, self._next.get("url") or "", time.perf_counter() - t0)

    def finished(self) -> bool:
        return False  # BrowserGym ends the episode; it stops calling the agent


class PlanActBrowserGymAgent(_AgentBase):  # type: ignore[misc,valid-type]
    """One episode of planact's agent, answering BrowserGym's observations with BrowserGym's actions."""

    def __init__(self, agent: PlanActAgent, options: ObservationOptions | None = None,
                 step_timeout_s: float = 600.0) -> None:
        self.agent = agent
        self.env = PushedEnv(options or ObservationOptions(), agent.executor.llm.count_tokens, step_timeout_s)
        self.step_timeout_s = step_timeout_s
        self.trajectory: Trajectory | None = None
        self._thread: threading.Thread | None = None
        self._done = False

    def obs_preprocessor(self, obs: dict) -> dict:
        return obs  # what get_action reads: the DOM snapshot and element properties, as BrowserGym gives them

    def _loop(self, goal: str) -> None:
        traj = Trajectory(task=goal)
        try:
            self.trajectory = self.agent.run(self.env, goal, None, traj)
        finally:
            self.env.outbox.put(("done", self.trajectory or traj))

    def get_action(self, obs: dict) -> tuple[str, Any]:
        if self._done:
            return "noop()", self._info("planact's episode has ended")
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, args=(goal_text(obs),), daemon=True)
            self.env.inbox.put(obs)
            self._thread.start()
        else:
            self.env.inbox.put(obs)
        try:
            kind, value = self.env.outbox.get(timeout=self.step_timeout_s)
        except queue.Empty:
            self.close()
            return "noop()", self._info(f"planact gave no action within {self.step_timeout_s:.0f} s")
        if kind == "act":
            return value, self._info(None)
        self._done = True
        traj: Trajectory = value
        if traj.status == "exit" and traj.answer is not None:
            return f"send_msg_to_user({_quote(traj.answer)})", self._info(None)
        return "noop()", self._info(f"planact's episode ended: {traj.status}" + (f" ({traj.error})" if traj.error else ""))

    def _info(self, note: str | None) -> Any:
        traj = self.trajectory
        steps = traj.steps if traj else []
        think = steps[-1].reasoning if steps and steps[-1].reasoning else None
        plan = traj.plans[-1].text if traj and traj.plans else None
        extra = {"plan": plan, "note": note}
        if _AgentInfo is not None:
            return _AgentInfo(think=think or "", extra_info=extra)
        return {"think": think, **extra}

    def close(self) -> None:
        self.env.inbox.put(None)  # a loop waiting for an observation ends


def _quote(text: str) -> str:
    import json

    return json.dumps(text)


@dataclass
class PlanActAgentArgs(_ArgsBase):  # type: ignore[misc,valid-type]
    """AgentLab's agent arguments for planact: a planact config file and/or model specs per role."""

    agent_name: str = "planact"
    config: str | None = None
    planner: str | None = None
    executor: str | None = None
    replanner: str | None = None
    no_planner: bool | None = None
    replan: str | None = None
    max_steps: int | None = None
    step_timeout_s: float = 600.0

    def make_agent(self) -> PlanActBrowserGymAgent:
        from ...agent.factory import build_agent
        from ...config import PlanActConfig

        cfg = PlanActConfig.load(self.config)
        models = {k: v for k, v in (("planner", self.planner), ("executor", self.executor),
                                    ("replanner", self.replanner)) if v}
        agent = {k: v for k, v in (("no_planner", self.no_planner), ("replan", self.replan),
                                   ("max_steps", self.max_steps)) if v is not None}
        cfg = cfg.with_overrides(models=models, agent=agent)
        return PlanActBrowserGymAgent(build_agent(cfg), ObservationOptions(token_budget=cfg.browser.token_budget),
                                      self.step_timeout_s)

    # AgentLab's hooks; nothing to prepare: models load in make_agent
    def set_benchmark(self, benchmark: Any, demo_mode: bool) -> None:
        pass

    def set_reproducibility_mode(self) -> None:
        pass

    def prepare(self) -> None:
        pass

    def close(self) -> None:
        pass
