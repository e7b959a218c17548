"""The Python API: an agent in three lines, and the layered pieces for those who compose their own.

    from planact import Agent

    agent = Agent()                                      # the embedded trained model in every role
    result = agent.run("Click the Submit button", url="https://example.com/form")
    print(result.status, result.answer, [s.action for s in result.steps])

`Agent(planner=..., executor=..., replanner=..., config=..., **agent_settings)` takes model specs
(`local:...`, `openai:...`, `openai-compatible:...`) and any `agent:` setting of the config file
(`replan="adaptive"`, `no_planner=True`, `max_steps=10`, ...). `run` returns the whole trajectory
(plans, steps with raw outputs, LLM calls, the score on a benchmark task). Infrastructure failures
raise `AgentError` unless `record_errors=True`, which keeps them in the trajectory as `planact eval`
does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .agent.factory import build_agent
from .agent.loop import Event, PlanActAgent
from .agent.trace import Trajectory
from .bench.report import write_episode
from .bench.runner import RunSettings, episode_dirname, play_episode
from .config import PlanActConfig
from .web.browser import BrowserSession


class AgentError(RuntimeError):
    """An episode could not be played (the browser, the page or a model endpoint failed)."""


class Agent:
    """A Plan-and-Act agent with its own browser, started on first use (`close()` or `with` ends it)."""

    def __init__(self, planner: str | None = None, executor: str | None = None, replanner: str | None = None,
                 config: str | Path | PlanActConfig | None = None, **agent_settings: Any) -> None:
        cfg = config if isinstance(config, PlanActConfig) else PlanActConfig.load(config)
        self.config = cfg.with_overrides(models={"planner": planner, "executor": executor, "replanner": replanner},
                                         agent=agent_settings)
        self.agent: PlanActAgent = build_agent(self.config)
        self._session: BrowserSession | None = None
        self._session_suite: str | None = None

    def run(self, task: str | None = None, url: str | None = None, *, suite: str | None = None,
            task_id: str | None = None, seed: int | None = None, output: str | Path | None = None,
            on_event: Event | None = None, record_errors: bool = False) -> Trajectory:
        """One episode: `task` on the page at `url`, or a benchmark task (`suite="miniwob",
        task_id="click-button", seed=3`; `task` then replaces the task's own text). With `output`,
        the trace and an HTML report are written there as `planact run` writes them."""
        from .bench.adhoc import AdHocSuite
        from .bench.registry import get_suite

        if suite:
            s, tid = get_suite(suite, self.config), task_id
            if not tid:
                raise ValueError("a suite needs a task_id, e.g. run(suite='miniwob', task_id='click-button', seed=3)")
        elif task and url:
            s, tid = AdHocSuite(url, task), "adhoc"
        else:
            raise ValueError("give a task and a url, or a suite and a task_id")
        session = self._browser(s)
        traj = play_episode(s, session, self.agent, tid, seed, RunSettings.from_config(self.config), on_event,
                            goal=task if suite and task else None)
        if output is not None:
            write_episode(traj, Path(output) / "episodes" / episode_dirname(tid, seed))
        if traj.status == "error" and not record_errors:
            raise AgentError(traj.error or "the episode failed")
        return traj

    def _browser(self, suite) -> BrowserSession:  # noqa: ANN001
        """One browser, kept across episodes of the same suite (a suite may want its own settings)."""
        if self._session is not None and self._session_suite != suite.name:
            self.close()
        if self._session is None:
            self._session = BrowserSession(suite.browser_options(RunSettings.from_config(self.config).browser)).start()
            self._session_suite = suite.name
        return self._session

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def __enter__(self) -> "Agent":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
