"""Stage 1: new queries from seed queries, deduplicated, then filtered for feasibility.

Two resumable steps: `queries.generated.jsonl` (every candidate, duplicates dropped with the id of
what they duplicate) and `queries.jsonl` (kept candidates judged feasible; the rest dropped with
the filter model's reason)."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from .context import StageContext
from .dedupe import Deduper
from .engine import StageStats, Unit, run_stage
from .prompting import (
    PromptWorker,
    Tally,
    ask,
    list_grammar,
    parse_list,
    parse_verdict,
    prompt_id,
    verdict_grammar,
)
from .records import Provenance, Record, load_records, new_record
from .sources import describe_site, load_seeds, suite_seeds


@dataclass
class GenerateWorker(PromptWorker):
    prompt_name = "query_gen"
    model: str
    n: int
    temperature: float
    max_tokens: int
    prompt_dir: str | None

    def process(self, unit: Unit) -> list[Record]:
        seeds: list[dict[str, Any]] = unit.payload["seeds"]
        site = unit.payload["site"]
        tally = Tally()
        text = ask(self.llm, self.prompt, {"n": self.n, "site": site, "description": describe_site(site),
                                           "start_url": seeds[0].get("start_url"),
                                           "seeds": [s["intent"] for s in seeds]},
                   tally, max_tokens=self.max_tokens, temperature=self.temperature, seed=unit.payload["rng_seed"],
                   grammar=list_grammar(self.n))
        prov = Provenance(stage="queries.generate", model=self.model, prompt=prompt_id(self.prompt),
                          seed=unit.payload["rng_seed"])
        parents = [s["id"] for s in seeds]
        items = parse_list(text)[: self.n]
        if not items:
            return [new_record("queries.generate", unit.key, 0, prov, {"raw": text, "site": site}, parents,
                               "dropped", "unparsable: no '- ' lines in the output", tally.as_usage())]
        anchor = seeds[0]  # the new queries start where the first seed starts
        out = []
        for i, q in enumerate(items):
            data = {"intent": q, "site": site, "sites": anchor.get("sites") or [], "start_url": anchor.get("start_url"),
                    "task_id": anchor.get("task_id"), "env_seed": anchor.get("env_seed"), "suite": anchor.get("suite")}
            # tokens are counted once per call, on its first record
            out.append(new_record("queries.generate", unit.key, i, prov, data, parents,
                                  usage=tally.as_usage() if i == 0 else None))
        return out


@dataclass
class FilterWorker(PromptWorker):
    prompt_name = "query_filter"
    model: str
    max_tokens: int
    prompt_dir: str | None

    def process(self, unit: Unit) -> list[Record]:
        cand = unit.payload["candidate"]
        data = dict(cand["data"])
        tally = Tally()
        variables = {"site": data["site"], "description": describe_site(data["site"]), "page": None,
                     "examples": unit.payload["examples"], "query": data["intent"]}
        verdict, reason, feedback = None, "", None
        for attempt in range(2):
            text = ask(self.llm, self.prompt, variables, tally, max_tokens=min(self.max_tokens, 160),
                       grammar=verdict_grammar("Feasible", reason_first=False), feedback=feedback)
            verdict, reason = parse_verdict(text, "Feasible")
            if verdict is not None:
                break
            feedback = "start with 'Feasible: yes' or 'Feasible: no'"
        prov = Provenance(stage="queries", model=self.model, prompt=prompt_id(self.prompt))
        data["filter"] = {"feasible": verdict, "reason": reason}
        if verdict is None:
            status, why = "dropped", "filter_unparsable: the filter's answer had no verdict"
        elif verdict:
            status, why = "kept", None
        else:
            status, why = "dropped", f"infeasible: {reason or '(no reason given)'}"
        return [new_record("queries", unit.key, 0, prov, data, [cand["id"]], status, why, tally.as_usage())]


def _seed_records(seeds: list[dict[str, Any]]) -> list[Record]:
    prov = Provenance(stage="queries", model=None, prompt=None, extra={"source": "seed"})
    return [new_record("queries", f"seed-{s['id']}", 0, prov, {**s, "source": "seed"}, [s["id"]]) for s in seeds]


def get_seeds(ctx: StageContext) -> list[dict[str, Any]]:
    qs = ctx.settings.queries
    if qs.suite:
        from ..bench.runner import parse_seeds

        if not qs.tasks:
            raise ValueError("queries from a suite need --tasks")
        return suite_seeds(qs.suite, qs.tasks, parse_seeds(qs.suite_seeds))
    if not qs.seeds:
        raise ValueError("give seed queries: --seeds FILE (JSON/JSONL of {intent, ...}) or --suite NAME --tasks ...")
    return load_seeds(qs.seeds)


def run(ctx: StageContext, seeds: list[dict[str, Any]] | None = None) -> list[StageStats]:
    s, qs = ctx.settings, ctx.settings.queries
    seeds = seeds if seeds is not None else get_seeds(ctx)
    by_site: dict[str, list[dict]] = defaultdict(list)
    for sd in seeds:
        by_site[sd["site"]].append(sd)
    sites = sorted(by_site)
    calls = qs.calls if qs.calls is not None else math.ceil(qs.target / max(1, qs.new_per_call))
    units = []
    for i in range(calls):
        site = sites[i % len(sites)]
        rng = random.Random(f"{s.seed}-{i}")
        pool = by_site[site]
        picked = rng.sample(pool, min(qs.seeds_per_call, len(pool)))
        units.append(Unit(f"gen-{s.seed}-{i}", {"site": site, "seeds": picked, "rng_seed": s.seed * 100003 + i}))

    gen_store = ctx.store("queries.generated")
    dedupe = Deduper(qs.dedupe_threshold)
    for sd in seeds:
        dedupe.add(sd["intent"], sd["id"])
    for r in gen_store.read(kept_only=True):
        dedupe.add(r.data["intent"], r.id)

    def on_batch(records: list[Record]) -> list[Record]:
        for r in records:
            if r.kept:
                dup = dedupe.check_and_add(r.data["intent"], r.id)
                if dup is not None:
                    r.status, r.reason = "dropped", f"duplicate: of {dup[0]} (ROUGE-L {dup[1]:.2f})"
        return records

    gen_model = s.role_model(qs.generator)
    stats = [run_stage("queries.generate", gen_store, units,
                       GenerateWorker(gen_model, qs.new_per_call, qs.temperature, s.max_tokens, s.prompt_dir),
                       ctx.execution, on_batch=on_batch, progress=ctx.progress, models=ctx.models)]

    store = ctx.store("queries")
    if qs.include_seeds:
        done = store.done_units()
        for rec in _seed_records(seeds):
            if rec.unit not in done:
                store.append_batch([rec], rec.unit)
    candidates = load_records(gen_store.path)
    if qs.no_filter:
        prov = Provenance(stage="queries", model=None, extra={"filter": "none"})
        done = store.done_units()
        st = StageStats("queries.filter", units=len(candidates))
        for c in candidates:
            if c.id not in done:
                rec = new_record("queries", c.id, 0, prov, dict(c.data), [c.id])
                store.append_batch([rec], c.id)
                st.add([rec])
        stats.append(st)
        return stats
    filt_units = []
    for c in candidates:
        examples = [sd["intent"] for sd in by_site.get(c.data["site"], [])][:3]
        filt_units.append(Unit(c.id, {"candidate": c.model_dump(), "examples": examples}))
    stats.append(run_stage("queries.filter", store, filt_units,
                           FilterWorker(s.role_model(qs.filter), s.max_tokens, s.prompt_dir), ctx.execution,
                           progress=ctx.progress, models=ctx.models))
    return stats
