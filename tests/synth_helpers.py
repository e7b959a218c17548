"""Shared by the synth tests: contexts on a temporary folder, and small ready-made records."""

from __future__ import annotations

from pathlib import Path

from planact.config import PlanActConfig
from planact.synth.context import StageContext
from planact.synth.records import Provenance, RecordStore, new_record

RESPONDER = "scripted:support.synth_responders:respond"


def make_ctx(out: Path, **synth) -> StageContext:
    cfg = PlanActConfig().with_overrides(synth={"out": str(out), "model": RESPONDER, "concurrency": 2})
    sections = {f"synth.{k}": v for k, v in synth.items() if isinstance(v, dict)}
    flat = {k: v for k, v in synth.items() if not isinstance(v, dict)}
    if flat:
        sections["synth"] = flat
    return StageContext(cfg.with_overrides(**sections))


def write_plans(out: Path, n: int, site: str = "shopping") -> list[str]:
    """n grounded-plan records, as stage 3 writes them."""
    store = RecordStore(out / "plans.jsonl")
    ids = []
    for i in range(n):
        plan = [{"step": f"Search for item {i}", "reasoning": "The search box is on the page.", "actions": [1]},
                {"step": f"Open the result for item {i}", "reasoning": "The result lists it.", "actions": [2]}]
        text = f"## Step 1\nReasoning: The search box is on the page.\nStep: Search for item {i}\n" \
               f"## Step 2\nReasoning: The result lists it.\nStep: Open the result for item {i}"
        rec = new_record("plans", f"t{i}", 0, Provenance(stage="plans", model="teacher"),
                         {"task": f"Find the page of product number {i * 7919} in the {['red', 'blue'][i % 2]} range",
                          "site": site, "start_url": "http://shop.test/", "plan": plan, "plan_text": text,
                          "initial_observation": f'<input id="1" placeholder="Search"><button id="2">Go</button> {i}',
                          "trajectory_id": f"traj{i}", "n_actions": 2})
        store.append_batch([rec], rec.unit)
        ids.append(rec.id)
    return ids
