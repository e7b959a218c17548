"""Other projects' trajectories as planact's `trajectories` records, so that the rest of the pipeline
(grounded plans, replanning data, export, training) runs on them as on planact's own rollouts.

- `webrl`: WebArena-Lite's and WebRL's training files: a JSON list (or JSON lines) of
  `{"conversations": [{"from": "human", "value": ...}, {"from": "gpt", "value": ...}, ...]}` items
  (LLaMA-Factory's sharegpt layout). The human turns hold WebRL's prompt: `Task Instruction: <intent>`,
  then `Round N` sections with the page (their simplified HTML, ids in `id="..."`) and, for past rounds,
  the assistant's answer; either all rounds in one human turn (one item per step, with the history)
  or one turn per round. Llama 3 header tokens between sections are dropped. The gpt turns are the
  actions in the WebRL format planact reads (`# Element:` / `# Note:` lines included). One step's item
  repeats the steps before it, so an item whose steps begin another item's of the same task is
  left out: each trajectory is imported once, from its longest item.
- `plan-and-act`: records that carry the plans of Plan-and-Act's released data: the task (`task`,
  `intent` or `query`), its steps (`trajectory`, `steps` or `actions`: each an action string or an
  object with `action` / `response` and `observation` / `html` / `page`, and optionally `url`), and
  the plans: `initial_plan` (the `## Step` text), `plan_history` (every plan the run used, in order)
  and `replan_steps` (the action indices after which each later plan was written). The plans ride
  along in the record (`imported_plans`): the `plans` stage takes a grounded initial plan as the
  teacher's, and the `replan` stage takes the later plans as replanning examples.

Each imported trajectory is kept (these files hold demonstrations); its provenance names the file
and item. Records get stable ids, so importing a file again adds nothing twice.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..agent.trace import StepRecord, Trajectory
from ..web.actions import ParseError, parse_action
from .records import Provenance, Record, RecordStore, new_record

FORMATS = ("webrl", "plan-and-act")
_SPECIAL = re.compile(r"<\|(?:eot_id|start_header_id|end_header_id|begin_of_text|end_of_text)\|>")
_ROUND = re.compile(r"(?m)^Round (\d+)\s*$")
_TASK = re.compile(r"Task Instruction:\s*(.+?)\s*(?=\n\s*\n|\nRound \d|$)", re.S)
_ROLE_LINE = re.compile(r"(?m)^\s*(user|assistant)\s*$")
_ELEMENT_ID = re.compile(r'\bid="?(\d+)')


class ImportError_(ValueError):  # noqa: N801 - not the builtin
    """A file that is not in the format asked for; the message says where and why."""


@dataclass
class Imported:
    task: str
    steps: list[tuple[str, str, str]]  # (page, model output, url)
    item: int
    plans: dict[str, Any] | None = None


def _read_items(path: Path) -> list[Any]:
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
        return data if isinstance(data, list) else [data]
    except json.JSONDecodeError:
        items = []
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    items.append(json.loads(line))
                except json.JSONDecodeError as err:
                    raise ImportError_(f"{path}:{n}: not JSON ({err.msg})") from None
        return items


def _clean(text: str) -> str:
    return _ROLE_LINE.sub("", _SPECIAL.sub("", text)).strip()


def _rounds(human: str) -> list[tuple[int, str, str]]:
    """The `Round N` sections of a WebRL prompt: (N, page, the assistant's answer if the round is past)."""
    marks = list(_ROUND.finditer(human))
    out = []
    for i, m in enumerate(marks):
        body = human[m.end(): marks[i + 1].start() if i + 1 < len(marks) else len(human)]
        parts = re.split(r"<\|start_header_id\|>assistant<\|end_header_id\|>", body, maxsplit=1)
        page, answer = _clean(parts[0]), _clean(parts[1]) if len(parts) > 1 else ""
        out.append((int(m.group(1)), page, answer))
    return out


def parse_webrl_item(item: Any, index: int) -> Imported:
    if not isinstance(item, dict) or not isinstance(item.get("conversations"), list):
        raise ImportError_(f"item {index}: no 'conversations' list")
    turns = [(t.get("from") or t.get("role"), t.get("value") or t.get("content") or "")
             for t in item["conversations"] if isinstance(t, dict)]
    humans = [v for r, v in turns if r in ("human", "user")]
    if not humans:
        raise ImportError_(f"item {index}: no human turn")
    found = _TASK.search(_SPECIAL.sub("", humans[0]))
    if not found:
        raise ImportError_(f"item {index}: no 'Task Instruction:' in the first human turn")
    task = found.group(1).strip()
    steps: list[tuple[str, str, str]] = []
    pending: str | None = None  # a page whose answer is the next gpt turn
    for role, value in turns:
        if role in ("human", "user"):
            rounds = _rounds(value)
            for _, page, answer in rounds:
                if answer:
                    steps.append((page, answer, ""))
                else:
                    pending = page
            if not rounds:  # a turn of its own with just the page
                pending = _clean(value)
        elif role in ("gpt", "assistant") and pending is not None:
            steps.append((pending, value.strip(), ""))
            pending = None
    if not steps:
        raise ImportError_(f"item {index}: no step with an answer")
    return Imported(task, steps, index)


def _first(d: dict, *keys: str, default: Any = None) -> Any:
    for k in keys:
        if d.get(k) not in (None, "", []):
            return d[k]
    return default


def parse_plan_and_act_item(item: Any, index: int) -> Imported:
    if not isinstance(item, dict):
        raise ImportError_(f"item {index}: not an object")
    task = _first(item, "task", "intent", "query")
    if not isinstance(task, str):
        raise ImportError_(f"item {index}: no task (task, intent or query)")
    raw_steps = _first(item, "trajectory", "steps", "actions", default=[])
    steps = []
    for s in raw_steps:
        if isinstance(s, str):
            steps.append(("", s, ""))
        elif isinstance(s, dict):
            steps.append((str(_first(s, "observation", "html", "page", default="")),
                          str(_first(s, "action", "response", "output", default="")), str(s.get("url") or "")))
    if not steps:
        raise ImportError_(f"item {index}: no steps (trajectory, steps or actions)")
    history = item.get("plan_history") or []
    initial = item.get("initial_plan") or (history[0] if history else None)
    if initial is None:
        raise ImportError_(f"item {index}: no plan (initial_plan or plan_history)")
    plans = {"initial_plan": initial, "plan_history": history or [initial],
             "replan_steps": list(item.get("replan_steps") or [])}
    return Imported(task, steps, index, plans)


def _trajectory(imp: Imported) -> Trajectory:
    traj = Trajectory(task=imp.task, status="exit", success=True)
    for i, (page, output, url) in enumerate(imp.steps):
        step = StepRecord(index=i, url=url, observation=page, observation_tokens=0, raw_html_chars=len(page),
                          raw_output=output)
        try:
            action = parse_action(output)
            step.action, step.element, step.note = action.call(), action.element, action.note
            if action.element is not None:
                step.snippet = _element_line(page, action.element)
            if action.name == "exit":
                traj.answer = action.message
        except ParseError as err:
            step.parse_error = str(err)
        traj.steps.append(step)
    traj.final_url = imp.steps[-1][2]
    traj.final_observation = imp.steps[-1][0]
    return traj


def _element_line(page: str, element: int) -> str | None:
    for line in page.splitlines():
        m = _ELEMENT_ID.search(line)
        if m and int(m.group(1)) == element:
            return line.strip()[:400]
    return None


def _prefix_of_another(imp: Imported, others: list[Imported]) -> bool:
    mine = [s[1] for s in imp.steps]
    return any(o is not imp and o.task == imp.task and len(o.steps) > len(mine)
               and [s[1] for s in o.steps[:len(mine)]] == mine for o in others)


def import_file(path: str | Path, fmt: str, store: RecordStore, site: str | None = None) -> dict[str, int]:
    """Append the file's trajectories to `store` (a `trajectories.jsonl`); counts of what happened."""
    path = Path(path)
    if fmt not in FORMATS:
        raise ImportError_(f"unknown format {fmt!r}; formats: {', '.join(FORMATS)}")
    if not path.is_file():
        raise ImportError_(f"{path} not found")
    parse = parse_webrl_item if fmt == "webrl" else parse_plan_and_act_item
    parsed, skipped = [], 0
    for i, item in enumerate(_read_items(path)):
        try:
            parsed.append(parse(item, i))
        except ImportError_:
            skipped += 1
    if not parsed:
        raise ImportError_(f"{path}: no item in the {fmt} format")
    longest = [p for p in parsed if not _prefix_of_another(p, parsed)]
    done = store.done_units()
    added = 0
    for imp in longest:
        traj = _trajectory(imp)
        key = hashlib.sha1(json.dumps([imp.task, [s[1] for s in imp.steps]]).encode()).hexdigest()[:16]
        unit = f"import:{fmt}:{key}"
        if unit in done:
            continue
        traj.id = key[:12]
        prov = Provenance(stage="trajectories", model=f"imported:{fmt}", prompt=f"imported:{fmt}",
                          extra={"source": str(path), "item": imp.item})
        data = {"query": imp.task, "site": site, "suite": None, "task_id": None, "env_seed": None,
                "start_url": traj.steps[0].url, "trajectory": traj.to_dict(),
                "orm": {"success": True, "reward": None, "source": f"imported from {path.name}"}}
        if imp.plans:
            data["imported_plans"] = imp.plans
        rec: Record = new_record("trajectories", unit, 0, prov, data)
        store.append_batch([rec], unit)
        added += 1
    return {"items": len(parsed) + skipped, "not_in_format": skipped, "steps_of_others": len(parsed) - len(longest),
            "added": added, "already": len(longest) - added}
