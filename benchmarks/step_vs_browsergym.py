"""planact's time per step outside the model, and its observation size, against BrowserGym at its
fastest settings (slow_mo=0, pre_observation_delay=0), on the same MiniWoB tasks and seeds, in one run.

BrowserGym is installed in a virtual environment of its own (made on first use, `--venv`) and driven by
`browsergym_runner.py`; both sides click random clickable, visible elements. A step is everything
between two model calls: the action and the wait for its effects, the task's done check, and the next
observation (planact: simplified HTML, no screenshot, as text models get it; BrowserGym: its whole
observation, AXTree, DOM snapshot and screenshot, as it always extracts them). Tokens are SmolLM2's.

    python benchmarks/step_vs_browsergym.py [--seeds 0-2] [--steps 5] [--tasks a,b,...]

Goals (issue 12): step median <= 1/3 of BrowserGym's, p90 <= 1/2; first observation median and p90
tokens <= BrowserGym's AXTree.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from planact.bench.browsergym.suite import ensure_python
from planact.bench.miniwob import MiniWoBSuite
from planact.config import BrowserGymSettings
from planact.llm import load_model
from planact.web import Action, BrowserEnv, BrowserOptions, BrowserSession, ObservationOptions
from planact.web.browser import find_chromium

TASKS = ("click-button,click-link,click-checkboxes,click-tab,click-tab-2,click-dialog,click-option,"
         "click-collapsible,enter-text,enter-password,focus-text,login-user,email-inbox,search-engine,"
         "social-media,book-flight,choose-list,navigate-tree,use-autocomplete,multi-layouts")


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] if values else float("nan")


def run_browsergym(python: Path, tasks: list[str], seeds: str, steps: int) -> list[dict]:
    html = Path(MiniWoBSuite().task_path("click-button")).parent
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bg.jsonl"
        env = {**os.environ, "MINIWOB_URL": html.as_uri() + "/"}
        subprocess.run([str(python), str(Path(__file__).with_name("browsergym_runner.py")), str(out), ",".join(tasks),
                        seeds, str(steps), find_chromium(None) or "/usr/bin/chromium"], check=True, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return [json.loads(line) for line in out.read_text().splitlines()]


def run_planact(tasks: list[str], seeds: list[int], steps: int, count) -> list[dict]:  # noqa: ANN001
    suite = MiniWoBSuite()
    rng = random.Random(0)
    rows: list[dict] = []
    with BrowserSession(suite.browser_options(BrowserOptions())) as session:
        for task in tasks:
            for seed in seeds:
                t0 = time.perf_counter()
                suite.reset(session, task, seed)
                env = BrowserEnv(session, ObservationOptions(token_budget=100_000), count_tokens=count,
                                 screenshots=False, done_check=lambda: suite.finished(session, None))
                obs = env.observe()
                rows.append({"kind": "reset", "task": task, "seed": seed, "seconds": time.perf_counter() - t0,
                             "tokens": obs.tokens})
                for _ in range(steps):
                    ids = sorted(i for i, e in obs.elements.items() if e.interactive)
                    if not ids:
                        break
                    t0 = time.perf_counter()
                    result = env.act(Action("Click", element=rng.choice(ids)))
                    t1 = time.perf_counter()
                    done = env.finished()
                    t2 = time.perf_counter()
                    obs = env.observe()
                    t3 = time.perf_counter()
                    rows.append({"kind": "step", "task": task, "seed": seed, "seconds": t3 - t0, "act": t1 - t0,
                                 "validate": t2 - t1, "observe": t3 - t2, "error": not result.ok,
                                 "settled": result.settled or ""})
                    if done:
                        break
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", default=TASKS)
    ap.add_argument("--seeds", default="0-2")
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--venv", type=Path, default=Path(".bench/browsergym"))
    args = ap.parse_args()
    tasks = args.tasks.split(",")
    lo, _, hi = args.seeds.partition("-")
    seeds = list(range(int(lo), int(hi or lo) + 1))
    count = load_model("local:smollm2-135m").count_tokens
    # the same virtual environment as the browsergym/ suites make (BrowserGym's own packages)
    python = ensure_python(BrowserGymSettings(venv=str(args.venv)))
    bg = run_browsergym(python, tasks, args.seeds, args.steps)
    pa = run_planact(tasks, seeds, args.steps, count)
    for r in bg:
        if r["kind"] == "reset":
            r["tokens"] = count(r.pop("axtree"))

    def col(rows: list[dict], kind: str, key: str) -> list[float]:
        return [r[key] for r in rows if r["kind"] == kind]

    console = Console(width=130)
    t = Table(title=f"MiniWoB, {len(tasks)} tasks x seeds {args.seeds}, up to {args.steps} random clicks each: "
                    f"planact vs BrowserGym 0.14.3 (slow_mo=0, pre_observation_delay=0), one run")
    for c in ("measure", "planact", "BrowserGym", "ratio", "goal"):
        t.add_column(c, justify="left" if c in ("measure", "goal") else "right")

    def row(name: str, a: float, b: float, unit: str, goal: str = "") -> None:
        fmt = (lambda v: f"{v * 1e3:.0f} ms") if unit == "s" else (lambda v: f"{v:.0f}")
        t.add_row(name, fmt(a), fmt(b), f"{a / b:.2f}" if b else "-", goal)

    for q, label, goal in ((0.5, "median", "<= 0.33"), (0.9, "p90", "<= 0.50")):
        row(f"step outside the model, {label}", pct(col(pa, "step", "seconds"), q), pct(col(bg, "step", "seconds"), q),
            "s", goal)
    for key, label in (("act", "act + settle"), ("validate", "done check"), ("observe", "observe")):
        row(f"  of which {label}, median", pct(col(pa, "step", key), .5), pct(col(bg, "step", key), .5), "s")
    row("reset + first observation, median", pct(col(pa, "reset", "seconds"), .5), pct(col(bg, "reset", "seconds"), .5), "s")
    for q, label in ((0.5, "median"), (0.9, "p90")):
        row(f"first observation tokens, {label} (BrowserGym: AXTree)", pct(col(pa, "reset", "tokens"), q),
            pct(col(bg, "reset", "tokens"), q), "tokens", "<= 1.00")
    t.caption = (f"{len(col(pa, 'step', 'seconds'))} planact steps, {len(col(bg, 'step', 'seconds'))} BrowserGym "
                 f"steps; failed actions: planact {sum(col(pa, 'step', 'error'))}, BrowserGym {sum(col(bg, 'step', 'error'))}")
    console.print(t)
    per = Table(title="First observation tokens per task (median over seeds)")
    for c in ("task", "planact", "AXTree", "ratio"):
        per.add_column(c, justify="left" if c == "task" else "right")
    for task in tasks:
        a = statistics.median(r["tokens"] for r in pa if r["kind"] == "reset" and r["task"] == task)
        b = statistics.median(r["tokens"] for r in bg if r["kind"] == "reset" and r["task"] == task)
        per.add_row(task, f"{a:.0f}", f"{b:.0f}", f"{a / b:.2f}")
    console.print(per)


if __name__ == "__main__":
    main()
