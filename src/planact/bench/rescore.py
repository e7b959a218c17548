"""`planact rescore`: score a finished WebArena / WebArena-Lite run again from what its records kept
(the answer, the final URL, the text each program_html target located, the judge's verdicts), under
the current rules or a set of named options, without running the agent. The result is a new run
folder beside the old one (`RUN/rescored/<label>/`), never an overwrite, so `planact report` shows both."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import UsageError
from .judge import Judge
from .records import EpisodeRecord, RecordLog, latest
from .webarena.evaluators import NeedsJudge, NeedsLiveSite, TaskScore, recorded_inputs, score_recorded
from .webarena.rules import RULES, with_options

LiveScorer = Callable[[EpisodeRecord, dict], TaskScore]


@dataclass
class RescoreResult:
    run: Path
    out: Path
    episodes: int = 0
    changed: int = 0
    gained: int = 0
    lost: int = 0
    why: Counter = field(default_factory=Counter)  # "evaluator/rule" -> episodes whose score it changed
    needs_live: list[str] = field(default_factory=list)
    needs_judge: list[str] = field(default_factory=list)
    not_rescored: list[str] = field(default_factory=list)  # errored episodes, records without a task config
    old_success: int = 0
    new_success: int = 0


def label_for(options: list[str], rejudge: bool, live: bool) -> str:
    parts = sorted(options) or ["pinned"]
    return "+".join(parts) + ("+rejudged" if rejudge else "") + ("+live" if live else "")


def _checks(score_details: dict) -> dict[tuple[str, str, str], bool]:
    out = {}
    for r in score_details.get("evaluators", []):
        for i, c in enumerate(r.get("checks", [])):
            out[(r.get("type", "?"), str(c.get("rule")), f"{i}:{json.dumps(c.get('reference'), default=str)}")] = \
                bool(c.get("passed"))
    return out


def _why(old: dict, new: dict) -> list[str]:
    a, b = _checks(old), _checks(new)
    return sorted({f"{k[0]}/{k[1]}" for k in set(a) | set(b) if a.get(k) != b.get(k)}) or ["(score product)"]


def rescore_run(run: Path, options: list[str] | None = None, judge: Judge | None = None,
                live: LiveScorer | None = None, label: str | None = None) -> RescoreResult:
    """Score every latest record of `run` again. `judge`: ask this judge again (rejudge) instead of
    reusing recorded verdicts; `live`: a scorer that re-opens the sites for episodes the records cannot
    decide. Writes `run/rescored/<label>/episodes.jsonl` and `run.json`."""
    run = Path(run)
    log = RecordLog(run / "episodes.jsonl")
    if not log.path.exists():
        raise UsageError(f"{run} holds no episodes.jsonl: give the folder of a finished `planact eval`")
    records = latest(log.read())
    suites = {r.suite for r in records}
    if not suites <= set(RULES):
        raise UsageError(f"{run} is a {', '.join(sorted(suites))} run: rescore re-applies the WebArena and "
                         "WebArena-Lite scoring rules only (other suites' rewards come from the environment)")
    options = list(options or [])
    out = run / "rescored" / (label or label_for(options, judge is not None, live is not None))
    result = RescoreResult(run, out)
    if (out / "episodes.jsonl").exists():
        raise UsageError(f"{out} exists already: a rescore never overwrites; remove it or pass another --label")
    new_records: list[EpisodeRecord] = []
    for rec in records:
        result.episodes += 1
        result.old_success += int(rec.success)
        new = _rescore_one(rec, options, judge, live, result)
        result.new_success += int(new.success)
        new_records.append(new)
    out.mkdir(parents=True)
    rel = Path("..", "..")
    with (out / "episodes.jsonl").open("w", encoding="utf-8") as f:
        for rec in new_records:
            moved = replace(rec, trace=str(rel / rec.trace) if rec.trace else None,
                            report=str(rel / rec.report) if rec.report else None)
            f.write(json.dumps(asdict(moved), default=str) + "\n")
    meta = json.loads((run / "run.json").read_text()) if (run / "run.json").exists() else {}
    meta["tags"] = {**meta.get("tags", {}), "rescore": out.name}
    meta["rescored_from"] = str(run)
    (out / "run.json").write_text(json.dumps(meta, indent=1, default=str))
    summary = {k: v for k, v in asdict(result).items() if k not in ("run", "out")}
    (out / "rescore.json").write_text(json.dumps({**summary, "options": options, "why": dict(result.why)},
                                                 indent=1, default=str))
    return result


def _rescore_one(rec: EpisodeRecord, options: list[str], judge: Judge | None, live: LiveScorer | None,
                 result: RescoreResult) -> EpisodeRecord:
    details = rec.details or {}
    config = details.get("config")
    if rec.status == "error" or not config or "evaluators" not in details:
        note = "not scored: the episode ended in error" if rec.status == "error" else \
            "not rescored: the record keeps no task config (recorded before rescore existed)"
        result.not_rescored.append(f"{rec.task_id} ({note.split(': ', 1)[1]})")
        return replace(rec, details={**details, "rescore": {"note": note}})
    rules = with_options(RULES[rec.suite], options)
    answer, final_url, located, verdicts = recorded_inputs(details)
    key = f"{rec.task_id}" + (f" seed {rec.seed}" if rec.seed is not None else "")
    how = "recorded"
    try:
        score = score_recorded(config, rec.answer if rec.answer is not None else answer, final_url or "", rules,
                               located, judge, verdicts)
    except NeedsLiveSite as err:
        if live is None:
            result.needs_live.append(key)
            return replace(rec, details={**details, "rescore": {"note": f"needs the live site: {err}"}})
        score, how = live(rec, config), "live"
    except NeedsJudge as err:
        result.needs_judge.append(key)
        return replace(rec, details={**details, "rescore": {"note": str(err)}})
    new_details = {**details, **score.details(), "rules_source": rules.source, "scoring_options": options,
                   "rescore": {"from_score": rec.reward, "decided_from": how, "judge": "asked again" if judge
                               else "recorded verdicts"}}
    new = replace(rec, reward=score.score, raw_reward=score.score, success=score.score == 1.0, details=new_details)
    if new.reward != rec.reward:
        result.changed += 1
        result.gained += int(new.success and not rec.success)
        result.lost += int(rec.success and not new.success)
        for w in _why(details, new_details):
            result.why[w] += 1
    return new


def describe(result: RescoreResult) -> list[str]:
    """Lines for the terminal."""
    n = result.episodes or 1
    lines = [f"{result.run}: {result.episodes} episodes; success {result.old_success}/{n} -> "
             f"{result.new_success}/{n}; {result.changed} scores changed (+{result.gained} -{result.lost})"]
    for why, count in result.why.most_common():
        lines.append(f"  {count} changed by {why}")
    if result.needs_live:
        lines.append(f"  {len(result.needs_live)} kept their old score: program_html needs the live site "
                     f"(--live): {', '.join(result.needs_live[:10])}")
    if result.needs_judge:
        lines.append(f"  {len(result.needs_judge)} kept their old score: a new judge question (--rejudge): "
                     f"{', '.join(result.needs_judge[:10])}")
    if result.not_rescored:
        lines.append(f"  {len(result.not_rescored)} not rescored: {', '.join(result.not_rescored[:5])}")
    lines.append(f"  written to {result.out}/episodes.jsonl (the original is untouched); "
                 f"planact report {result.run} {result.out}")
    return lines


def safe_label(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.+-]+", "_", text)[:80] or "rescore"


class LiveRescorer:
    """Re-opens the sites for episodes whose program_html the records cannot decide: logs in as the
    suite does, goes to the episode's final URL and runs the evaluators there. One browser, made on
    first use; `with LiveRescorer(suite) as live: rescore_run(..., live=live)`."""

    def __init__(self, suite: Any, options: list[str] | None = None) -> None:
        self.suite = suite
        self.rules = with_options(RULES[suite.name], options or [])
        self.session = None

    def __enter__(self) -> "LiveRescorer":
        return self

    def __exit__(self, *exc: object) -> None:
        if self.session is not None:
            self.session.close()

    def __call__(self, rec: EpisodeRecord, config: dict) -> TaskScore:
        from ..web.browser import BrowserOptions, BrowserSession

        if self.session is None:
            self.session = BrowserSession(self.suite.browser_options(BrowserOptions())).start()
        from .webarena.tasks import WebArenaTask

        task = WebArenaTask(config)  # the task as it was scored (its sites and logins), not the suite's file
        state = self.suite.auth.state_for(self.session, task.login_sites) if task.login_sites else None
        self.session.new_context(state)
        _, final_url, _, _ = recorded_inputs(rec.details)
        if final_url:
            self.session.goto(final_url)
        evaluator = self.suite.evaluator(config)
        evaluator.rules = self.rules
        with self.session.watchdog("scoring on the live site"):
            return evaluator.evaluate(config, rec.answer, self.session.page)
