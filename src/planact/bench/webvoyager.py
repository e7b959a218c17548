"""WebVoyager: 643 tasks on 15 live websites, scored by a judge model.

The judge sees the task, the agent's answer and the final page (its text, and its screenshot when
the judge model takes images), with the benchmark's reference answer as a hint where one exists
("golden": the answer does not change; "possible": one answer of several, or data that changes).
Flights and hotels must be searched for dates that have not passed; tasks whose dates have passed
are marked expired, reported apart, and can be left out with `skip_expired`.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable
from datetime import date

from ..config import WebVoyagerSettings
from ..web.browser import BrowserOptions, BrowserSession
from .base import Score, TaskInfo, TaskInstance, UnknownTaskError
from .judge import Judge, accepts_images
from .webarena.tasks import bundled_text, read_source

# Sites whose tasks book or search future dates; elsewhere a past date is history, not expiry.
TIME_SENSITIVE = {"Booking", "Google Flights"}
_MONTHS = {m: i + 1 for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                            "nov", "dec"])}
_MONTH = r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?"


def mentioned_dates(text: str) -> list[date]:
    """Full dates written in a task: "March 22, 2024", "22 March 2024", "2024-03-22"."""
    out: list[date] = []

    def add(y: str, m: int, d: str) -> None:
        try:
            out.append(date(int(y), m, int(d)))
        except ValueError:
            pass

    for m in re.finditer(rf"\b{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", text, re.I):
        add(m.group(3), _MONTHS[m.group(1)[:3].lower()], m.group(2))
    for m in re.finditer(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH},?\s+(\d{{4}})\b", text, re.I):
        add(m.group(3), _MONTHS[m.group(2)[:3].lower()], m.group(1))
    for m in re.finditer(r"\b(\d{4})-(\d{2})-(\d{2})\b", text):
        add(m.group(1), int(m.group(2)), m.group(3))
    return out


def is_expired(site: str, text: str, today: date) -> bool:
    dates = mentioned_dates(text)
    return site in TIME_SENSITIVE and bool(dates) and max(dates) < today


def _load_jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


class WebVoyagerSuite:
    name = "webvoyager"

    def __init__(self, settings: WebVoyagerSettings | None = None, judge: Callable[[], Judge] | None = None,
                 tasks_file: str | None = None) -> None:
        self.settings = settings or WebVoyagerSettings()
        source = tasks_file or self.settings.tasks_file
        rows = _load_jsonl(read_source(source) if source else bundled_text("webvoyager/WebVoyager_data.jsonl"))
        self._tasks = {str(r["id"]): r for r in rows}
        refs_source = self.settings.reference_answers
        refs = json.loads(read_source(refs_source) if refs_source else
                          bundled_text("webvoyager/reference_answer.json"))
        self._refs = {(site, int(a["id"])): a for site, block in refs.items() for a in block.get("answers", [])}
        self.today = date.fromisoformat(self.settings.today) if self.settings.today else date.today()
        self._judge_factory = judge  # loads the model once (registry.judge_factory caches it)

    def tasks(self) -> list[TaskInfo]:
        return [TaskInfo(tid, self.name, r["ques"], r["web_name"]) for tid, r in self._tasks.items()]

    def check_task(self, task_id: str) -> None:
        if task_id not in self._tasks:
            close = difflib.get_close_matches(task_id, list(self._tasks), n=3)
            raise UnknownTaskError(f"no WebVoyager task {task_id!r}" + (f"; did you mean {', '.join(close)}?" if close else ""))

    def site_of(self, task_id: str) -> str | None:
        r = self._tasks.get(task_id)
        return r["web_name"] if r else None

    def expired(self, task_id: str) -> bool:
        r = self._tasks[task_id]
        return is_expired(r["web_name"], r["ques"], self.today)

    def reference(self, task_id: str) -> dict | None:
        r = self._tasks[task_id]
        return self._refs.get((r["web_name"], int(task_id.rsplit("--", 1)[1])))

    def select(self, sites: list[str] | None = None, task_ids: list[str] | None = None,
               limit: int | None = None) -> list[str]:
        known = {r["web_name"] for r in self._tasks.values()}
        for s in sites or []:
            if s not in known:
                raise UnknownTaskError(f"no site {s!r} in webvoyager (sites: {', '.join(sorted(known))})")
        for t in task_ids or []:
            self.check_task(t)
        ids = [tid for tid, r in self._tasks.items() if (not sites or r["web_name"] in sites)
               and (not task_ids or tid in task_ids) and not (self.settings.skip_expired and self.expired(tid))]
        return ids[:limit] if limit else ids

    def browser_options(self, base: BrowserOptions) -> BrowserOptions:
        return base

    def reset(self, session: BrowserSession, task_id: str, seed: int | None) -> TaskInstance:
        self.check_task(task_id)
        r = self._tasks[task_id]
        session.new_context()
        session.goto(r["web"])
        return TaskInstance(task_id=task_id, seed=seed, goal=r["ques"], start_url=r["web"],
                            extra={"site": r["web_name"], "expired": self.expired(task_id)})

    def finished(self, session: BrowserSession, instance: TaskInstance) -> bool:
        return False

    def judge(self) -> Judge:
        if self._judge_factory is None:
            raise RuntimeError("WebVoyager is scored by a judge model: set --judge or eval.judge")
        return self._judge_factory()

    def score(self, session: BrowserSession, instance: TaskInstance, answer: str | None) -> Score:
        page = session.page
        try:
            text = page.inner_text("body")
        except Exception:  # noqa: BLE001 - a page without a body still has a URL and a screenshot
            text = ""
        text = " ".join(text.split())[: self.settings.page_chars]
        try:
            shot = page.screenshot(type="jpeg", quality=70)
        except Exception:  # noqa: BLE001
            shot = None
        ref = self.reference(instance.task_id)
        judge = self.judge()
        verdict = judge.web_task(instance.goal, instance.extra["site"], answer, page.url, text, shot,
                                        ref["ans"] if ref else None, ref["type"] if ref else None)
        details = {"site": instance.extra["site"], "expired": instance.extra["expired"], "answer": answer,
                   "final_url": page.url, "reference": ref, **verdict.evidence(),
                   "screenshot_shown": bool(shot) and accepts_images(judge.llm)}
        return Score(verdict.score, verdict.score == 1.0, verdict.score, details)
