"""Phase 2: the outcome filter. The ORM's successes from every round so far; one trajectory per
task instance (the shortest once the steps that changed nothing are taken out), duplicates dropped,
tasks balanced (at most `per_task_cap` instances each, so easy tasks do not drown the rest), and
each step's output rewritten in the canonical form the executor is trained to write
(`# Element: <what>` and the action, without the sampled noise)."""

from __future__ import annotations

import copy
import random
import re
from collections import defaultdict
from pathlib import Path

from ..config import PlanActConfig
from ..synth.annotator import element_line
from ..synth.records import Record, RecordStore
from ..web.actions import Action, ParseError, parse_action
from ..web.observation import page_content
from .rollouts import all_rollouts, task_of


def _n_actions(rec: Record) -> int:
    return sum(1 for s in rec.data["trajectory"]["steps"] if s.get("action"))


def _signature(rec: Record) -> tuple:
    """Same task text, same first page, same actions: the same training example twice."""
    traj = rec.data["trajectory"]
    first = traj["steps"][0].get("observation") if traj["steps"] else ""
    return task_of(rec), traj["task"], first, tuple(s.get("action") for s in traj["steps"])


_SETS_VALUE = ("Type", "Select Dropdown Option")


def _parsed(st: dict) -> Action | None:
    try:
        return parse_action(st["action"]) if st.get("action") else None
    except ParseError:
        return None


def _unobservable(action: Action, page: str) -> bool:
    """A value set on an element whose value the page text cannot show (a password field observed
    before planact showed masked values): its effect is invisible, not absent."""
    if action.name not in _SETS_VALUE or action.element is None:
        return False
    tag = re.search(rf'<input id="{action.element}"[^>]*>', page)
    return bool(tag and 'type="password"' in tag.group(0) and "value=" not in tag.group(0))


def _changed_nothing(steps: list[dict], i: int) -> bool:
    """Step i was no action, or an action after which the page (address and content) was as before:
    the same but for element ids (a part drawn again unchanged, as search results are on a second
    click of Search). The last step always counts: the episode ended on it."""
    st = steps[i]
    if not st.get("action"):
        return i + 1 < len(steps)
    if i + 1 >= len(steps):
        return False
    nxt = steps[i + 1]
    if nxt.get("url") != st.get("url") or page_content(nxt.get("observation") or "") != page_content(
            st.get("observation") or ""):
        return False
    action = _parsed(st)
    return not (action and _unobservable(action, st.get("observation") or ""))


def _superseded(steps: list[dict], i: int) -> bool:
    """Step i set an element's value (Type, Select) and a later step sets the same element's value
    again, with only values set in between (no click or key that could have used the first value):
    only the last value counts."""
    action = _parsed(steps[i])
    if not action or action.name not in _SETS_VALUE or action.element is None:
        return False
    for later in steps[i + 1:]:
        nxt = _parsed(later)
        if not nxt or nxt.name not in _SETS_VALUE:
            return False
        if nxt.element == action.element:
            return True
    return False


def canonical(rec: Record) -> Record:
    """A copy without the steps that changed nothing (an untrained policy's clicks on plain text,
    failed actions: they earned none of the reward, and a policy that learned them would repeat
    them) or whose value a later step overwrote, whose outputs are `# Element: ...` + the parsed action, without sampled notes or
    reasoning (noise from an untrained policy)."""
    out = rec.model_copy(deep=True)
    traj = out.data["trajectory"]
    steps = [s for i, s in enumerate(traj["steps"]) if not _changed_nothing(traj["steps"], i)]
    steps = [s for i, s in enumerate(steps) if not _superseded(steps, i)]
    traj["steps"] = steps
    out.data["pruned_steps"] = len(rec.data["trajectory"]["steps"]) - len(steps)
    return rewrite_outputs(out)


def rewrite_outputs(rec: Record) -> Record:
    """The steps renumbered, each output `# Element: <what>` (from the page it acted on) + the parsed action."""
    for n, st in enumerate(rec.data["trajectory"]["steps"], 1):
        st["index"] = n
        st["parse_error"] = None
        if st.get("action"):
            line = element_line(st["action"], st.get("observation") or "")
            st["raw_output"] = f"{line}\n{st['action']}" if line else st["action"]
            st["note"] = None
            st["reasoning"] = None
    return rec


def full_reward(rec: Record, minimum: float | None) -> bool:
    """The ORM's success earned at least `minimum` raw reward (where the ORM reports one)."""
    raw = (rec.data.get("orm") or {}).get("raw_reward")
    return minimum is None or raw is None or raw >= minimum


def select(cfg: PlanActConfig, out: Path, round_: int) -> tuple[list[Record], dict[str, int]]:
    """The successful trajectories that make up round `round_`'s training set, and how many
    instances each task has in it."""
    sel = cfg.learn.select
    best: dict[tuple, Record] = {}
    seen: set[tuple] = set()
    for rec in all_rollouts(out, round_):
        if not rec.kept or not full_reward(rec, sel.min_raw_reward):
            continue
        rec = canonical(rec)
        if not 0 < _n_actions(rec) <= sel.max_actions:
            continue
        sig = _signature(rec)
        if sig in seen:
            continue  # the same actions on the same task text: a duplicate
        seen.add(sig)
        instance = (task_of(rec), rec.data.get("env_seed"), rec.data["trajectory"]["task"])
        cur = best.get(instance)
        if cur is None or (_n_actions(rec), len(rec.data["trajectory"]["steps"])) < \
                (_n_actions(cur), len(cur.data["trajectory"]["steps"])):
            best[instance] = rec
    by_task: dict[str, list[Record]] = defaultdict(list)
    for (task, _, _), rec in sorted(best.items(), key=lambda kv: (kv[0][0], str(kv[0][1]), kv[0][2])):
        by_task[task].append(rec)
    rng = random.Random(cfg.learn.seed * 1000 + round_)
    chosen: list[Record] = []
    counts: dict[str, int] = {}
    for task in sorted(by_task):
        recs = by_task[task]
        if len(recs) > sel.per_task_cap:
            recs = rng.sample(recs, sel.per_task_cap)
        counts[task] = len(recs)
        chosen.extend(recs)
    return chosen, counts


def write_selection(records: list[Record], path: Path) -> None:
    """The round's `trajectories.jsonl` for the synth stages, replaced as a whole."""
    tmp = path.with_suffix(".jsonl.tmp")
    tmp.unlink(missing_ok=True)
    store = RecordStore(tmp)
    for r in records:
        store.append_batch([copy.copy(r)], r.id)
    if not records:
        store.append_batch([], "empty")
    tmp.replace(path)
