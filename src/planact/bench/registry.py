"""Suites by name, built from the one config."""

from __future__ import annotations

import difflib
import threading

from ..config import PlanActConfig
from .adhoc import AdHocSuite
from .judge import Judge
from .miniwob import MiniWoBSuite

SUITES = ("miniwob", "webarena-lite", "webarena", "webvoyager", "browsergym/<package>")


def known_suite(name: str | None) -> bool:
    """A suite name get_suite builds (BrowserGym's packages included)."""
    return bool(name) and (name in SUITES[:-1] or (name.startswith("browsergym/") and name.count("/") == 1))


def judge_factory(cfg: PlanActConfig):
    """Loads the judge model on first use (only tasks that need a judge load it)."""
    lock, cache = threading.Lock(), {}

    def make() -> Judge:
        from ..llm.registry import load_model

        with lock:
            if "judge" not in cache:
                cache["judge"] = Judge(load_model(judge_spec(cfg)), cfg.eval.judge_prompt_version)
            return cache["judge"]
    return make


def judge_spec(cfg: PlanActConfig) -> str:
    return cfg.eval.judge or cfg.models.planner


def get_suite(name: str, cfg: PlanActConfig | None = None, tasks_file: str | None = None):
    cfg = cfg or PlanActConfig()
    if name == "miniwob":
        return MiniWoBSuite()
    if name in ("webarena-lite", "webarena"):
        from .webarena.suite import WebArenaSuite

        return WebArenaSuite(name, cfg.eval.webarena, judge_factory(cfg), tasks_file=tasks_file)
    if name == "webvoyager":
        from .webvoyager import WebVoyagerSuite

        return WebVoyagerSuite(cfg.eval.webvoyager, judge_factory(cfg), tasks_file=tasks_file)
    if name.startswith("browsergym/") and name.count("/") == 1 and name.split("/")[1]:
        from .browsergym import BrowserGymSuite

        return BrowserGymSuite(name.split("/")[1], cfg.eval.browsergym)
    close = difflib.get_close_matches(name, SUITES, n=1)
    raise ValueError(f"unknown suite {name!r}" + (f"; did you mean {close[0]}?" if close else "")
                     + f" (suites: {', '.join(SUITES)})")


__all__ = ["SUITES", "get_suite", "known_suite", "judge_factory", "judge_spec", "AdHocSuite", "MiniWoBSuite"]
