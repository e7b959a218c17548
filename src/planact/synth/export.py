"""Stage 8: training sets for planner, executor and replanner, rendered with the agent's own
prompt templates (the version the agent will run with), in three formats:

    export/chat/<role>.jsonl        {"messages": [...], "id", "source"...}: `datasets` loads it as is
    export/sharegpt/<role>.json     LLaMA-Factory (ShareGPT), with dataset_info.json
    export/torchtune/<role>.jsonl   {"messages": [...]} in the OpenAI style that torchtune's chat_dataset
                                    reads (conversation_style="openai"): the system prompt stays the
                                    system message the agent sends, not merged into the input
    export/README.md, stats.json    a dataset card: counts per role, stage, site and source model
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

from ..agent.cot import split_reasoning
from ..agent.loop import executor_variables
from ..agent.prompts import PromptTemplate, load_prompt
from ..agent.trace import StepRecord
from .context import StageContext
from .engine import StageStats
from .records import Record, RecordStore, load_records
from .trajdata import actions_of, feedback_before, steps_of

ROLES = ("planner", "executor", "replanner")


def grounded_by_trajectory(ctx: StageContext) -> dict[str, Record]:
    path = ctx.out / "plans.jsonl"
    return {r.data["trajectory_id"]: r for r in load_records(path)} if path.exists() else {}


def executor_plan_for(ctx: StageContext, traj_rec: Record, steps: list[StepRecord], position: int,
                      grounded: dict[str, Record]) -> str:
    """The plan shown to the executor in a training example (`export.executor_plan`)."""
    mode = ctx.settings.export.executor_plan
    if mode == "none":
        return ""
    if mode == "grounded" and traj_rec.id in grounded:
        return grounded[traj_rec.id].data["plan_text"]
    plans = traj_rec.data["trajectory"].get("plans") or []
    version = steps[position].plan_version
    if version is not None and version < len(plans):
        return plans[version]["text"]
    return ""


def _shown(key: str, share: float) -> bool:
    """A stable draw: True for about `share` of all keys."""
    if share >= 1.0:
        return True
    return int(hashlib.sha1(key.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < share


def _answer(reasoning: str | None, answer: str, cot: bool) -> str:
    if cot and reasoning:
        return f"<think>\n{reasoning.strip()}\n</think>\n{answer.strip()}"
    return answer.strip()


def _example(prompt: PromptTemplate, variables: dict[str, Any], answer: str, meta: dict[str, Any]) -> dict[str, Any]:
    system, user = prompt.render(**variables)
    return {"id": meta["id"], "messages": [{"role": "system", "content": system}, {"role": "user", "content": user},
                                           {"role": "assistant", "content": answer}],
            "source": meta}


def build_examples(ctx: StageContext) -> dict[str, list[dict[str, Any]]]:
    cfg, ex = ctx.config, ctx.settings.export
    cot = ex.cot
    prompts = {r: load_prompt(r, cfg.agent.prompt_version, cfg.agent.prompt_dir) for r in ROLES}
    rationales: dict[tuple, str] = {}
    if cot and (ctx.out / "cot.jsonl").exists():
        for r in load_records(ctx.out / "cot.jsonl"):
            rationales[(r.data["role"], r.data["source_id"], r.data.get("position"))] = r.data["reasoning"]
    out: dict[str, list[dict[str, Any]]] = {r: [] for r in ROLES}

    def meta(rec: Record, **extra: Any) -> dict[str, Any]:
        """The same keys with the same types for every role ("" where a text does not apply, -1 where a
        number does not), so that the role files load together in one `load_dataset` call."""
        p = rec.provenance
        out = {"id": rec.id + (f"-{extra['position']}" if extra.get("position") is not None else ""),
               "record_id": rec.id, "stage": rec.stage, "site": rec.data.get("site") or "web",
               "model": p.model or "", "prompt": p.prompt or "", "seed": -1 if p.seed is None else p.seed,
               "cot": bool(cot), "position": -1, "target_prompt": "", "plan_source": ""}
        out.update({k: v for k, v in extra.items() if v is not None})
        return out

    for stage in ("plans", "expand", "augment"):
        path = ctx.out / f"{stage}.jsonl"
        if not path.exists():
            continue
        for r in load_records(path):
            if not r.data.get("initial_observation"):
                continue  # a plan without its first page cannot become a planner prompt
            reasoning = rationales.get(("planner", r.id, None))
            if cot and reasoning is None:
                continue
            variables = {"task": r.data["task"], "url": r.data.get("start_url") or "",
                         "html": r.data["initial_observation"], "cot": cot}
            out["planner"].append(_example(prompts["planner"], variables, _answer(reasoning, r.data["plan_text"], cot),
                                           meta(r, target_prompt=prompts["planner"].id)))

    if (ctx.out / "trajectories.jsonl").exists():
        grounded = grounded_by_trajectory(ctx)
        for t in load_records(ctx.out / "trajectories.jsonl"):
            traj = t.data["trajectory"]
            steps = steps_of(traj)
            for v in actions_of(traj):
                if v.step.action_error:
                    continue
                reasoning = rationales.get(("executor", t.id, v.position))
                if cot and reasoning is None:
                    continue
                plan = executor_plan_for(ctx, t, steps, v.position, grounded)
                if plan and not _shown(f"{t.id}-{v.position}", ex.plan_share):
                    plan = ""
                variables = executor_variables(traj["task"], plan, steps[: v.position],
                                               feedback_before(steps, v.position), v.step.url, v.step.observation)
                variables.update({"has_plan": bool(plan), "cot": cot})
                _, answer = split_reasoning(v.step.raw_output)
                m = meta(t, position=v.position, target_prompt=prompts["executor"].id, plan_source=ex.executor_plan)
                m["model"] = t.provenance.model or ""
                out["executor"].append(_example(prompts["executor"], variables, _answer(reasoning, answer, cot), m))

    if (ctx.out / "replan.jsonl").exists():
        for r in load_records(ctx.out / "replan.jsonl"):
            reasoning = rationales.get(("replanner", r.id, None))
            if cot and reasoning is None:
                continue
            variables = {"task": r.data["task"], "plan": r.data["plan"], "history": r.data["history"] or "None yet.",
                         "url": r.data["url"], "html": r.data["html"], "cot": cot}
            out["replanner"].append(_example(prompts["replanner"], variables,
                                             _answer(reasoning, r.data["target_text"], cot),
                                             meta(r, target_prompt=prompts["replanner"].id)))
    return out


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    tmp.replace(path)


def write_formats(examples: dict[str, list[dict[str, Any]]], out: Path) -> None:
    info = {}
    for role, rows in examples.items():
        _write_jsonl(out / "chat" / f"{role}.jsonl", rows)
        share = [{"id": r["id"], "system": r["messages"][0]["content"],
                  "conversations": [{"from": "human", "value": r["messages"][1]["content"]},
                                    {"from": "gpt", "value": r["messages"][2]["content"]}]} for r in rows]
        (out / "sharegpt").mkdir(parents=True, exist_ok=True)
        (out / "sharegpt" / f"{role}.json").write_text(json.dumps(share, ensure_ascii=False, indent=1), encoding="utf-8")
        info[f"planact_{role}"] = {"file_name": f"{role}.json", "formatting": "sharegpt",
                                   "columns": {"messages": "conversations", "system": "system"}}
        tune = [{"id": r["id"], "messages": r["messages"]} for r in rows]
        _write_jsonl(out / "torchtune" / f"{role}.jsonl", tune)
    (out / "sharegpt" / "dataset_info.json").write_text(json.dumps(info, indent=1), encoding="utf-8")


def card(examples: dict[str, list[dict[str, Any]]], ctx: StageContext) -> tuple[str, dict[str, Any]]:
    stats: dict[str, Any] = {"roles": {}, "stages": {}}
    lines = ["# planact synthetic training data", "",
             "Made by `planact synth` (Plan-and-Act, arXiv 2503.09572, §4). Every example carries the id of the",
             "record it came from; the records carry their provenance (stage, model, prompt version, seed).",
             f"Prompts: the agent's `{ctx.config.agent.prompt_version}` templates. Chain of thought: "
             f"{'yes' if ctx.settings.export.cot else 'no'}. Executor plans: {ctx.settings.export.executor_plan}.", "",
             "| role | examples | by stage | by site | by source model |", "|---|---|---|---|---|"]
    for role, rows in examples.items():
        by_stage = Counter(r["source"]["stage"] for r in rows)
        by_site = Counter(r["source"]["site"] for r in rows)
        by_model = Counter(str(r["source"]["model"]) for r in rows)
        stats["roles"][role] = {"examples": len(rows), "stage": dict(by_stage), "site": dict(by_site),
                                "model": dict(by_model)}
        fmt = lambda c: ", ".join(f"{k} {v}" for k, v in sorted(c.items())) or "-"  # noqa: E731
        lines.append(f"| {role} | {len(rows)} | {fmt(by_stage)} | {fmt(by_site)} | {fmt(by_model)} |")
    lines += ["", "## Pipeline records", "", "| stage file | kept | dropped (by reason) |", "|---|---|---|"]
    for path in sorted(ctx.out.glob("*.jsonl")):
        recs = RecordStore(path).read()
        kept = sum(r.kept for r in recs)
        reasons = Counter((r.reason or "").split(":")[0] for r in recs if not r.kept)
        stats["stages"][path.stem] = {"kept": kept, "dropped": dict(reasons)}
        lines.append(f"| {path.name} | {kept} | {', '.join(f'{k} {v}' for k, v in sorted(reasons.items())) or '-'} |")
    lines += ["", "Seed data: cite the source of your seed queries (e.g. WebArena-Lite, Apache-2.0; WebRL's training",
              "intents, MIT) with any use of these files.", ""]
    return "\n".join(lines), stats


def run(ctx: StageContext) -> list[StageStats]:
    import time

    started = time.perf_counter()
    out = Path(ctx.settings.export.out) if ctx.settings.export.out else ctx.out / "export"
    examples = build_examples(ctx)
    write_formats(examples, out)
    text, stats = card(examples, ctx)
    (out / "README.md").write_text(text, encoding="utf-8")
    (out / "stats.json").write_text(json.dumps(stats, indent=1), encoding="utf-8")
    st = StageStats("export", units=sum(len(v) for v in examples.values()))
    st.kept = st.units
    st.wall_s = time.perf_counter() - started
    return [st]
