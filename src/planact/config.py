"""The one configuration model. CLI options override a config file (YAML or JSON):

    models:
      planner: openai-compatible:http://localhost:8000/v1#planner-70b
      executor: local:smollm2-135m
    agent: {replan: every-step, cot: false, max_steps: 25}
    browser: {token_budget: 6000, allow_domains: []}
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from .llm.embedded import DEFAULT_MODEL


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelsConfig(_Strict):
    planner: str = DEFAULT_MODEL
    executor: str = DEFAULT_MODEL
    replanner: str | None = Field(None, description="defaults to the planner's model")


class AgentSettings(_Strict):
    no_planner: bool = False
    replan: Literal["every-step", "never"] = "every-step"
    cot: bool = False
    max_steps: int = 25
    max_repeats: int = 3
    grammar: bool = True
    temperature: float = 0.0
    planner_max_tokens: int = 384
    executor_max_tokens: int = 160
    prompt_version: str = "v1"
    prompt_dir: str | None = None


class BrowserSettings(_Strict):
    headless: bool = True
    executable_path: str | None = None
    allow_domains: list[str] = Field(default_factory=list)
    screenshots: bool = True
    viewport_only: bool = False
    token_budget: int = 4000


class PlanActConfig(_Strict):
    models: ModelsConfig = Field(default_factory=ModelsConfig)
    agent: AgentSettings = Field(default_factory=AgentSettings)
    browser: BrowserSettings = Field(default_factory=BrowserSettings)

    @classmethod
    def load(cls, path: str | Path | None) -> "PlanActConfig":
        if path is None:
            return cls()
        text = Path(path).read_text(encoding="utf-8")
        return cls.model_validate(yaml.safe_load(text) or {})

    def with_overrides(self, **sections: dict) -> "PlanActConfig":
        """Apply CLI overrides, e.g. with_overrides(agent={"cot": True}); None values are skipped."""
        data = self.model_dump()
        for section, values in sections.items():
            data[section].update({k: v for k, v in values.items() if v is not None})
        return PlanActConfig.model_validate(data)
