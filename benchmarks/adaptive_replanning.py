"""Adaptive replanning against replanning after every action, with scripted models whose plans are
right, on multi-step MiniWoB tasks: what the replanner costs when the planner does its job.

The executor is a scripted MiniWoB policy (tests/support/miniwob_solvers.py). The planner is an oracle:
a first run of the policy alone records the actions the episode takes, and the plan has one step per
action; the replanner returns the steps that remain after the actions taken so far. Both agents see
the same plans, so success is the same by construction and the difference is in how often the
replanner runs. Tokens are counted by the scripted backend (about 4 characters a token) over the
planner's and replanner's prompts and outputs. One run; MiniWoB seeds 0-4 are evaluation seeds, and
nothing here trains.

    python benchmarks/adaptive_replanning.py [--tasks login-user,email-inbox,...] [--seeds 0-4]

Goal (issue 12): adaptive replanning <= 50% of every-step's planning tokens at equal success (with
scripted models until the trained model plans well: see model_time.py for the trained model).
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the scripted MiniWoB policies live with the tests

from support.miniwob_solvers import responder  # noqa: E402

from planact.agent import AgentConfig, PlanActAgent  # noqa: E402
from planact.bench.miniwob import MiniWoBSuite  # noqa: E402
from planact.bench.runner import RunSettings, parse_seeds, run_episode  # noqa: E402
from planact.llm.scripted import ScriptedLLM  # noqa: E402
from planact.web import BrowserOptions, BrowserSession, ObservationOptions  # noqa: E402

TASKS = "login-user,email-inbox,book-flight,search-engine,social-media,click-checkboxes"
ARMS = ("every-step", "adaptive")


def plan_text(actions: list[str]) -> str:
    # the action in words, not as a call: the scripted policies read calls in their prompt as actions taken
    steps = [a.replace("do(action=", "").replace('"', "").replace("element=", "on element ") for a in actions]
    return "\n".join(f"## Step {i}\nReasoning: The task needs it.\nStep: {a}" for i, a in enumerate(steps, 1))


def oracle(actions: list[str], executor: ScriptedLLM) -> ScriptedLLM:
    """The steps that remain after the actions the executor has taken so far (one call per action)."""
    return ScriptedLLM(lambda messages: plan_text(actions[len(executor.calls):] or actions[-1:]), name="oracle")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", default=TASKS)
    ap.add_argument("--seeds", default="0-4")
    ap.add_argument("--max-steps", type=int, default=20)
    args = ap.parse_args()
    jobs = [(t, s) for t in args.tasks.split(",") for s in parse_seeds(args.seeds)]
    suite = MiniWoBSuite()
    settings = RunSettings(BrowserOptions(), ObservationOptions(), screenshots=False)
    rows: dict[str, list[dict]] = {arm: [] for arm in ARMS}
    reasons: collections.Counter = collections.Counter()
    with BrowserSession(suite.browser_options(BrowserOptions())) as session, tempfile.TemporaryDirectory() as tmp:
        for task, seed in jobs:
            alone = PlanActAgent(executor=ScriptedLLM(responder(task)),
                                 config=AgentConfig(use_planner=False, max_steps=args.max_steps))
            rec = run_episode(suite, session, alone, task, seed, Path(tmp) / "oracle", settings)
            trace = json.loads((Path(tmp) / "oracle" / rec.trace).read_text())
            actions = [s["action"] for s in trace["steps"] if s["action"]]
            for arm in ARMS:
                executor = ScriptedLLM(responder(task), name="executor")
                planner = oracle(actions, executor)
                agent = PlanActAgent(executor=executor, planner=planner, replanner=oracle(actions, executor),
                                     config=AgentConfig(replan=arm, max_steps=args.max_steps))
                r = run_episode(suite, session, agent, task, seed, Path(tmp) / arm, settings)
                t = json.loads((Path(tmp) / arm / r.trace).read_text())
                plans = [p for p in t["plans"] if p["role"] == "replanner"]
                if arm == "adaptive":
                    reasons.update(x for p in plans for x in p["reasons"])
                tokens = sum(c["prompt_tokens"] + c["completion_tokens"] for c in t["llm_calls"]
                             if c["role"] in ("planner", "replanner"))
                rows[arm].append({"task": task, "success": bool(r.success), "tokens": tokens, "replans": len(plans),
                                  "actions": len(actions)})
    console = Console(width=120)
    t = Table(title=f"Scripted policy with an oracle planner, {len(jobs)} MiniWoB episodes "
                    f"({args.tasks}; seeds {args.seeds}), one run")
    for c in ("task", "actions/episode", "every-step: replans", "adaptive: replans", "planning tokens: every-step",
              "adaptive", "adaptive / every-step"):
        t.add_column(c, justify="left" if c == "task" else "right")
    for task in [*args.tasks.split(","), "all"]:
        sel = {arm: [x for x in rows[arm] if task in ("all", x["task"])] for arm in ARMS}
        n = len(sel["every-step"])
        every, adapt = (sum(x["tokens"] for x in sel[a]) for a in ARMS)
        t.add_row(task, f"{sum(x['actions'] for x in sel['every-step']) / n:.1f}",
                  *(f"{sum(x['replans'] for x in sel[a]) / n:.1f}" for a in ARMS),
                  f"{every / n:.0f}", f"{adapt / n:.0f}", f"{adapt / every:.2f}")
    console.print(t)
    wins = {arm: sum(x["success"] for x in rows[arm]) for arm in ARMS}
    every, adapt = (sum(x["tokens"] for x in rows[a]) for a in ARMS)
    console.print(f"goal: planning tokens adaptive / every-step {adapt / every:.2f} (<= 0.50) at equal success: "
                  f"{wins['adaptive']} vs {wins['every-step']} of {len(jobs)}")
    console.print("adaptive replans by reason: " + (", ".join(f"{k} {v}" for k, v in reasons.most_common()) or "none"))


if __name__ == "__main__":
    main()
