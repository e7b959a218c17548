"""One JSONL record per episode, appended and flushed so that an interrupted eval resumes."""

from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..agent.trace import Trajectory
from .judge import judge_usage


@dataclass
class EpisodeRecord:
    suite: str
    task_id: str
    seed: int | None
    success: bool
    reward: float | None
    raw_reward: float | None
    steps: int
    status: str
    llm_calls: int
    prompt_tokens: int
    completion_tokens: int
    wall_s: float
    error: str | None = None
    answer: str | None = None
    trace: str | None = None
    report: str | None = None
    usage: dict[str, Any] = field(default_factory=dict)
    trajectory_id: str = ""
    site: str | None = None
    # How the score was decided (evaluators with their evidence, a judge's response, ...).
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, int | None]:
        return (self.suite, self.task_id, self.seed)

    @classmethod
    def from_trajectory(cls, traj: Trajectory, trace: str | None, report: str | None,
                        site: str | None = None) -> "EpisodeRecord":
        usage = traj.usage()
        prompt_tokens = sum(int(u["prompt_tokens"]) for u in usage.values())
        completion_tokens = sum(int(u["completion_tokens"]) for u in usage.values())
        judged = judge_usage(traj.score_details)
        if judged["calls"]:  # the judge's cost is shown beside the agent's, not added to its totals
            usage = {**usage, "judge": judged}
        return cls(
            suite=traj.suite or "adhoc", task_id=traj.task_id or "adhoc", seed=traj.seed,
            success=bool(traj.success), reward=traj.reward, raw_reward=traj.raw_reward, steps=len(traj.steps),
            status=traj.status, llm_calls=len(traj.llm_calls),
            prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
            wall_s=round(traj.wall_s, 3), error=traj.error, answer=traj.answer, trace=trace, report=report,
            usage=usage, trajectory_id=traj.id, site=site,
            details=dict(traj.score_details),
        )


class RecordLog:
    """Append-only JSONL. Lines cut short by a kill are skipped when reading."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def read(self) -> list[EpisodeRecord]:
        if not self.path.exists():
            return []
        out = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                out.append(EpisodeRecord(**json.loads(line)))
            except (json.JSONDecodeError, TypeError):
                continue
        return out

    def done_keys(self) -> set[tuple]:
        """Episodes that finished without an infrastructure error (those are retried)."""
        return {r.key for r in self.read() if r.status != "error"}

    def append(self, record: EpisodeRecord) -> None:
        line = json.dumps(asdict(record), ensure_ascii=False)
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as f:
                if f.tell() > 0 and not self._ends_with_newline():
                    f.write("\n")  # a previous run was killed mid-line
                f.write(line + "\n")
                f.flush()
                os.fsync(f.fileno())

    def _ends_with_newline(self) -> bool:
        with self.path.open("rb") as f:
            f.seek(-1, os.SEEK_END)
            return f.read(1) == b"\n"


def latest(records: list[EpisodeRecord]) -> list[EpisodeRecord]:
    """The last record of each episode key, in first-seen order."""
    by_key: dict[tuple, EpisodeRecord] = {}
    for r in records:
        by_key[r.key] = r
    return list(by_key.values())
