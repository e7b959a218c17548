"""WebArena task files in the benchmark's own JSON format: the bundled copies, a path, or a URL."""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

BUNDLED = {
    "webarena-lite": "webarena_lite/test_webarena_lite.raw.json",
    "webarena": "webarena/test.raw.json",
}


def read_source(source: str | Path) -> str:
    """Text of a local file or an http(s) URL."""
    text = str(source)
    if text.startswith(("http://", "https://")):
        try:
            with urllib.request.urlopen(text, timeout=60) as resp:  # noqa: S310 - a user-given URL
                return resp.read().decode("utf-8")
        except OSError as err:
            raise FileNotFoundError(f"could not download the task file {text}: {err}") from err
    path = Path(text).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"task file {path} does not exist")
    return path.read_text(encoding="utf-8")


def bundled_text(relative: str) -> str:
    return resources.files("planact.bench").joinpath(f"data/{relative}").read_text(encoding="utf-8")


def load_task_configs(suite: str, source: str | Path | None = None) -> list[dict[str, Any]]:
    """The task list: from `source` when given, else the copy bundled with planact."""
    text = read_source(source) if source else bundled_text(BUNDLED[suite])
    data = json.loads(text)
    if isinstance(data, dict):  # a single config file, as the harness writes per task
        data = [data]
    if not isinstance(data, list) or not all(isinstance(t, dict) and "task_id" in t for t in data):
        raise ValueError(f"{source or BUNDLED[suite]}: expected a JSON list of task configs with task_id")
    return data


@dataclass(frozen=True)
class WebArenaTask:
    config: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.config["task_id"])

    @property
    def intent(self) -> str:
        return str(self.config["intent"])

    @property
    def sites(self) -> list[str]:
        return list(self.config.get("sites") or [])

    @property
    def site(self) -> str:
        """The paper's per-site grouping: one site, or "multi-site"."""
        s = self.sites
        return "multi-site" if len(s) > 1 else (s[0] if s else "unknown")

    @property
    def start_urls(self) -> list[str]:
        return [u.strip() for u in str(self.config["start_url"]).split("|AND|") if u.strip()]

    @property
    def login_sites(self) -> list[str]:
        """Sites to be logged in to, from `storage_state` ("./.auth/gitlab.reddit_state.json")."""
        if not self.config.get("require_login"):
            return []
        state = self.config.get("storage_state")
        if not state:
            return []
        name = Path(str(state)).name
        return name.rsplit("_state", 1)[0].split(".") if "_state" in name else self.sites
