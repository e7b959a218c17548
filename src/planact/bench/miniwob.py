"""MiniWoB++ from the `miniwob` wheel's HTML over file://, started with a seed, scored from the
page's WOB_* globals. Runs offline."""

from __future__ import annotations

import difflib
from dataclasses import replace
from pathlib import Path

from ..web.browser import BrowserError, BrowserOptions, BrowserSession
from .base import Score, TaskInfo, TaskInstance, UnknownTaskError

# MiniWoB's own episode timer (10-30 s) is meant for fast RL policies; an LLM agent needs minutes.
# A long limit keeps the timer from ending the episode and keeps the time decay of the reward small;
# success is judged on the raw reward.
EPISODE_MAX_TIME_MS = 10 * 60 * 1000

# The reward display and click canvas change every second and would make every observation differ.
_HIDE_CHROME = "#reward-display, #click-canvas { display: none !important; }"


def html_dir() -> Path:
    """MiniWoB++'s task pages, from the `miniwob` package (only its HTML is used). The package is found,
    not imported: importing it registers its Gymnasium environments, and it is installed without its
    dependencies (gymnasium, selenium)."""
    import importlib.util

    spec = importlib.util.find_spec("miniwob")
    folders = list(spec.submodule_search_locations or []) if spec else []
    pages = [Path(f) / "html" / "miniwob" for f in folders if (Path(f) / "html" / "miniwob").is_dir()]
    if not pages:
        raise ValueError("the MiniWoB++ suite needs its task pages: pip install --no-deps miniwob")
    return pages[0]


class MiniWoBSuite:
    name = "miniwob"
    seeded = True  # a task is an instance per seed

    def __init__(self, episode_max_time_ms: int = EPISODE_MAX_TIME_MS, ready_timeout_s: float = 10.0) -> None:
        self.episode_max_time_ms = episode_max_time_ms
        self.ready_timeout_s = ready_timeout_s
        self._dir = html_dir()

    def browser_options(self, base: BrowserOptions) -> BrowserOptions:
        # Local files only: any navigation to a web host is refused.
        allow = base.allow_domains or ["localhost.invalid"]
        return replace(base, allow_domains=allow, viewport_width=500, viewport_height=400)

    def tasks(self) -> list[TaskInfo]:
        return [TaskInfo(p.stem, self.name, site="miniwob") for p in sorted(self._dir.glob("*.html"))]

    def check_task(self, task_id: str) -> None:
        self.task_path(task_id)

    def task_path(self, task_id: str) -> Path:
        path = self._dir / f"{task_id}.html"
        if not path.exists():
            names = [p.stem for p in self._dir.glob("*.html")]
            close = difflib.get_close_matches(task_id, names, n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise UnknownTaskError(f"no MiniWoB task {task_id!r}{hint}")
        return path

    def reset(self, session: BrowserSession, task_id: str, seed: int | None) -> TaskInstance:
        url = self.task_path(task_id).as_uri()
        session.goto(url)
        page = session.page
        page.wait_for_selector("#sync-task-cover", state="attached", timeout=10000)
        page.add_style_tag(content=_HIDE_CHROME)
        page.evaluate(
            "([seed, maxTime]) => { core.EPISODE_MAX_TIME = maxTime; Math.seedrandom(seed); core.startEpisodeReal(); }",
            [str(seed if seed is not None else 0), self.episode_max_time_ms],
        )
        try:
            page.wait_for_function("typeof WOB_TASK_READY === 'undefined' || WOB_TASK_READY",
                                   timeout=self.ready_timeout_s * 1000)
        except Exception as err:  # noqa: BLE001 - Playwright's timeout, said plainly
            raise BrowserError(f"MiniWoB task {task_id} did not become ready") from err
        goal = page.evaluate("core.getUtterance()")
        if isinstance(goal, dict):  # a few tasks return {utterance, fields}
            goal = goal.get("utterance", "")
        return TaskInstance(task_id=task_id, seed=seed, goal=str(goal).strip(), start_url=url)

    def _globals(self, session: BrowserSession) -> dict:
        return session.page.evaluate(
            "({done: WOB_DONE_GLOBAL, reward: WOB_REWARD_GLOBAL, raw: WOB_RAW_REWARD_GLOBAL, reason: WOB_REWARD_REASON})"
        )

    def finished(self, session: BrowserSession, instance: TaskInstance) -> bool:
        try:
            return bool(self._globals(session)["done"])
        except Exception:  # noqa: BLE001 - a page that navigated away has no globals
            return False

    def score(self, session: BrowserSession, instance: TaskInstance, answer: str | None) -> Score:
        try:
            g = self._globals(session)
        except Exception as err:  # noqa: BLE001
            return Score(0.0, False, 0.0, {"error": f"could not read the reward: {err}"})
        if not g["done"]:
            return Score(0.0, False, 0.0, {"reason": "episode not finished"})
        raw = float(g["raw"])
        return Score(float(g["reward"]), raw > 0, raw, {"reason": g["reason"]})
