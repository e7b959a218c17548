"""The loop's state on disk (`OUT/state.json`, replaced atomically): where it stands, the best
round so far, and each finished round's results."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

PHASES = ("rollouts", "select", "annotate", "export", "train", "validate", "mix", "decide")


@dataclass
class RoundResult:
    round: int
    kept: bool
    validation: float  # success rate of the validation episodes
    validation_tasks: dict[str, list[int]] = field(default_factory=dict)  # task -> [successes, episodes]
    rollouts: dict[str, list[int]] = field(default_factory=dict)  # task -> [successes, attempts] this round
    kept_instances: dict[str, int] = field(default_factory=dict)  # task -> successful instances in the training set
    examples: dict[str, dict[str, Any]] = field(default_factory=dict)  # role -> {n, tokens_median, ...}
    train: dict[str, dict[str, Any]] = field(default_factory=dict)  # role -> TrainResult summary
    seconds: dict[str, float] = field(default_factory=dict)  # phase -> wall seconds
    policy: dict[str, str] = field(default_factory=dict)  # role -> model spec validated
    agent: str | None = None  # the validation configuration that scored best (its score is `validation`)
    validation_agents: dict[str, float] = field(default_factory=dict)  # configuration -> success rate
    note: str | None = None  # e.g. why a round was not validated
    # learn.train.mix: the round's adapters averaged with the best round's, validated as a second candidate:
    # {weight, with_round, validation, validation_tasks, chosen}
    mix: dict[str, Any] | None = None


@dataclass
class LearnState:
    round: int = 0  # the round in progress (0 = validating the base policy)
    phase: str = "validate"
    best_round: int | None = None
    best_score: float | None = None
    best_agent: str | None = None  # the validation configuration best_score was measured with
    not_kept_in_a_row: int = 0
    elapsed_s: float = 0.0  # wall time spent in the loop, across sessions
    finished: str | None = None  # why the loop stopped, once it has
    rounds: list[RoundResult] = field(default_factory=list)
    phase_seconds: dict[str, float] = field(default_factory=dict)  # the round in progress, so far
    # the validation protocol (agent settings, seeds, browser) best_score was measured under; when the
    # protocol changes (e.g. a new default of the agent), the best round is validated again under it
    protocol: str | None = None
    baselines: list[dict[str, Any]] = field(default_factory=list)  # each re-measurement of the best round
    agent_protocols: dict[str, str] = field(default_factory=dict)  # configuration -> its own protocol digest

    @classmethod
    def load(cls, out: Path) -> "LearnState":
        path = out / "state.json"
        if not path.exists():
            return cls()
        data = json.loads(path.read_text(encoding="utf-8"))
        rounds = [RoundResult(**r) for r in data.pop("rounds", [])]
        return cls(**data, rounds=rounds)

    def save(self, out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)
        tmp = out / "state.json.tmp"
        with tmp.open("w", encoding="utf-8") as f:
            json.dump(asdict(self), f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(out / "state.json")

    def result(self, round_: int) -> RoundResult | None:
        return next((r for r in self.rounds if r.round == round_), None)
