"""Preference data (learn.train.prefer): what not to do, from the loop's own rollouts.

A rollout that the environment ended in failure ended on an action that was wrong where it was taken:
the episode was still open before it, and that action closed it with no reward (clicking Submit before
the form is filled, or before the last checkbox is ticked). For the executor, those last actions are
the undesirable examples, rendered as it saw them (its prompt, its history, the canonical answer the
SFT examples use). For the planner, the plan the offline annotator writes from such a rollout's
actions is one that, followed, ends in failure on that first page: an undesirable plan. The round's
SFT examples are the desirable ones; KTO (train/kto.py) takes both unpaired. Nothing here knows a
task: only the ORM's verdict and how the episode ended."""

from __future__ import annotations

import json
import random
import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..agent.loop import executor_variables
from ..agent.prompts import PromptTemplate, load_prompt
from ..config import LearnPrefer, PlanActConfig
from ..llm.base import LLM
from ..synth.annotator import annotate, describe_action, describe_trajectory, element_line
from ..synth.plans import plan_text
from ..synth.records import Record, RecordStore
from ..synth.trajdata import feedback_before, steps_of
from ..web.actions import ParseError, parse_action
from .data import balanced
from .rollouts import rollout_store, task_of
from .select import canonical


def _failures(out: Path, upto: int) -> Iterator[tuple[int, Record]]:
    """Rounds upto..1 (newest first): the rollouts the environment ended in failure (not a success, not
    an episode cut off by max steps or a loop, not an error: those say nothing of one action)."""
    for r in range(upto, 0, -1):
        for rec in rollout_store(out, r).read():
            traj = rec.data.get("trajectory") or {}
            if not rec.kept and traj.get("status") == "env_done" and not traj.get("success"):
                yield r, rec


def _row(rec: Record, r: int, pos: int, system: str, user: str, answer: str, explored: bool,
         prompt_id: str) -> dict[str, Any]:
    task = task_of(rec)
    return {"id": f"{rec.id}-{pos}", "label": False,
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": user},
                         {"role": "assistant", "content": answer}],
            "source": {"site": rec.data.get("site") or task, "task": task, "round": r, "record_id": rec.id,
                       "position": pos, "explored": explored, "reward": (rec.data.get("orm") or {}).get("reward"),
                       "stage": "learn-prefer", "model": rec.provenance.model or "", "prompt": prompt_id,
                       "seed": rec.data.get("env_seed", -1)}}


def failure_endings(cfg: PlanActConfig, out: Path, upto: int, prefer: LearnPrefer) -> list[dict[str, Any]]:
    """The executor's undesirable examples of rounds upto..1 (newest first): per task at most
    `per_task`, each (prompt, answer) once."""
    prompt = load_prompt("executor", cfg.learn.prompt_version)
    rows: list[dict[str, Any]] = []
    per_task: dict[str, int] = defaultdict(int)
    seen: set[tuple[str, str]] = set()
    for r, rec in _failures(out, upto):
        traj = rec.data["trajectory"]
        task = task_of(rec)
        steps = steps_of(traj)
        last = steps[-1] if steps else None
        if per_task[task] >= prefer.per_task or last is None or last.action is None or last.action_error or (
                last.explored and not prefer.explored):
            continue
        pos = len(steps) - 1
        variables = executor_variables(traj["task"], "", steps[:pos], feedback_before(steps, pos), last.url,
                                       last.observation)
        variables.update({"has_plan": False, "cot": False})
        system, user = prompt.render(**variables)
        line = element_line(last.action, last.observation or "")
        answer = f"{line}\n{last.action}" if line else last.action
        if (user, answer) in seen:
            continue
        seen.add((user, answer))
        per_task[task] += 1
        rows.append(_row(rec, r, pos, system, user, answer, bool(last.explored), prompt.id))
    return _spread(rows, prefer.max_undesirable)


def failed_plans(cfg: PlanActConfig, out: Path, upto: int, prefer: LearnPrefer) -> list[dict[str, Any]]:
    """The planner's undesirable examples: for each failed rollout (as the outcome filter cleans a
    success: steps that changed nothing left out), the plan the offline annotator writes from its
    actions, as the answer to the planner's prompt on its first page."""
    prompt = load_prompt("planner", cfg.learn.prompt_version)
    rows: list[dict[str, Any]] = []
    per_task: dict[str, int] = defaultdict(int)
    seen: set[tuple[str, str]] = set()
    for r, rec in _failures(out, upto):
        task = task_of(rec)
        steps = rec.data["trajectory"].get("steps") or []
        explored = any(st.get("explored") for st in steps)
        if per_task[task] >= prefer.per_task or not steps or (explored and not prefer.explored):
            continue
        traj = canonical(rec).data["trajectory"]
        described = describe_trajectory(traj)
        if not described:
            continue
        first = steps[0]
        system, user = prompt.render(task=traj["task"], url=first.get("url") or "",
                                     html=first.get("observation") or "", cot=False)
        answer = plan_text(annotate(traj["task"], described))
        if (user, answer) in seen:
            continue
        seen.add((user, answer))
        per_task[task] += 1
        rows.append(_row(rec, r, 0, system, user, answer, explored, prompt.id))
    return _spread(rows, prefer.max_undesirable)


def spread_by_task(rows: list[dict[str, Any]], per_task: int) -> list[dict[str, Any]]:
    """At most `per_task` rows of each task (`source.task`), in their order."""
    count: dict[str, int] = defaultdict(int)
    out = []
    for r in rows:
        task = r["source"]["task"]
        if count[task] < per_task:
            count[task] += 1
            out.append(r)
    return out


def _spread(rows: list[dict[str, Any]], cap: int) -> list[dict[str, Any]]:
    if len(rows) > cap:  # the cap taken evenly over tasks
        by_task: dict[str, list] = defaultdict(list)
        for row in rows:
            by_task[row["source"]["task"]].append(row)
        rows = []
        while len(rows) < cap:
            for task in sorted(by_task):
                if by_task[task] and len(rows) < cap:
                    rows.append(by_task[task].pop(0))
    return rows


def desirable(sft_rows: list[dict[str, Any]], n: int, seed: int) -> list[dict[str, Any]]:
    """n of the SFT examples (each at most once), spread over tasks."""
    unique = list({r["id"]: r for r in sft_rows}.values())
    return [{**r, "label": True} for r in balanced(unique, n, seed)]


_IDS = re.compile(r'\bid="(\d+)"')


def _moved(call: str, page: str) -> list[str]:
    """The same action on each element of `page` that is described as the action's own element is on
    its page: a click on `the "Submit" button` moved onto another instance of the task."""
    return [_CALL_ID.sub(f'element="{i}"', call) for i in dict.fromkeys(_IDS.findall(page))]


_CALL_ID = re.compile(r'element="\d+"')


def bad_moves(out: Path, upto: int, prefer: LearnPrefer) -> dict[tuple[str, int], dict[str, str]]:
    """(task, step) -> {element line: action} of the last actions of failed rollouts (the step counted
    as the outcome filter counts a success's: steps that changed nothing left out). Only actions without
    a typed or chosen value, which mean the same on another instance of the task."""
    moves: dict[tuple[str, int], dict[str, str]] = defaultdict(dict)
    for _, rec in _failures(out, upto):
        steps = canonical(rec).data["trajectory"]["steps"]
        last = steps[-1] if steps else None
        if not last or not last.get("action") or last.get("action_error") or (last.get("explored") and not prefer.explored):
            continue
        try:
            action = parse_action(last["action"])
        except ParseError:
            continue
        if action.element is None or action.argument is not None or action.name in ("Type", "Search"):
            continue
        line = element_line(last["action"], last.get("observation") or "")
        if line:
            moves[(task_of(rec), len(steps) - 1)].setdefault(line, last["action"])
    return moves


def failure_pairs(cfg: PlanActConfig, out: Path, upto: int, prefer: LearnPrefer,
                  successes: list[Record]) -> list[dict[str, Any]]:
    """DPO pairs for the executor. Each step of a success the round trains on (its canonical answer:
    chosen) against an action that ended a failed rollout of the same task at the same step, moved onto
    this page by what it acted on (rejected): `the "Submit" button` clicked first on login-user, where
    the success typed the username. A move whose element this page lacks, or that is the chosen answer
    itself, makes no pair. Per task at most `per_task` pairs, in all `max_undesirable`."""
    prompt = load_prompt("executor", cfg.learn.prompt_version)
    moves = bad_moves(out, upto, prefer)
    rows: list[dict[str, Any]] = []
    per_task: dict[str, int] = defaultdict(int)
    for rec in successes:
        task = task_of(rec)
        traj = rec.data["trajectory"]
        steps = steps_of(traj)
        for pos, st in enumerate(steps):
            bad = moves.get((task, pos))
            if not bad or st.action is None or per_task[task] >= prefer.per_task:
                continue
            page = st.observation or ""
            chosen = f"{element_line(st.action, page)}\n{st.action}".lstrip("\n")
            rejected = None
            for line, call in bad.items():
                for moved in _moved(call, page):
                    answer = f"{element_line(moved, page)}\n{moved}"
                    if element_line(moved, page) == line and answer != chosen:
                        rejected = answer
                        break
                if rejected:
                    break
            if rejected is None:
                continue
            variables = executor_variables(traj["task"], "", steps[:pos], feedback_before(steps, pos), st.url, page)
            per_task[task] += 1
            rows.append(_pair(rec, pos, prompt, variables, chosen, rejected, "learn-prefer"))
    return _spread(rows, prefer.max_undesirable)


def _pair(rec: Record, pos: int, prompt: PromptTemplate, variables: dict[str, Any], chosen: str, rejected: str,
          stage: str, model: str = "") -> dict[str, Any]:
    """One DPO pair on a success's step, rendered as the executor (without a plan) sees it."""
    task = task_of(rec)
    system, user = prompt.render(**{**variables, "has_plan": False, "cot": False})
    return {"id": f"{rec.id}-{pos}" + ("-policy" if stage.endswith("policy") else ""),
            "prompt": [{"role": "system", "content": system}, {"role": "user", "content": user}],
            "chosen": [{"role": "assistant", "content": chosen}], "rejected": [{"role": "assistant", "content": rejected}],
            "source": {"site": rec.data.get("site") or task, "task": task, "record_id": rec.id, "position": pos,
                       "stage": stage, "prompt": prompt.id, "model": model, "seed": rec.data.get("env_seed", -1)}}


def failed_plan_pairs(cfg: PlanActConfig, out: Path, upto: int, prefer: LearnPrefer,
                      successes: list[Record], plans: dict[str, str]) -> list[dict[str, Any]]:
    """DPO pairs for the planner: a success's grounded plan (chosen) against the one-step plan the
    offline annotator writes for a move that ended a failed rollout of the task on its first step,
    moved onto this first page (rejected): `Click the "Submit" button.` where the success typed first."""
    prompt = load_prompt("planner", cfg.learn.prompt_version)
    moves = bad_moves(out, upto, prefer)
    rows: list[dict[str, Any]] = []
    per_task: dict[str, int] = defaultdict(int)
    for rec in successes:
        task, traj = task_of(rec), rec.data["trajectory"]
        bad, chosen = moves.get((task, 0)), plans.get(rec.id)
        steps = traj.get("steps") or []
        if not bad or not chosen or not steps or per_task[task] >= prefer.per_task:
            continue
        page = steps[0].get("observation") or ""
        rejected = None
        for line, call in bad.items():
            for moved in _moved(call, page):
                if element_line(moved, page) == line and moved != steps[0].get("action"):
                    rejected = plan_text(annotate(traj["task"], [describe_action(moved, page, 1)]))
                    break
            if rejected:
                break
        if rejected is None or rejected == chosen:
            continue
        system, user = prompt.render(task=traj["task"], url=steps[0].get("url") or "", html=page, cot=False)
        per_task[task] += 1
        rows.append({"id": f"{rec.id}-plan", "prompt": [{"role": "system", "content": system},
                                                       {"role": "user", "content": user}],
                     "chosen": [{"role": "assistant", "content": chosen}],
                     "rejected": [{"role": "assistant", "content": rejected}],
                     "source": {"site": rec.data.get("site") or task, "task": task, "record_id": rec.id,
                                "position": 0, "stage": "learn-prefer", "prompt": prompt.id,
                                "seed": rec.data.get("env_seed", -1)}})
    return _spread(rows, prefer.max_undesirable)


def policy_pairs(cfg: PlanActConfig, successes: list[Record], llm: LLM, prefer: LearnPrefer,
                 progress: Callable[[int, int], None] | None = None) -> list[dict[str, Any]]:
    """DPO pairs from the policy's own answers (self-play, as SPIN): the executor, greedy and with the
    rollouts' grammar and grounding, replayed on each step of the selected successes (their recorded
    pages, no browser); where its action differs from the success's, the success's answer is chosen
    and the policy's rejected. This is where a preference stage that taught "not Submit first" finds
    that the policy now never submits at the end. Per task at most `per_task` pairs."""
    from ..agent.roles import ExecutorRole, RoleSettings
    from ..web.replay import from_simplified_html

    agent = {**cfg.agent.model_dump(), **cfg.learn.rollouts.agent}
    role = ExecutorRole(llm, RoleSettings(max_tokens=agent["executor_max_tokens"], temperature=0.0, use_grammar=True,
                                          grammar_notes=False, grammar_exit=False,
                                          ground_element=bool(agent.get("ground_element")),
                                          type_from_task=bool(agent.get("type_from_task")),
                                          type_into_fields=bool(agent.get("type_into_fields"))),
                        cfg.learn.prompt_version)
    prompt = load_prompt("executor", cfg.learn.prompt_version)
    jobs = [(rec, pos) for rec in successes for pos, st in enumerate(rec.data["trajectory"]["steps"]) if st.get("action")]
    rows: list[dict[str, Any]] = []
    per_task: dict[str, int] = defaultdict(int)
    for n, (rec, pos) in enumerate(jobs, 1):
        task, traj = task_of(rec), rec.data["trajectory"]
        if per_task[task] < prefer.per_task:
            steps = steps_of(traj)
            st = steps[pos]
            page = st.observation or ""
            variables = executor_variables(traj["task"], "", steps[:pos], feedback_before(steps, pos), st.url, page)
            action, _, _ = role.next_action(variables, from_simplified_html(page, st.url), pos + 1, None)
            if action is not None and action.call() != st.action:
                chosen = f"{element_line(st.action, page)}\n{st.action}".lstrip("\n")
                rejected = f"{element_line(action.call(), page)}\n{action.call()}".lstrip("\n")
                per_task[task] += 1
                rows.append(_pair(rec, pos, prompt, variables, chosen, rejected, "learn-prefer-policy", llm.name))
        if progress:
            progress(n, len(jobs))
    return _spread(rows, prefer.max_undesirable)


UNDESIRABLE = {"executor": failure_endings, "planner": failed_plans}


def build_pairs(cfg: PlanActConfig, out: Path, round_: int, folder: Path, role: str = "executor") -> dict[str, Any]:
    """Write `folder/data/<role>-dpo.jsonl` (replaced whole) from the round's selected successes
    (`folder/trajectories.jsonl`) and, for the planner, their grounded plans (`folder/plans.jsonl`);
    its counts."""
    prefer = cfg.learn.train.prefer
    if prefer is None:
        return {}
    path = folder / "data" / f"{role}-dpo.jsonl"
    store = folder / "trajectories.jsonl"
    successes = RecordStore(store).read(kept_only=True) if store.exists() else []
    if role == "planner":
        plans_path = folder / "plans.jsonl"
        plans = {r.data["trajectory_id"]: r.data["plan_text"] for r in RecordStore(plans_path).read(kept_only=True)} \
            if plans_path.exists() else {}
        pairs = failed_plan_pairs(cfg, out, round_, prefer, successes, plans)
    else:
        pairs = failure_pairs(cfg, out, round_, prefer, successes)
    if not pairs:
        path.unlink(missing_ok=True)
        return {"pairs": 0, "note": "no failure moved onto a success's page: not trained this round"}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".jsonl.tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for row in pairs:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    tmp.replace(path)
    by_task: dict[str, int] = defaultdict(int)
    for row in pairs:
        by_task[row["source"]["task"]] += 1
    rejected: dict[str, int] = defaultdict(int)
    for row in pairs:
        lines = row["rejected"][0]["content"].splitlines()
        rejected[next((x for x in lines if x.startswith(("# Element:", "Step:"))), lines[0])] += 1
    return {"examples": len(pairs), "pairs": len(pairs), "pairs_by_task": dict(by_task),
            "rejected_elements": dict(sorted(rejected.items(), key=lambda kv: -kv[1])[:10])}


def build_preferences(cfg: PlanActConfig, out: Path, round_: int, data_dir: Path,
                      role: str = "executor") -> dict[str, Any]:
    """Write `data_dir/<role>-kto.jsonl` (replaced whole) beside the role's SFT set; its counts."""
    prefer = cfg.learn.train.prefer
    if prefer is None:
        return {}
    sft_path = data_dir / f"{role}.jsonl"
    sft = [json.loads(line) for line in sft_path.read_text(encoding="utf-8").splitlines() if line.strip()] \
        if sft_path.exists() else []
    bad = UNDESIRABLE[role](cfg, out, round_, prefer)
    good = desirable(sft, round(len(bad) * prefer.desirable_ratio), cfg.learn.seed + round_)
    path = data_dir / f"{role}-kto.jsonl"
    if not bad or not good:
        path.unlink(missing_ok=True)
        return {"undesirable": len(bad), "desirable": len(good), "note": "KTO needs both: not trained this round"}
    tmp = path.with_suffix(".jsonl.tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for row in bad + good:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    tmp.replace(path)
    by_task: dict[str, int] = defaultdict(int)
    for row in bad:
        by_task[row["source"]["task"]] += 1
    return {"examples": len(bad) + len(good), "undesirable": len(bad), "desirable": len(good),
            "undesirable_by_task": dict(by_task),
            "explored": sum(1 for row in bad if row["source"]["explored"])}
