"""What every stage gets: the settings, the output folder, how to spread work, and a progress hook."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..config import PlanActConfig, SynthSettings
from .engine import Execution, ModelCache, Progress
from .records import RecordStore


@dataclass
class StageContext:
    config: PlanActConfig
    progress: Progress | None = None
    models: ModelCache = field(default_factory=ModelCache)

    @property
    def settings(self) -> SynthSettings:
        return self.config.synth

    @property
    def out(self) -> Path:
        return Path(self.settings.out)

    @property
    def execution(self) -> Execution:
        s = self.settings
        return Execution(concurrency=s.concurrency, workers=s.workers, ray=s.ray)

    def store(self, name: str) -> RecordStore:
        return RecordStore(self.out / f"{name}.jsonl")
