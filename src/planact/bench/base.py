"""The suite interface: list tasks, reset to a task and seed, score the episode."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from ..web.browser import BrowserOptions, BrowserSession


@dataclass(frozen=True)
class TaskInfo:
    id: str
    suite: str
    description: str = ""
    site: str | None = None


@dataclass
class TaskInstance:
    """A task reset to a seed: what the agent is asked, where it starts."""

    task_id: str
    seed: int | None
    goal: str
    start_url: str
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Score:
    reward: float
    success: bool
    raw_reward: float | None = None
    details: dict[str, Any] = field(default_factory=dict)


class Suite(Protocol):
    name: str

    def browser_options(self, base: BrowserOptions) -> BrowserOptions:
        """Suite-specific browser settings (allowed domains, viewport) on top of the user's."""
        ...

    def tasks(self) -> list[TaskInfo]: ...

    def check_task(self, task_id: str) -> None:
        """Raise UnknownTaskError (with close names) if the suite has no such task."""
        ...

    def reset(self, session: BrowserSession, task_id: str, seed: int | None) -> TaskInstance: ...

    def finished(self, session: BrowserSession, instance: TaskInstance) -> bool:
        """The environment ended the episode on its own (the agent stops acting)."""
        ...

    def score(self, session: BrowserSession, instance: TaskInstance, answer: str | None) -> Score | None:
        """None when the suite has no scorer (ad-hoc tasks)."""
        ...


class UnknownTaskError(KeyError):
    def __str__(self) -> str:  # KeyError quotes its message; this one reads as a sentence
        return str(self.args[0])
