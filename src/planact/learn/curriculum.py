"""How many rollouts each task gets in a round, in the manner of WebRL's curriculum: more where the
current policy sometimes succeeds (it can learn there), fewer where it is mastered, and a bounded
exploration budget where it has never succeeded, explored harder (random afforded actions, see
agent/explore.py) where the policy does not succeed."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..config import LearnCurriculum, LearnRollouts


@dataclass
class TaskRecord:
    attempts: int = 0  # all rounds
    successes: int = 0
    last_attempts: int = 0  # the most recent round that rolled this task out
    last_successes: int = 0

    @property
    def last_rate(self) -> float | None:
        return self.last_successes / self.last_attempts if self.last_attempts else None


def allocate(records: dict[str, TaskRecord], tasks: list[str], cur: LearnCurriculum, ro: LearnRollouts) -> dict[str, int]:
    """Rollouts per task for the next round, a multiple of `per_seed`."""
    out = {}
    for task in tasks:
        rec = records.get(task) or TaskRecord()
        rate = rec.last_rate
        if rec.attempts == 0:
            n = ro.per_task
        elif rec.successes == 0:
            left = cur.explore_cap - rec.attempts
            n = min(cur.explore, left) if left > 0 else cur.trickle
        elif rate is not None and rate >= cur.mastered_rate:
            n = ro.per_task * cur.mastered_share
        elif rate is not None and rate > 0:
            n = ro.per_task * cur.boost
        else:
            n = ro.per_task
        per = max(1, ro.per_seed)
        out[task] = max(per, int(math.ceil(n / per)) * per) if n > 0 else 0
    return out


def why(rec: TaskRecord | None, cur: LearnCurriculum) -> str:
    """The curriculum's reason for a task's allocation, for the round table."""
    if rec is None or rec.attempts == 0:
        return "new"
    if rec.successes == 0:
        return "exploring" if rec.attempts < cur.explore_cap else "capped"
    rate = rec.last_rate or 0.0
    return "mastered" if rate >= cur.mastered_rate else ("learning" if rate > 0 else "lost")


def explore_rates(records: dict[str, TaskRecord], tasks: list[str], cur: LearnCurriculum,
                  ro: LearnRollouts) -> dict[str, list[float]]:
    """Per task, the exploration rates cycled over its rollouts: `curriculum.explore_rate` for every
    rollout where the policy has never succeeded or lost what it had; elsewhere `rollouts.explore`,
    its exploring entries raised to explore_rate x the policy's failure rate (a task the policy
    solves one time in four explores almost as hard as an unsolved one; a mastered one hardly)."""
    base = ro.explore if isinstance(ro.explore, list) else [ro.explore]
    out = {}
    for task in tasks:
        rec = records.get(task)
        if cur.explore_rate is None or rec is None or rec.attempts == 0:
            out[task] = list(base)
        elif rec.successes == 0 or not rec.last_rate:
            out[task] = [cur.explore_rate]
        else:
            need = round(cur.explore_rate * (1 - rec.last_rate), 2)
            out[task] = [max(b, need) if b > 0 else b for b in base]
    return out
