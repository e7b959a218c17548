"""Stage 5: targeted augmentation. Hold out a validation split of the plan data, run the planner
on it and have a judge grade each plan against the reference (with reasons); have a model name the
failure classes of each site and assign every training point to one (or none); then write one new
query-plan pair per training point in a failing class, up to `target` (the paper: 5,000).

Files: augment.eval.jsonl, augment.classes.jsonl, augment.assign.jsonl, augment.jsonl."""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from ..agent.roles import PlannerRole, RoleSettings
from ..web.observation import Observation
from .context import StageContext
from .dedupe import Deduper
from .engine import ModelCache, StageStats, Unit, run_stage
from .expand import plan_pool, seed_view
from .pairs import dedupe_hook, pair_data, pair_grammar, parse_pairs
from .prompting import PromptWorker, Tally, ask, parse_list, parse_verdict, prompt_id, synth_prompt, verdict_grammar
from .records import Provenance, Record, load_records, new_record


def in_validation(record_id: str, fraction: float) -> bool:
    """A stable split: the same points are held out on every run."""
    return int(hashlib.sha1(record_id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < fraction


@dataclass
class EvalWorker(PromptWorker):
    prompt_name = "plan_judge"
    planner: str
    judge: str
    max_tokens: int
    prompt_dir: str | None

    def __call__(self, models: ModelCache) -> "EvalWorker":
        self.role = PlannerRole(models.get(self.planner), RoleSettings(max_tokens=self.max_tokens))
        self.judge_llm = models.get(self.judge)
        self.prompt = synth_prompt(self.prompt_name, directory=self.prompt_dir)
        return self

    def process(self, unit: Unit) -> list[Record]:
        p = unit.payload["point"]
        obs = Observation(url=p["start_url"] or "", title="", html=p["initial_observation"] or "", elements={},
                          raw_html_chars=0, tokens=0)
        plan, out, err = self.role.plan(p["task"], obs)
        tally = Tally()
        for c in out.calls:
            tally.prompt_tokens += c.prompt_tokens
            tally.completion_tokens += c.completion_tokens
        candidate = plan.render() if plan else f"(no usable plan: {err})"
        verdict, reason, feedback = None, "", None
        for _ in range(2):
            text = ask(self.judge_llm, self.prompt, {"task": p["task"], "reference": p["plan"], "candidate": candidate},
                       tally, max_tokens=self.max_tokens, grammar=verdict_grammar("Correct", reason_first=True),
                       feedback=feedback)
            verdict, reason = parse_verdict(text, "Correct")
            if verdict is not None:
                break
            feedback = "end with 'Correct: yes' or 'Correct: no'"
        prov = Provenance(stage="augment.eval", model=self.judge, prompt=prompt_id(self.prompt),
                          extra={"planner": self.planner, "planner_prompt": self.role.prompt.id})
        data = {"point_id": p["id"], "site": p["site"], "task": p["task"], "reference": p["plan"],
                "predicted": candidate, "correct": bool(verdict), "reason": reason}
        return [new_record("augment.eval", unit.key, 0, prov, data, [p["id"]], usage=tally.as_usage())]


@dataclass
class ClassWorker(PromptWorker):
    prompt_name = "failure_classes"
    model: str
    max_classes: int
    max_tokens: int
    prompt_dir: str | None

    def process(self, unit: Unit) -> list[Record]:
        site, failures = unit.payload["site"], unit.payload["failures"]
        tally = Tally()
        text = ask(self.llm, self.prompt, {"site": site, "failures": failures, "max_classes": self.max_classes},
                   tally, max_tokens=self.max_tokens,
                   grammar=f'root ::= item{{1,{self.max_classes}}}\nitem ::= "- " [^:\\n]{{3,60}} ": " [^\\n]{{5,200}} "\\n"\n')
        prov = Provenance(stage="augment.classes", model=self.model, prompt=prompt_id(self.prompt))
        out, seen = [], set()
        for item in parse_list(text)[: self.max_classes]:
            name, _, desc = item.partition(":")
            name = name.strip().strip("*")
            if not name or name.lower() in seen or name.lower() == "none":
                continue
            seen.add(name.lower())
            out.append(new_record("augment.classes", unit.key, len(out), prov,
                                  {"site": site, "name": name, "description": desc.strip(),
                                   "failures": len(failures)}, [f["id"] for f in failures],
                                  usage=tally.as_usage() if not out else None))
        if not out:
            out.append(new_record("augment.classes", unit.key, 0, prov, {"site": site, "raw": text[:1000]}, [],
                                  "dropped", "unparsable: no '- Name: description' lines", tally.as_usage()))
        return out


@dataclass
class AssignWorker(PromptWorker):
    prompt_name = "failure_assign"
    model: str
    max_tokens: int
    prompt_dir: str | None

    def process(self, unit: Unit) -> list[Record]:
        p, classes = unit.payload["point"], unit.payload["classes"]
        names = [c["name"] for c in classes]
        tally = Tally()
        alts = " | ".join(json.dumps(n, ensure_ascii=False) for n in [*names, "none"])
        text = ask(self.llm, self.prompt, {"classes": classes, "task": p["task"], "plan": p["plan"]}, tally,
                   max_tokens=64, grammar=f'root ::= "Class: " ({alts})\n')
        m = re.search(r"Class\s*:\s*(.+)", text)
        answer = (m.group(1) if m else text).strip().strip("*").strip()
        chosen = next((n for n in names if n.lower() == answer.lower()), None)
        if chosen is None:  # tolerate a partial or decorated name
            chosen = next((n for n in names if n.lower() in answer.lower() or answer.lower() in n.lower()), None) \
                if answer.lower() != "none" and answer else None
        prov = Provenance(stage="augment.assign", model=self.model, prompt=prompt_id(self.prompt))
        return [new_record("augment.assign", unit.key, 0, prov,
                           {"point_id": p["id"], "site": p["site"], "class": chosen, "answer": answer}, [p["id"]],
                           usage=tally.as_usage())]


@dataclass
class AugmentWorker(PromptWorker):
    prompt_name = "plan_augment"
    model: str
    temperature: float
    max_tokens: int
    prompt_dir: str | None

    def process(self, unit: Unit) -> list[Record]:
        p, cls = unit.payload["point"], unit.payload["class"]
        tally = Tally()
        text = ask(self.llm, self.prompt, {"site": p["site"], "start_url": p["start_url"], "task": p["task"],
                                           "plan": p["plan"], "class_name": cls["name"],
                                           "class_description": cls["description"]},
                   tally, max_tokens=self.max_tokens, temperature=self.temperature, seed=unit.payload["rng_seed"],
                   grammar=pair_grammar(1, None))
        prov = Provenance(stage="augment", model=self.model, prompt=prompt_id(self.prompt), seed=unit.payload["rng_seed"])
        pairs = parse_pairs(text)
        parents = [p["id"], cls["id"]]
        if not pairs or pairs[0].plan is None or not pairs[0].query:
            why = pairs[0].error if pairs else "no '### Query' block"
            return [new_record("augment", unit.key, 0, prov, {"raw": text[:2000]}, parents, "dropped",
                               f"unparsable: {why}", tally.as_usage())]
        data = pair_data(pairs[0].query, pairs[0].plan, p, p["site"], failure_class=cls["name"])
        return [new_record("augment", unit.key, 0, prov, data, parents, usage=tally.as_usage())]


def run(ctx: StageContext) -> list[StageStats]:
    s, au = ctx.settings, ctx.settings.augment
    pool = [seed_view(r) for r in plan_pool(ctx, ("plans", "expand"))]
    if not pool:
        raise ValueError("no plan data to validate on: run `planact synth plans` (and `expand`) first")
    val = [p for p in pool if in_validation(p["id"], au.val_fraction)]
    if not val:  # small pools: hold out at least one point
        val = pool[:1]
    val_ids = {p["id"] for p in val}
    train = [p for p in pool if p["id"] not in val_ids]
    model = s.role_model(au.model)
    stats = []
    planner = au.planner or ctx.config.models.planner
    stats.append(run_stage("augment.eval", ctx.store("augment.eval"), [Unit(p["id"], {"point": p}) for p in val],
                           EvalWorker(planner, s.role_model(au.judge), s.max_tokens, s.prompt_dir),
                           ctx.execution, progress=ctx.progress, models=ctx.models))
    failures: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in load_records(ctx.out / "augment.eval.jsonl"):
        if not r.data["correct"]:
            failures[r.data["site"]].append({"id": r.data["point_id"], "task": r.data["task"], "reason": r.data["reason"]})
    stats.append(run_stage("augment.classes", ctx.store("augment.classes"),
                           [Unit(f"site-{site}", {"site": site, "failures": f[:30]}) for site, f in sorted(failures.items())],
                           ClassWorker(model, 5, s.max_tokens, s.prompt_dir), ctx.execution,
                           progress=ctx.progress, models=ctx.models))
    classes: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in load_records(ctx.out / "augment.classes.jsonl"):
        classes[r.data["site"]].append({"id": r.id, "name": r.data["name"], "description": r.data["description"]})
    assign_units = [Unit(p["id"], {"point": p, "classes": classes[p["site"]]}) for p in train if classes.get(p["site"])]
    stats.append(run_stage("augment.assign", ctx.store("augment.assign"), assign_units,
                           AssignWorker(model, s.max_tokens, s.prompt_dir), ctx.execution,
                           progress=ctx.progress, models=ctx.models))
    by_id = {p["id"]: p for p in train}
    gen_units = []
    for r in load_records(ctx.out / "augment.assign.jsonl"):
        name = r.data["class"]
        if not name or r.data["point_id"] not in by_id:
            continue
        cls = next(c for c in classes[r.data["site"]] if c["name"] == name)
        gen_units.append(Unit(f"aug-{r.data['point_id']}", {"point": by_id[r.data["point_id"]], "class": cls,
                                                             "rng_seed": s.seed * 100003 + len(gen_units)}))
    store = ctx.store("augment")
    kept_before = store.read(kept_only=True)
    dedupe = Deduper(au.dedupe_threshold)
    for p in pool:
        dedupe.add(p["task"], p["id"])
    for r in kept_before:
        dedupe.add(r.data["task"], r.id)
    on_batch, kept = dedupe_hook(dedupe, len(kept_before), au.target)

    stats.append(run_stage("augment.generate", store, gen_units,
                           AugmentWorker(model, au.temperature, s.max_tokens, s.prompt_dir), ctx.execution,
                           on_batch=on_batch, stop=lambda: kept[0] >= au.target,
                           progress=ctx.progress, models=ctx.models))
    return stats
