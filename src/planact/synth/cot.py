"""Stage 6: chain-of-thought annotation. A teacher that sees the correct plan (or action) writes
the reasoning that leads to it, as if it had not seen it. A rationale that gives away that it saw
the answer (talks of a given/reference plan, or copies the answer) is sent back once, then dropped."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..agent.cot import split_reasoning
from .context import StageContext
from .dedupe import normalize
from .engine import ModelCache, StageStats, Unit, run_stage
from .prompting import PromptWorker, Tally, ask, prompt_id, synth_prompt
from .records import Provenance, Record, load_records, new_record
from .trajdata import actions_of, history_until, steps_of

_TELLS = re.compile(
    r"\b(the|this) (given|provided|reference|correct|target|expected|known|final) (plan|action|answer)\b"
    r"|\bplan (is|was) (given|provided|shown)\b|\b(as|was) (given|provided|shown) (above|below)\b"
    r"|\bfor you only\b|\bdo not mention\b|\bI (was|am) (given|told|shown) the (plan|action|answer)\b",
    re.I)


def leak(reasoning: str, answer: str) -> str | None:
    """Why this rationale gives away that its writer saw the answer, or None."""
    m = _TELLS.search(reasoning)
    if m:
        return f"it refers to the answer it was shown ({m.group(0)!r})"
    if re.search(r"\b(do|exit)\(\s*(action|message)\s*=", reasoning):
        return "it writes out the action call"
    # a copied stretch of the answer: 12 consecutive words of it verbatim
    a, r = normalize(answer).split(), f" {normalize(reasoning)} "
    for i in range(0, max(0, len(a) - 11)):
        if f" {' '.join(a[i:i + 12])} " in r:
            return "it copies the answer word for word"
    return None


def clean_reasoning(text: str) -> str:
    reasoning, answer = split_reasoning(text)
    text = reasoning if reasoning else answer
    return re.sub(r"^\s*(Reasoning|Thinking|Thought)s?\s*:\s*", "", text.strip(), flags=re.I).strip()


@dataclass
class CotWorker(PromptWorker):
    model: str
    max_tokens: int
    prompt_dir: str | None
    max_words: int = 120

    def __call__(self, models: ModelCache) -> "CotWorker":
        self.llm = models.get(self.model)
        self.prompts = {r: synth_prompt(f"cot_{r}", directory=self.prompt_dir) for r in ("planner", "executor")}
        return self

    def process(self, unit: Unit) -> list[Record]:
        item = unit.payload
        prompt = self.prompts["executor" if item["role"] == "executor" else "planner"]
        tally = Tally()
        variables = {**item["variables"], "answer": item["answer"], "max_words": self.max_words}
        feedback, problem, reasoning = None, "", ""
        for attempt in range(2):
            text = ask(self.llm, prompt, variables, tally, max_tokens=min(self.max_tokens, 2 * self.max_words),
                       feedback=feedback, grammar=r'root ::= [^<#`]{20,900}' + "\n", seed=attempt)
            reasoning = clean_reasoning(text)
            if len(reasoning.split()) < 5:
                problem = "empty: the reasoning is missing or too short"
            else:
                why = leak(reasoning, item["answer"])
                problem = f"leak: {why}" if why else ""
            if not problem:
                break
            feedback = problem.split(": ", 1)[1] + "; write the reasoning as if you had not seen the answer"
        prov = Provenance(stage="cot", model=self.model, prompt=prompt_id(prompt))
        data = {"role": item["role"], "source_id": item["source_id"], "position": item.get("position"),
                "reasoning": reasoning}
        if problem:
            return [new_record("cot", unit.key, 0, prov, data, [item["source_id"]], "dropped", problem,
                               tally.as_usage())]
        return [new_record("cot", unit.key, 0, prov, data, [item["source_id"]], usage=tally.as_usage())]


def cot_items(ctx: StageContext) -> list[dict[str, Any]]:
    """What to annotate: planner targets (grounded, expanded, augmented plans), executor targets
    (each action of a successful trajectory), replanner targets."""
    from .expand import plan_pool
    from .export import executor_plan_for, grounded_by_trajectory

    roles = ctx.settings.cot.roles
    items: list[dict[str, Any]] = []
    if "planner" in roles:
        for r in plan_pool(ctx, ("plans", "expand", "augment")):
            items.append({"role": "planner", "source_id": r.id, "answer": r.data["plan_text"],
                          "variables": {"task": r.data["task"], "url": r.data.get("start_url") or "",
                                        "html": r.data.get("initial_observation") or ""}})
    if "executor" in roles and (ctx.out / "trajectories.jsonl").exists():
        grounded = grounded_by_trajectory(ctx)
        for t in load_records(ctx.out / "trajectories.jsonl"):
            traj = t.data["trajectory"]
            steps = steps_of(traj)
            for v in actions_of(traj):
                _, answer = split_reasoning(v.step.raw_output)
                items.append({"role": "executor", "source_id": t.id, "position": v.position, "answer": answer.strip(),
                              "variables": {"task": traj["task"],
                                            "plan": executor_plan_for(ctx, t, steps, v.position, grounded),
                                            "history": history_until(traj, v.position), "url": v.step.url,
                                            "html": v.step.observation}})
    if "replanner" in roles and (ctx.out / "replan.jsonl").exists():
        for r in load_records(ctx.out / "replan.jsonl"):
            items.append({"role": "replanner", "source_id": r.id, "answer": r.data["target_text"],
                          "variables": {"task": r.data["task"], "url": r.data["url"], "html": r.data["html"]}})
    limit = ctx.settings.cot.limit
    return items[:limit] if limit is not None else items


def run(ctx: StageContext) -> list[StageStats]:
    s = ctx.settings
    items = cot_items(ctx)
    units = [Unit(f"{i['role']}-{i['source_id']}" + (f"-{i['position']}" if i.get("position") is not None else ""), i)
             for i in items]
    return [run_stage("cot", ctx.store("cot"), units, CotWorker(s.role_model(s.cot.teacher), s.max_tokens,
                                                                 s.prompt_dir),
                      ctx.execution, progress=ctx.progress, models=ctx.models)]
