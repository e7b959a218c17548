"""Hindsight pruning of the outcome filter's successes: each chosen success is replayed in its environment
(the same task instance: a seeded suite's seed) without one of its actions at a time, and an action stays
only when the success needs it. Exploration's successes carry detours that change the page and so survive
the filter's static rules (a radio button clicked before the right one, a checkbox ticked and unticked): a
policy trained on them learns the detour as often as the skill. The environment's reward decides, as it does
for the rollouts; nothing here knows a task. Each record's result is appended to `pruned.jsonl` in the loop's
folder, so a killed phase resumes and a success is replayed once over all rounds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any

from ..config import PlanActConfig
from ..synth.records import Provenance, Record, RecordStore, new_record
from ..web.actions import parse_action
from ..web.browser import BrowserSession
from ..web.env import BrowserEnv

PRUNE_VERSION = "replay-v1"
Steps = list[dict[str, Any]]


@dataclass
class Replayer:
    """Plays a fixed list of actions on a fresh instance of a seeded suite's task and says whether the
    episode succeeded, with the steps as they were observed this time (pages, snippets)."""

    suite: Any
    session: BrowserSession
    obs_options: Any
    snippet_chars: int = 400
    min_raw_reward: float | None = None

    def __call__(self, task_id: str, seed: int, steps: Steps) -> Steps | None:
        """The replayed steps when the actions succeed (cut where the episode ended with success), else None."""
        session, suite = self.session, self.suite
        try:
            session.ensure_alive()
            with session.watchdog("loading the task"):
                instance = suite.reset(session, task_id, seed)
            env = BrowserEnv(session, self.obs_options, screenshots=False,
                             done_check=lambda: suite.finished(session, instance))
            out: Steps = []
            for st in steps:
                if env.finished():
                    break
                action = parse_action(st["action"])
                obs = env.observe()
                if action.element is not None and action.element not in obs.elements:
                    return None
                new = {**st, "index": len(out) + 1, "url": obs.url, "observation": obs.html,
                       "observation_tokens": obs.tokens,
                       "snippet": obs.snippet(action.element, self.snippet_chars) if action.element is not None
                       else None}
                result = env.act(action)
                if result.error:
                    return None
                new["action_error"], new["page_notice"] = None, result.notice
                out.append(new)
            with session.watchdog("scoring the episode"):
                score = suite.score(session, instance, None)
        except Exception:  # noqa: BLE001 - a replay that cannot be played is a success not reproduced
            if not session.alive():
                session.restart()
            return None
        if score is None or not score.success:
            return None
        full = self.min_raw_reward is None or score.raw_reward is None or score.raw_reward >= self.min_raw_reward
        return out if full else None


def minimal(steps: Steps, replay: Callable[[Steps], Steps | None]) -> Steps | None:
    """Greedy hindsight pruning: the steps replayed as they are (None when they do not succeed again:
    the instance is not reproducible), then without each action in turn, front to back, and where no single
    action can go, without each pair (a checkbox ticked and ticked again, a toggle and its undo); a removal
    stays when the rest still succeeds. The last action is tried too (an earlier one may have ended the
    episode)."""
    current = replay(steps)
    if current is None:
        return None
    while len(current) > 1:
        trial = None
        for i in range(len(current)):
            trial = replay(current[:i] + current[i + 1:])
            if trial is not None:
                break
        if trial is None and len(current) > 2:
            for i, j in combinations(range(len(current)), 2):
                if (trial := replay(current[:i] + current[i + 1:j] + current[j + 1:])) is not None:
                    break
        if trial is None:
            return current
        current = trial
    return current


def _prunable(rec: Record, suite: Any) -> bool:
    d = rec.data
    steps = d["trajectory"]["steps"]
    return (getattr(suite, "seeded", False) and d.get("env_seed") is not None and d.get("task_id") not in (None, "adhoc")
            and len(steps) > 1 and all(s.get("action") for s in steps)
            and not any(parse_action(s["action"]).is_exit for s in steps))


def prune_store(out: Path) -> RecordStore:
    return RecordStore(out / "pruned.jsonl")


def prune(cfg: PlanActConfig, out: Path, chosen: list[Record],
          progress: Callable[[str, int, int], None] | None = None) -> tuple[list[Record], dict[str, int]]:
    """`chosen` with each multi-action success of a seeded suite replaced by its minimal replayed form
    (its outputs rewritten by `select.rewrite_outputs`); counts of records replayed, shortened and
    not reproducible."""
    from ..bench.registry import get_suite
    from ..bench.runner import RunSettings
    from .select import rewrite_outputs

    store = prune_store(out)
    done = {r.unit: r for r in store.read()}
    settings = RunSettings.from_config(cfg)
    replayers: dict[str, Replayer] = {}  # one browser per suite
    stats = {"replayed": 0, "shortened": 0, "actions_removed": 0, "not_reproducible": 0}
    todo = [r for r in chosen if r.id not in done]
    result: list[Record] = []
    n = 0
    try:
        for rec in chosen:
            d = rec.data
            if rec.id not in done:
                suite = get_suite(d.get("suite") or cfg.learn.suite)
                if not _prunable(rec, suite):
                    done[rec.id] = new_record("pruned", rec.id, 0, Provenance(stage="learn-prune", prompt=PRUNE_VERSION),
                                              {"steps": None, "why": "not replayable"}, [rec.id], "dropped")
                else:
                    if suite.name not in replayers:
                        session = BrowserSession(suite.browser_options(settings.browser)).start()
                        replayers[suite.name] = Replayer(suite, session, settings.observation,
                                                         min_raw_reward=cfg.learn.select.min_raw_reward)
                    replayer = replayers[suite.name]
                    steps = minimal(d["trajectory"]["steps"],
                                    lambda s, d=d, r=replayer: r(d["task_id"], int(d["env_seed"]), s))
                    done[rec.id] = new_record(
                        "pruned", rec.id, 0,
                        Provenance(stage="learn-prune", prompt=PRUNE_VERSION, seed=int(d["env_seed"])),
                        {"steps": steps, "before": len(d["trajectory"]["steps"])}, [rec.id],
                        "kept" if steps is not None else "dropped", None if steps is not None else "not reproducible")
                store.append_batch([done[rec.id]], rec.id)
                n += 1
                if progress:
                    progress("prune", n, len(todo))
            p = done[rec.id]
            steps = p.data.get("steps")
            if p.data.get("why") == "not replayable":
                result.append(rec)
                continue
            stats["replayed"] += 1
            if steps is None:
                stats["not_reproducible"] += 1
                result.append(rec)
                continue
            removed = len(d["trajectory"]["steps"]) - len(steps)
            if removed <= 0:
                result.append(rec)
                continue
            stats["shortened"] += 1
            stats["actions_removed"] += removed
            new = rec.model_copy(deep=True)
            new.data["trajectory"]["steps"] = steps
            new.data["pruned_steps"] = (rec.data.get("pruned_steps") or 0) + removed
            new.data["pruned_by_replay"] = removed
            result.append(rewrite_outputs(new))
    finally:
        for r in replayers.values():
            r.session.close()
    return result, stats
