"""Run episodes: one (`planact run`) or many on parallel browsers with resume (`planact eval`)."""

from __future__ import annotations

import hashlib
import json
import queue
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..agent.loop import Event, PlanActAgent
from ..agent.trace import Trajectory
from ..config import PlanActConfig
from ..errors import InfrastructureError, UsageError
from ..web.browser import BrowserOptions, BrowserSession, PageHung
from ..web.env import BrowserEnv
from ..web.observation import ObservationOptions
from .records import EpisodeRecord, RecordLog
from .report import write_episode


@dataclass
class RunSettings:
    browser: BrowserOptions
    observation: ObservationOptions
    screenshots: bool = True
    marks: bool = False  # set-of-marks on the screenshots

    @classmethod
    def from_config(cls, cfg: PlanActConfig) -> "RunSettings":
        b = cfg.browser
        return cls(
            browser=BrowserOptions(headless=b.headless, executable_path=b.executable_path,
                                   allow_domains=b.allow_domains, page_timeout_s=b.page_timeout_s),
            observation=ObservationOptions(token_budget=b.token_budget, viewport_only=b.viewport_only,
                                           max_ms=b.observe_max_ms),
            screenshots=b.screenshots,
            marks=b.set_of_marks,
        )


def episode_dirname(task_id: str, seed: int | None) -> str:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", task_id)[:80]
    return f"{safe}-seed{seed}" if seed is not None else safe


def play_episode(suite, session: BrowserSession, agent: PlanActAgent, task_id: str, seed: int | None,
                 settings: RunSettings, on_event: Event | None = None, goal: str | None = None) -> Trajectory:
    """Reset, run the agent, score. `goal` replaces the task's own text (synthetic queries that use
    a task's start page). Infrastructure failures (the browser died, the task would not load) are
    recorded as status "error", and the browser is restarted."""
    traj = Trajectory(task="", suite=suite.name, task_id=task_id, seed=seed)
    try:
        session.ensure_alive()
        with session.watchdog("loading the task"):
            instance = suite.reset(session, task_id, seed)
        traj.task, traj.start_url = goal or instance.goal, instance.start_url
        if goal and goal != instance.goal:
            traj.score_details["task_goal"] = instance.goal
        if hasattr(suite, "make_env"):  # a suite whose episodes run in a browser of their own (BrowserGym)
            env = suite.make_env(session, instance, settings.observation, agent.executor.llm.count_tokens)
        else:
            env = BrowserEnv(session, settings.observation, count_tokens=agent.executor.llm.count_tokens,
                             screenshots=settings.screenshots, marks=settings.marks,
                             done_check=lambda: suite.finished(session, instance))
        agent.run(env, traj.task, on_event, traj)
        if traj.status not in ("error", "timeout"):
            with session.watchdog("scoring the episode"):
                score = suite.score(session, instance, traj.answer)
            if score is not None:
                traj.reward, traj.raw_reward, traj.success = score.reward, score.raw_reward, score.success
                traj.score_details.update(score.details)
    except PageHung as err:  # loading or scoring hung: the page's fault, not the infrastructure's
        traj.status, traj.error = "timeout", str(err)
    except Exception as err:  # noqa: BLE001 - recorded, never fatal to an eval
        traj.status, traj.error = "error", f"{type(err).__name__}: {err}"
    if traj.status in ("error", "timeout") and not session.alive():
        session.restart()
    return traj


def run_episode(suite, session: BrowserSession, agent: PlanActAgent, task_id: str, seed: int | None,
                out_dir: Path, settings: RunSettings, on_event: Event | None = None) -> EpisodeRecord:
    """play_episode, then write trace + report under out_dir/episodes/."""
    traj = play_episode(suite, session, agent, task_id, seed, settings, on_event)
    folder = out_dir / "episodes" / episode_dirname(task_id, seed)
    trace, report = write_episode(traj, folder)
    site = suite.site_of(task_id) if hasattr(suite, "site_of") else None
    return EpisodeRecord.from_trajectory(traj, str(trace.relative_to(out_dir)), str(report.relative_to(out_dir)), site)


def _digest(fingerprint: dict) -> str:
    return hashlib.sha1(json.dumps(fingerprint, sort_keys=True).encode()).hexdigest()[:12]


class RunConfigMismatch(UsageError):
    pass


def check_run_config(out_dir: Path, fingerprint: dict, tags: dict[str, str] | None = None) -> None:
    """An output folder belongs to one configuration: resuming with another would mix results.
    `tags` (e.g. planner=trained) label the run for reports; they may change on a resume."""
    path = out_dir / "run.json"
    digest = _digest(fingerprint)
    if path.exists():
        old = json.loads(path.read_text())
        # a folder written when the fingerprint held more (every config section): the parts it holds now
        same = old.get("digest") == digest or (
            isinstance(old.get("config"), dict) and _digest({k: old["config"].get(k) for k in fingerprint}) == digest)
        if not same:
            raise RunConfigMismatch(
                f"{out_dir} holds a run with another configuration ({old.get('digest')} vs {digest}); "
                "use another --output, or remove the folder"
            )
        if tags and old.get("tags") != tags:
            path.write_text(json.dumps({**old, "tags": tags}, indent=1))
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"digest": digest, "config": fingerprint, "tags": tags or {}}, indent=1))


class Tally:
    """The driver's side of an eval: it alone appends the records (so a killed run resumes without
    losing or repeating an episode), keeps the results, and stops the run after
    `max_consecutive_errors` episodes in a row end in `error`."""

    def __init__(self, out_dir: Path, on_record: Callable[[EpisodeRecord], None] | None,
                 max_consecutive_errors: int | None) -> None:
        self.log = RecordLog(out_dir / "episodes.jsonl")
        self.on_record = on_record
        self.max_errors = max_consecutive_errors
        self.results: list[EpisodeRecord] = []
        self.streak: list[EpisodeRecord] = []  # the episodes that ended in error since the last one that did not
        self.stop = threading.Event()
        self._lock = threading.Lock()

    def todo(self, suite_name: str, jobs: list[tuple[str, int | None]]) -> list[tuple[str, int | None]]:
        done = self.log.done_keys()
        return [(t, s) for t, s in jobs if (suite_name, t, s) not in done]

    def add(self, rec: EpisodeRecord) -> None:
        self.log.append(rec)
        with self._lock:
            self.results.append(rec)
            if rec.status == "error":
                self.streak.append(rec)
                if self.max_errors and len(self.streak) >= self.max_errors:
                    self.stop.set()
            else:
                self.streak.clear()
        if self.on_record:
            self.on_record(rec)

    def finish(self) -> list[EpisodeRecord]:
        if self.stop.is_set():
            last = self.streak[-1]
            raise InfrastructureError(
                f"stopped after {len(self.streak)} episodes in a row ended in error (last: {last.task_id}: "
                f"{last.error}); fix the cause and run again: the {len(self.results) - len(self.streak)} "
                "finished episodes are kept")
        return self.results


def run_eval(suite, make_agent: Callable[[], PlanActAgent], jobs: list[tuple[str, int | None]], out_dir: Path,
             settings: RunSettings, workers: int = 1,
             on_record: Callable[[EpisodeRecord], None] | None = None,
             max_consecutive_errors: int | None = 5) -> list[EpisodeRecord]:
    """Run `jobs` (task, seed) not already in out_dir/episodes.jsonl, each worker thread on its own
    browser with the agent `make_agent` gives it (its own models, so that local models run side by
    side instead of taking turns; or one shared agent). After `max_consecutive_errors` episodes in a
    row end in `error` (a dead model endpoint, a browser that will not start, an unreachable site)
    the run stops with InfrastructureError; what finished is kept and errored episodes are run again
    on a resume. `bench.cluster.run_eval_ray` runs the same on a Ray cluster."""
    tally = Tally(out_dir, on_record, max_consecutive_errors)
    todo: queue.Queue = queue.Queue()
    for job in tally.todo(suite.name, jobs):
        todo.put(job)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            agent = make_agent()
            with BrowserSession(suite.browser_options(settings.browser)) as session:
                while not tally.stop.is_set():
                    try:
                        task_id, seed = todo.get_nowait()
                    except queue.Empty:
                        return
                    tally.add(run_episode(suite, session, agent, task_id, seed, out_dir, settings))
        except BaseException as err:  # noqa: BLE001 - re-raised in the caller's thread
            errors.append(err)

    threads = [threading.Thread(target=worker, name=f"planact-worker-{i}", daemon=True)
               for i in range(max(1, min(workers, todo.qsize() or 1)))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return tally.finish()


def parse_seeds(text: str) -> list[int]:
    """'0-4' -> [0..4]; '1,3,7' -> [1, 3, 7]; '0-2,10' -> [0, 1, 2, 10]. Anything else (a word, a
    negative seed, a range that runs backwards, nothing at all) is a UsageError."""
    out: list[int] = []
    for part in str(text).split(","):
        part = part.strip()
        if not part:
            continue
        m = re.fullmatch(r"([0-9]{1,9})(?:\s*-\s*([0-9]{1,9}))?", part)
        if not m:
            raise UsageError(f"bad seeds {text!r}: {part!r} is not a seed (0 or more) or a range like 0-4")
        a, b = int(m.group(1)), int(m.group(2) or m.group(1))
        if b < a:
            raise UsageError(f"bad seeds {text!r}: the range {part} runs backwards; write {b}-{a}")
        if b - a >= 1_000_000:
            raise UsageError(f"bad seeds {text!r}: the range {part} holds over a million seeds")
        out.extend(range(a, b + 1))
    if not out:
        raise UsageError(f"bad seeds {text!r}: give at least one seed, e.g. 0-4 or 1,3,5")
    return list(dict.fromkeys(out))
