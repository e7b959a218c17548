"""The webarena-lite (165 tasks) and webarena (812 tasks) suites on self-hosted sites."""

from __future__ import annotations

import difflib
import json
import os
import subprocess
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from ...config import WebArenaSettings
from ...web.browser import BrowserOptions, BrowserSession
from ..base import Score, TaskInfo, TaskInstance, UnknownTaskError
from ..judge import Judge
from .auth import AuthStore
from .evaluators import ScoringError, WebArenaEvaluator
from .rules import RULES, with_options
from .sites import DEFAULT_ACCOUNTS, ENV_VARIABLES, SiteMap
from .tasks import WebArenaTask, load_task_configs


class ResetError(RuntimeError):
    pass


def default_auth_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "planact" / "webarena-auth"


def needs_judge(config: dict) -> bool:
    ev = config["eval"]
    return "fuzzy_match" in (ev.get("reference_answers") or {}) or any(
        "fuzzy_match" in t.get("required_contents", {}) for t in ev.get("program_html") or [])


class WebArenaSuite:
    def __init__(self, name: str = "webarena-lite", settings: WebArenaSettings | None = None,
                 judge: Callable[[], Judge] | None = None, env: dict[str, str] | None = None,
                 tasks_file: str | None = None) -> None:
        if name not in RULES:
            raise ValueError(f"unknown WebArena suite {name!r} (webarena-lite, webarena)")
        self.settings = settings or WebArenaSettings()
        self.name, self.rules = name, with_options(RULES[name], self.settings.scoring_options)
        self.sites = SiteMap.from_sources(self.settings.sites, env)
        self.tasks_source = tasks_file or self.settings.tasks_file
        self._tasks = {t.id: t for t in map(WebArenaTask, load_task_configs(name, self.tasks_source))}
        self.accounts = {**DEFAULT_ACCOUNTS, **{k: (v[0], v[1]) for k, v in self.settings.accounts.items()}}
        self.auth = AuthStore(Path(self.settings.auth_dir).expanduser() if self.settings.auth_dir else default_auth_dir(),
                              self.sites, self.accounts, self.settings.auth_max_age_s)
        self._judge_factory = judge  # loads the model once (registry.judge_factory caches it)
        self._lock = threading.Lock()
        self.resets = 0

    # -- tasks ------------------------------------------------------------------------------
    def tasks(self) -> list[TaskInfo]:
        return [TaskInfo(t.id, self.name, t.intent, t.site) for t in self._tasks.values()]

    def task(self, task_id: str) -> WebArenaTask:
        self.check_task(task_id)
        return self._tasks[str(task_id)]

    def check_task(self, task_id: str) -> None:
        if str(task_id) not in self._tasks:
            close = difflib.get_close_matches(str(task_id), list(self._tasks), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise UnknownTaskError(f"no {self.name} task {task_id!r} (ids 0-{len(self._tasks) - 1}){hint}")

    def site_of(self, task_id: str) -> str | None:
        t = self._tasks.get(str(task_id))
        return t.site if t else None

    def select(self, sites: list[str] | None = None, task_ids: list[str] | None = None,
               limit: int | None = None) -> list[str]:
        """Task ids by site (the paper's groups: "shopping", ..., "multi-site") and/or id, in file
        order, at most `limit`."""
        known = {t.site for t in self._tasks.values()}
        for s in sites or []:
            if s not in known:
                raise UnknownTaskError(f"no site {s!r} in {self.name} (sites: {', '.join(sorted(known))})")
        for t in task_ids or []:
            self.check_task(t)
        ids = [t.id for t in self._tasks.values()
               if (not sites or t.site in sites) and (not task_ids or t.id in task_ids)]
        return ids[:limit] if limit else ids

    def preflight(self, task_ids: list[str]) -> list[str]:
        """What stops these tasks from running here: unset site addresses."""
        missing = sorted({v for t in task_ids for v in self.sites.missing(json.dumps(self._tasks[t].config))})
        return [f"set {', '.join(missing)} (the sites' addresses) or eval.webarena.sites in the config"] if missing else []

    # -- episodes ---------------------------------------------------------------------------
    def browser_options(self, base: BrowserOptions) -> BrowserOptions:
        # The agent stays on the benchmark's sites unless the user allows more.
        return replace(base, allow_domains=base.allow_domains or self.sites.hosts())

    def _reset_sites(self, task: WebArenaTask) -> None:
        command = self.settings.reset_command
        policy = self.settings.reset
        if not command or policy == "never" or (policy == "marked" and not task.config.get("require_reset")):
            return
        env = {**os.environ, **{ENV_VARIABLES[s]: a for s, a in self.sites.addresses.items()},
               "PLANACT_TASK_ID": task.id, "PLANACT_SITES": ",".join(task.sites)}
        with self._lock:  # one reset at a time, even with several workers
            proc = subprocess.run(command, shell=True, env=env, capture_output=True, text=True)  # noqa: S602
            if proc.returncode != 0:
                raise ResetError(f"reset command failed ({proc.returncode}) before task {task.id}: "
                                 f"{(proc.stderr or proc.stdout).strip()[-500:]}")
            self.resets += 1
            self.auth.invalidate()  # a reset site may not know the old sessions

    def reset(self, session: BrowserSession, task_id: str, seed: int | None) -> TaskInstance:
        task = self.task(task_id)
        config = json.loads(self.sites.resolve(json.dumps(task.config)))
        self._reset_sites(task)
        state = self.auth.state_for(session, task.login_sites) if task.login_sites else None
        session.new_context(state)
        urls = [self.sites.resolve(u) for u in task.start_urls]
        session.goto(urls[0])
        extra = {"config": config, "site": task.site, "logged_in": task.login_sites}
        if len(urls) > 1:  # one tab per address, the first one current, as the harness opens them
            session.open_tabs(urls[1:])
            extra["other_start_urls"] = urls[1:]
        return TaskInstance(task_id=task.id, seed=seed, goal=task.intent, start_url=urls[0], extra=extra)

    def finished(self, session: BrowserSession, instance: TaskInstance) -> bool:
        return False

    def judge(self) -> Judge:
        if self._judge_factory is None:
            raise ScoringError("this task needs a judge model (fuzzy_match): set --judge or eval.judge")
        return self._judge_factory()

    def evaluator(self, config: dict) -> WebArenaEvaluator:
        admin = self.accounts.get("shopping_site_admin", self.accounts["shopping_admin"])
        return WebArenaEvaluator(self.rules, judge=self.judge() if needs_judge(config) else None,
                                 shopping_url=self.sites.addresses.get("shopping"), admin_account=admin,
                                 settle_s=self.settings.settle_s)

    def score(self, session: BrowserSession, instance: TaskInstance, answer: str | None) -> Score:
        config = instance.extra["config"]
        result = self.evaluator(config).evaluate(config, answer, session.page)
        # the task as scored (placeholders resolved): what `planact rescore` scores again
        details = {"site": instance.extra["site"], **result.details(),
                   "rules_source": self.rules.source, "scoring_options": list(self.settings.scoring_options),
                   "config": config}
        if "other_start_urls" in instance.extra:
            details["other_start_urls"] = instance.extra["other_start_urls"]
        return Score(result.score, result.score == 1.0, result.score, details)
