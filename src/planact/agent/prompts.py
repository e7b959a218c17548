"""Versioned prompt templates (package data `prompts/<role>.<version>.yaml`), rendered with Jinja2
StrictUndefined so that a missing variable fails loudly."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import jinja2
import yaml

ROLES = ("planner", "executor", "replanner")
DEFAULT_VERSION = "v4"


@dataclass(frozen=True)
class PromptTemplate:
    role: str
    version: str
    system: jinja2.Template
    user: jinja2.Template

    @property
    def id(self) -> str:
        return f"{self.role}.{self.version}"

    def render(self, **variables) -> tuple[str, str]:
        return self.system.render(**variables).strip(), self.user.render(**variables).strip()


AUTO = "auto"


def concrete_version(version: str, llm: object | None = None) -> str:
    """`auto` is the version the model says it was trained on (`?prompt=v2` in its spec, or its
    bundle's), else the default."""
    if version != AUTO:
        return version
    return getattr(llm, "prompt_version", None) or DEFAULT_VERSION


def load_prompt(role: str, version: str = DEFAULT_VERSION, directory: str | Path | None = None,
                package: str = "planact.agent") -> PromptTemplate:
    """Load `<role>.<version>.yaml` from `directory` (a user's own prompts) or from `package`'s
    `prompts/` folder (the agent's roles here; the data pipeline's prompts in planact.synth)."""
    version = concrete_version(version)
    name = f"{role}.{version}.yaml"
    if directory is not None and (Path(directory) / name).is_file():
        text = (Path(directory) / name).read_text(encoding="utf-8")
    elif directory is not None and package == "planact.agent":
        raise FileNotFoundError(f"no prompt {name} in {directory}")
    else:
        path = resources.files(package).joinpath("prompts", name)
        if not path.is_file():
            raise FileNotFoundError(
                f"no prompt {name} in {package}; versions: {', '.join(list_versions(role, package))}")
        text = path.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=False)
    return PromptTemplate(role, str(data.get("version", version)), env.from_string(data["system"]),
                          env.from_string(data["user"]))


def list_versions(role: str, package: str = "planact.agent") -> list[str]:
    folder = resources.files(package).joinpath("prompts")
    return sorted(p.name.split(".")[1] for p in folder.iterdir() if p.name.startswith(role + "."))
