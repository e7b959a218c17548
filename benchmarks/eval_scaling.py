"""Eval throughput with 1 and 2 workers (and on a local Ray instance), with a scripted executor that
answers after a fixed delay, as a model server would; the records of the Ray run are compared with the
local run's. One run.

    python benchmarks/eval_scaling.py [--tasks click-button,click-link,focus-text,click-dialog]
                                      [--seeds 0-9] [--delay 0.3] [--no-ray]

Goals (issue 12): episodes per minute with 2 workers >= 1.8x one worker; the Ray run's records
identical in content (task, seed, success, steps, status, actions) to a local run's.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from planact.agent import AgentConfig, PlanActAgent
from planact.bench.miniwob import MiniWoBSuite
from planact.bench.runner import RunSettings, parse_seeds, run_eval
from planact.config import PlanActConfig
from planact.llm.scripted import ScriptedLLM
from planact.web import BrowserOptions, ObservationOptions


def first_button(messages) -> str:  # noqa: ANN001
    """Clicks the first button on the page (else the first element), after `DELAY` seconds."""
    time.sleep(float(os.environ.get("PLANACT_BENCH_DELAY", "0.3")))
    page = messages[-1].content.split("Page", 1)[-1]
    m = re.search(r'<button id="(\d+)"', page) or re.search(r'id="(\d+)"', page)
    return f'do(action="Click", element="{m.group(1)}")'


def content(out: Path) -> list[tuple]:
    recs = [json.loads(line) for line in (out / "episodes.jsonl").read_text().splitlines() if line.strip()]
    rows = []
    for r in recs:
        trace = json.loads((out / r["trace"]).read_text())
        rows.append((r["task_id"], r["seed"], r["success"], r["steps"], r["status"],
                     tuple(s["action"] for s in trace["steps"])))
    return sorted(rows)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", default="click-button,click-link,focus-text,click-dialog")
    ap.add_argument("--seeds", default="0-9")
    ap.add_argument("--delay", type=float, default=0.3)
    ap.add_argument("--no-ray", action="store_true")
    args = ap.parse_args()
    os.environ["PLANACT_BENCH_DELAY"] = str(args.delay)
    jobs = [(t, s) for t in args.tasks.split(",") for s in parse_seeds(args.seeds)]
    suite = MiniWoBSuite()
    settings = RunSettings(BrowserOptions(), ObservationOptions(), screenshots=False)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for workers in (1, 2):
            out = Path(tmp) / f"local-{workers}"
            t0 = time.perf_counter()
            run_eval(suite, lambda: PlanActAgent(executor=ScriptedLLM(first_button),
                                                 config=AgentConfig(use_planner=False, max_steps=3)),
                     jobs, out, settings, workers=workers)
            rows.append((f"threads, {workers} worker(s)", time.perf_counter() - t0, out))
        if not args.no_ray:
            from planact.bench.cluster import run_eval_ray

            # the actors import this file as a module (Ray gives them the driver's sys.path)
            sys.path.insert(0, str(Path(__file__).parent))
            cfg = PlanActConfig.model_validate({
                "models": {"executor": "scripted:eval_scaling:first_button"},
                "agent": {"no_planner": True, "max_steps": 3}, "browser": {"screenshots": False}})
            out = Path(tmp) / "ray-2"
            t0 = time.perf_counter()
            run_eval_ray("local", cfg, "miniwob", None, jobs, out, settings, 2)
            rows.append(("Ray (local), 2 actors, incl. start-up", time.perf_counter() - t0, out))
        base = len(jobs) / rows[0][1] * 60
        t = Table(title=f"{len(jobs)} MiniWoB episodes, scripted executor answering after {args.delay} s")
        for c in ("run", "seconds", "episodes/min", "vs 1 worker", "records as the 1-worker run's"):
            t.add_column(c, justify="left" if c == "run" else "right")
        reference = content(rows[0][2])
        for name, secs, out in rows:
            rate = len(jobs) / secs * 60
            t.add_row(name, f"{secs:.1f}", f"{rate:.1f}", f"{rate / base:.2f}x",
                      "identical" if content(out) == reference else "DIFFERENT")
        Console(width=120).print(t)
        print("goal: 2 workers >= 1.8x one worker; Ray records identical to the local run's")


if __name__ == "__main__":
    main()
