"""Query-plan pairs as plan expansion and augmentation write them:

    ### Query
    <task>
    ### Seed
    <number>            (expansion only)
    ### Plan
    ## Step 1 ...
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..agent.plan import Plan, PlanParseError, parse_plan
from .dedupe import Deduper
from .records import Record

_BLOCK = re.compile(r"^#{2,4}\s*Query\s*:?\s*$", re.I | re.M)
_SECTION = re.compile(r"^#{2,4}\s*(Seed|Plan)\s*:?\s*(.*)$", re.I | re.M)


@dataclass
class Pair:
    query: str
    seed: int | None
    plan: Plan | None
    error: str | None = None


def parse_pairs(text: str) -> list[Pair]:
    starts = [m.end() for m in _BLOCK.finditer(text)]
    out = []
    for i, start in enumerate(starts):
        end = _BLOCK.finditer(text, start)
        nxt = next(end, None)
        chunk = text[start: nxt.start() if nxt else len(text)]
        sections = list(_SECTION.finditer(chunk))
        query = chunk[: sections[0].start() if sections else len(chunk)].strip()
        seed, plan, error = None, None, None
        for j, sec in enumerate(sections):
            body = (sec.group(2) + "\n" + chunk[sec.end(): sections[j + 1].start() if j + 1 < len(sections)
                                                else len(chunk)]).strip()
            if sec.group(1).lower() == "seed":
                m = re.search(r"\d+", body)
                seed = int(m.group()) if m else None
            else:
                try:
                    plan = parse_plan(body)
                except PlanParseError as err:
                    error = str(err)
        if plan is None and error is None:
            error = "no '### Plan' section"
        out.append(Pair(query, seed, plan, error))
    return out


def pair_grammar(n: int, n_seeds: int | None) -> str:
    seed = f'"### Seed\\n" [1-{min(9, max(1, n_seeds))}] "\\n" ' if n_seeds else ""
    return (f"root ::= pair{{1,{max(1, n)}}}\n"
            f'pair ::= "### Query\\n" line "\\n" {seed}"### Plan\\n" step{{1,6}}\n'
            'step ::= "## Step " [1-9] "\\nReasoning: " line "\\nStep: " line "\\n"\n'
            "line ::= [^\\n#]{1,160}\n")


def dedupe_hook(dedupe: Deduper, kept_before: int, target: int):
    """Driver-side: drop pairs whose query near-duplicates one already kept (or a seed), and stop
    exactly at `target` kept pairs (pairs from calls still in flight are dropped as over_target).
    Returns (hook, live count of kept pairs)."""
    count = [kept_before]

    def on_batch(records: list[Record]) -> list[Record]:
        for r in records:
            if not r.kept:
                continue
            if count[0] >= target:
                r.status, r.reason = "dropped", f"over_target: {target} pairs already kept"
                continue
            dup = dedupe.check_and_add(r.data["task"], r.id)
            if dup is not None:
                r.status, r.reason = "dropped", f"duplicate: of {dup[0]} (ROUGE-L {dup[1]:.2f})"
            else:
                count[0] += 1
        return records

    return on_batch, count


def pair_data(query: str, plan: Plan, seed: dict[str, Any], site: str, **extra: Any) -> dict[str, Any]:
    from .plans import plan_text

    return {"task": query, "site": site, "start_url": seed.get("start_url"),
            "initial_observation": seed.get("initial_observation"), "plan": plan.to_dict(),
            "plan_text": plan_text(plan), "seed_id": seed["id"], **extra}
