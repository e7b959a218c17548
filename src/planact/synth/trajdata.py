"""Reading recorded trajectories back: their steps, the actions that were carried out, and the
prompt views (history, plan) the agent had at each step."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..agent.loop import history_text
from ..agent.trace import StepRecord

_FIELDS = {f for f in StepRecord.__dataclass_fields__ if f != "screenshot_bytes"}


def steps_of(traj: dict[str, Any]) -> list[StepRecord]:
    return [StepRecord(**{k: v for k, v in s.items() if k in _FIELDS}) for s in traj.get("steps", [])]


@dataclass
class ActionView:
    number: int  # 1-based among the actions carried out (what grounded plans refer to)
    position: int  # index into the trajectory's steps
    step: StepRecord


def actions_of(traj: dict[str, Any]) -> list[ActionView]:
    """The steps whose output parsed into an action, numbered 1..n."""
    out = []
    for pos, st in enumerate(steps_of(traj)):
        if st.action is not None:
            out.append(ActionView(len(out) + 1, pos, st))
    return out


def numbered_actions(views: list[ActionView]) -> str:
    lines = []
    for v in views:
        line = f"{v.number}. {v.step.action}"
        if v.step.snippet and v.step.element is not None:
            line += f"\n   on: {v.step.snippet}"
        line += f"\n   page: {v.step.url}"
        lines.append(line)
    return "\n".join(lines)


def history_until(traj: dict[str, Any], position: int) -> str:
    """The executor/replanner history before step `position` (as the loop rendered it)."""
    return history_text(steps_of(traj)[:position])


def feedback_before(steps: list[StepRecord], position: int) -> str | None:
    """The feedback the loop gave at step `position`: the previous step's parse or action error."""
    if position == 0:
        return None
    prev = steps[position - 1]
    return prev.parse_error if prev.action is None else prev.action_error
