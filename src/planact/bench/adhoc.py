"""Any page and any task text, no score: `planact run --task "..." --url URL`."""

from __future__ import annotations

from ..web.browser import BrowserOptions, BrowserSession
from .base import Score, TaskInfo, TaskInstance


class AdHocSuite:
    name = "adhoc"

    def __init__(self, url: str, task: str) -> None:
        self.url, self.task = url, task

    def browser_options(self, base: BrowserOptions) -> BrowserOptions:
        return base

    def tasks(self) -> list[TaskInfo]:
        return [TaskInfo("adhoc", self.name, self.task)]

    def check_task(self, task_id: str) -> None:
        pass

    def reset(self, session: BrowserSession, task_id: str, seed: int | None) -> TaskInstance:
        session.goto(self.url)
        return TaskInstance(task_id="adhoc", seed=seed, goal=self.task, start_url=self.url)

    def finished(self, session: BrowserSession, instance: TaskInstance) -> bool:
        return False

    def score(self, session: BrowserSession, instance: TaskInstance, answer: str | None) -> Score | None:
        return None
