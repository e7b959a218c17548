"""Stage 4: synthetic plan expansion. Per site, sample k seed query-plan pairs (default 5) and have
a model write n new pairs (default 10), each naming the seed whose start page it uses; near-
duplicate queries are dropped; generation stops once `target` pairs are kept (the paper: 10,000)."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from .context import StageContext
from .dedupe import Deduper
from .engine import StageStats, Unit, run_stage
from .pairs import dedupe_hook, pair_data, pair_grammar, parse_pairs
from .prompting import PromptWorker, Tally, ask, prompt_id
from .records import Provenance, Record, load_records, new_record


def plan_pool(ctx: StageContext, stages: tuple[str, ...] = ("plans",)) -> list[Record]:
    out: list[Record] = []
    for st in stages:
        path = ctx.out / f"{st}.jsonl"
        if path.exists():
            out.extend(load_records(path))
    return out


def seed_view(r: Record) -> dict[str, Any]:
    return {"id": r.id, "task": r.data["task"], "plan": r.data["plan_text"], "start_url": r.data.get("start_url"),
            "initial_observation": r.data.get("initial_observation"), "site": r.data.get("site") or "web"}


@dataclass
class ExpandWorker(PromptWorker):
    prompt_name = "plan_expand"
    model: str
    n: int
    temperature: float
    max_tokens: int
    prompt_dir: str | None

    def process(self, unit: Unit) -> list[Record]:
        seeds, site = unit.payload["seeds"], unit.payload["site"]
        tally = Tally()
        text = ask(self.llm, self.prompt, {"site": site, "seeds": seeds, "n": self.n}, tally,
                   max_tokens=self.max_tokens * 2, temperature=self.temperature, seed=unit.payload["rng_seed"],
                   grammar=pair_grammar(self.n, len(seeds)))
        prov = Provenance(stage="expand", model=self.model, prompt=prompt_id(self.prompt), seed=unit.payload["rng_seed"])
        parents = [sd["id"] for sd in seeds]
        out = []
        for i, pair in enumerate(parse_pairs(text)[: self.n]):
            usage = tally.as_usage() if i == 0 else None
            if pair.plan is None or not pair.query:
                out.append(new_record("expand", unit.key, i, prov, {"raw_query": pair.query}, parents, "dropped",
                                      f"unparsable: {pair.error or 'empty query'}", usage))
                continue
            if pair.seed is None or not 1 <= pair.seed <= len(seeds):
                out.append(new_record("expand", unit.key, i, prov, {"task": pair.query}, parents, "dropped",
                                      f"bad_seed: seed number {pair.seed} is not one of 1..{len(seeds)}", usage))
                continue
            seed = seeds[pair.seed - 1]
            out.append(new_record("expand", unit.key, i, prov, pair_data(pair.query, pair.plan, seed, site), parents,
                                  usage=usage))
        if not out:
            out.append(new_record("expand", unit.key, 0, prov, {"raw": text[:2000]}, parents, "dropped",
                                  "unparsable: no '### Query' block", tally.as_usage()))
        return out


def run(ctx: StageContext) -> list[StageStats]:
    s, es = ctx.settings, ctx.settings.expand
    pool = [seed_view(r) for r in plan_pool(ctx)]
    if not pool:
        raise ValueError(f"no grounded plans in {ctx.out / 'plans.jsonl'}: run `planact synth plans` first")
    by_site: dict[str, list[dict]] = defaultdict(list)
    for p in pool:
        by_site[p["site"]].append(p)
    sites = sorted(by_site)
    store = ctx.store("expand")
    kept_before = [r for r in store.read(kept_only=True)]
    calls = es.calls if es.calls is not None else math.ceil(es.target / max(1, es.new_per_call)) * 2
    units = []
    for i in range(calls):
        site = sites[i % len(sites)]
        rng = random.Random(f"expand-{s.seed}-{i}")
        picked = rng.sample(by_site[site], min(es.seeds_per_call, len(by_site[site])))
        units.append(Unit(f"expand-{s.seed}-{i}", {"site": site, "seeds": picked, "rng_seed": s.seed * 100003 + i}))
    dedupe = Deduper(es.dedupe_threshold)
    for p in pool:
        dedupe.add(p["task"], p["id"])
    for r in kept_before:
        dedupe.add(r.data["task"], r.id)
    on_batch, kept = dedupe_hook(dedupe, len(kept_before), es.target)
    if len(kept_before) >= es.target:
        units = []
    st = run_stage("expand", store, units, ExpandWorker(s.role_model(es.model), es.new_per_call, es.temperature,
                                                        s.max_tokens, s.prompt_dir),
                   ctx.execution, on_batch=on_batch, stop=lambda: kept[0] >= es.target, progress=ctx.progress, models=ctx.models)
    return [st]
