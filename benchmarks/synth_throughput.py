"""The pipeline's own overhead: records per minute per stage with scripted models (instant answers,
so what is measured is planact: prompts, parsing, validation, dedupe, JSONL writes with fsync,
threads), plus the same model-call stage with a 50 ms-latency model at concurrency 1 vs 8, and
rollouts in real browsers with 1 vs 2 workers.

    python benchmarks/synth_throughput.py [--calls 60]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the scripted responders live with the tests

from planact.config import PlanActConfig  # noqa: E402
from planact.llm.scripted import ScriptedLLM  # noqa: E402
from planact.synth import augment, cot, expand, export, plans, queries, replan, trajectories  # noqa: E402
from planact.synth.context import StageContext  # noqa: E402
from support.synth_responders import respond  # noqa: E402

SEEDS = ROOT.parent / "shared" / "data" / "webarena_lite" / "WebArena-Lite_info.webrl.json"
R = "scripted:support.synth_responders:respond"


def slow(messages):
    time.sleep(0.05)
    return respond(messages)


def ctx_for(out: Path, concurrency: int = 4, workers: int = 1, model: str = R, **sections) -> StageContext:
    cfg = PlanActConfig().with_overrides(
        models={"planner": R, "executor": R}, agent={"max_steps": 6},
        synth={"out": str(out), "model": model, "concurrency": concurrency, "workers": workers},
        **{f"synth.{k}": v for k, v in sections.items()})
    ctx = StageContext(cfg)
    ctx.models.put("slow", ScriptedLLM(slow, name="slow"))
    return ctx


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=60, help="query-generation calls (10 queries each)")
    args = ap.parse_args()
    console = Console(width=140)
    rows = []

    def add(label, stats):
        for s in stats:
            n = s.kept + sum(s.dropped.values())
            rows.append((label or s.stage, s.stage, n, s.wall_s, s.records_per_min))

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "synth"
        seeds = {"seeds": str(SEEDS)} if SEEDS.exists() else {"suite": "miniwob", "tasks": ["click-button"]}
        add("", queries.run(ctx_for(out, queries={**seeds, "calls": args.calls})))
        # rollouts on MiniWoB in real browsers (the suite's own tasks, scripted policy)
        mw = Path(tmp) / "mw"
        mctx = ctx_for(mw, queries={"suite": "miniwob", "tasks": ["click-button", "enter-text", "click-link"],
                                    "suite_seeds": "0-5", "calls": 1, "include_seeds": True})
        queries.run(mctx)
        add("trajectories (1 browser)", trajectories.run(mctx))
        mw2 = Path(tmp) / "mw2"
        mw2.mkdir()
        (mw2 / "queries.jsonl").write_bytes((mw / "queries.jsonl").read_bytes())
        add("trajectories (2 browsers)", trajectories.run(ctx_for(mw2, workers=2)))
        c = ctx_for(mw, expand={"target": 200, "new_per_call": 10}, augment={"target": 100, "val_fraction": 0.3})
        for stage in (plans, expand, augment, replan, cot, export):
            add("", stage.run(c))
        # concurrency against model latency (50 ms per call)
        for conc in (1, 8):
            o = Path(tmp) / f"lat{conc}"
            add(f"queries.filter, 50 ms model, concurrency {conc}",
                [queries.run(ctx_for(o, concurrency=conc, model="slow",
                                     queries={**seeds, "calls": 8, "dedupe_threshold": 0.95}))[1]])

    t = Table(title="synth pipeline throughput (scripted models)")
    for col in ("step", "records", "wall s", "records/min", "ms/record"):
        t.add_column(col, justify="left" if col == "step" else "right")
    for label, stage, n, wall, rpm in rows:
        t.add_row(label, str(n), f"{wall:.2f}", f"{rpm:,.0f}", f"{1000 * wall / n:.1f}" if n else "-")
    console.print(t)


if __name__ == "__main__":
    main()
