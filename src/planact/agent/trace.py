"""What an episode leaves behind: every plan version, every step with the raw model output, every
LLM call with tokens and latency. Written as JSON; the synthetic-data pipeline reads it back."""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class LLMCall:
    role: str  # planner | executor | replanner
    model: str
    prompt_tokens: int
    completion_tokens: int
    latency_s: float
    step: int  # the step it was made for (0 = before the first action)
    attempt: int = 0
    notes: list[str] = field(default_factory=list)
    cached_tokens: int = 0  # prompt tokens the runtime took from its prefix cache


@dataclass
class PlanVersion:
    after_step: int  # 0 = the initial plan; k = written after action k
    role: str  # planner | replanner
    plan: list[dict]
    text: str
    raw_output: str
    reasoning: str | None = None
    parse_error: str | None = None
    # why it was written: "initial", "every-step", or the adaptive triggers that fired (failed, no_effect,
    # navigated, step_done, asked, plan_done, interval)
    reasons: list[str] = field(default_factory=list)


@dataclass
class StepRecord:
    index: int
    url: str
    observation: str  # the simplified HTML the executor saw
    observation_tokens: int
    raw_html_chars: int
    raw_output: str
    reasoning: str | None = None
    action: str | None = None  # canonical call, None if the output did not parse
    element: int | None = None
    note: str | None = None
    snippet: str | None = None  # the acted-on element in context: what the history shows later
    parse_error: str | None = None
    action_error: str | None = None
    page_notice: str | None = None  # what the page did meanwhile (a dialog that was dismissed)
    plan_version: int | None = None  # index into Trajectory.plans
    explored: str | None = None  # the action type exploration narrowed this step to, if it did
    observe_s: float = 0.0
    act_s: float = 0.0
    screenshot: str | None = None  # file name, relative to the trace's folder
    screenshot_bytes: bytes | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.parse_error is None and self.action_error is None


@dataclass
class Trajectory:
    task: str
    start_url: str = ""
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    config: dict[str, Any] = field(default_factory=dict)
    models: dict[str, str] = field(default_factory=dict)
    prompts: dict[str, str] = field(default_factory=dict)
    plans: list[PlanVersion] = field(default_factory=list)
    steps: list[StepRecord] = field(default_factory=list)
    llm_calls: list[LLMCall] = field(default_factory=list)
    answer: str | None = None
    status: str = "running"  # exit | env_done | max_steps | loop | error
    error: str | None = None
    final_url: str = ""
    final_observation: str = ""  # the last page the agent saw (what an outcome judge reads)
    final_screenshot: str | None = None
    final_screenshot_bytes: bytes | None = field(default=None, repr=False)
    started_at: float = field(default_factory=time.time)
    wall_s: float = 0.0
    # filled in by a benchmark suite
    suite: str | None = None
    task_id: str | None = None
    seed: int | None = None
    reward: float | None = None
    raw_reward: float | None = None
    success: bool | None = None
    score_details: dict[str, Any] = field(default_factory=dict)

    def usage(self) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for c in self.llm_calls:
            d = out.setdefault(c.role, {"calls": 0, "prompt_tokens": 0, "cached_tokens": 0, "completion_tokens": 0,
                                        "latency_s": 0.0})
            d["calls"] += 1
            d["prompt_tokens"] += c.prompt_tokens
            d["cached_tokens"] += c.cached_tokens
            d["completion_tokens"] += c.completion_tokens
            d["latency_s"] += c.latency_s
        return out

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("final_screenshot_bytes", None)
        for s in d["steps"]:
            s.pop("screenshot_bytes", None)
        d["usage"] = self.usage()
        return d
