"""Observation size and the agent's own time per step on MiniWoB pages.

For each task: raw page HTML vs the simplified observation, in tokens of the embedded model's
tokenizer; then a few steps of (observe + act) with random clicks on page elements, timed — the
time per step spent outside the model. Prints a table; no model call is timed.

    python benchmarks/observation_and_step.py [--tasks 30] [--steps 5]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from rich.console import Console
from rich.table import Table

from planact.bench.miniwob import MiniWoBSuite
from planact.llm import load_model
from planact.web import Action, BrowserEnv, BrowserOptions, BrowserSession, ObservationOptions


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=30)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    count = load_model("local:smollm2-135m").count_tokens
    suite = MiniWoBSuite()
    rng = random.Random(args.seed)
    tasks = [t.id for t in suite.tasks()]
    tasks = sorted(rng.sample(tasks, min(args.tasks, len(tasks))))
    rows, observe_s, act_s, step_s = [], [], [], []
    with BrowserSession(suite.browser_options(BrowserOptions())) as session:
        for task in tasks:
            suite.reset(session, task, args.seed)
            raw_html = session.page.content()
            env = BrowserEnv(session, ObservationOptions(token_budget=100_000), count_tokens=count, screenshots=False)
            obs = env.observe()
            rows.append((task, count(raw_html), obs.tokens, len(obs.elements)))
            for _ in range(args.steps):
                if suite.finished(session, None) or not obs.elements:
                    break
                action = Action("Click", element=rng.choice(list(obs.elements)))
                t0 = time.perf_counter()
                env.act(action)
                t1 = time.perf_counter()
                obs = env.observe()
                t2 = time.perf_counter()
                act_s.append(t1 - t0)
                observe_s.append(t2 - t1)
                step_s.append(t2 - t0)
    console = Console(width=120)
    table = Table(title="Observation size on MiniWoB pages (SmolLM2 tokens)")
    for c in ("task", "raw HTML", "observation", "ratio", "elements"):
        table.add_column(c, justify="left" if c == "task" else "right")
    for task, raw, obs_tokens, n in rows:
        table.add_row(task, str(raw), str(obs_tokens), f"{raw / max(1, obs_tokens):.1f}x", str(n))
    raw_all = [r[1] for r in rows]
    obs_all = [r[2] for r in rows]
    table.add_row("[b]median[/b]", str(int(statistics.median(raw_all))), str(int(statistics.median(obs_all))),
                  f"{statistics.median(r / max(1, o) for r, o in zip(raw_all, obs_all)):.1f}x", "")
    console.print(table)
    t = Table(title=f"Time per step outside the model ({len(step_s)} steps on {len(rows)} tasks)")
    for c in ("phase", "median ms", "p90 ms"):
        t.add_column(c, justify="left" if c == "phase" else "right")
    t.add_row("act (incl. settle wait)", f"{statistics.median(act_s) * 1e3:.0f}", f"{pct(act_s, .9) * 1e3:.0f}")
    t.add_row("observe (simplified HTML)", f"{statistics.median(observe_s) * 1e3:.0f}", f"{pct(observe_s, .9) * 1e3:.0f}")
    t.add_row("[b]observe + act[/b]", f"{statistics.median(step_s) * 1e3:.0f}", f"{pct(step_s, .9) * 1e3:.0f}")
    console.print(t)


if __name__ == "__main__":
    main()
