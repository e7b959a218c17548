"""Where the embedded model's time goes on multi-step MiniWoB episodes, and what the per-role prompt
cache and adaptive replanning save, in one run.

Four agents on the same tasks and seeds, every role on the same model: the previous release (replanning
after every step, one shared llama.cpp context, the prompts it had: `--previous-prompts`, v1 for the
untrained base), the same on today's prompts (`--no-prefix-cache`), replanning after every step with a
context per role (the default), and adaptive replanning with a context per role.

    python benchmarks/model_time.py [--model local:planact-miniwob] [--tasks login-user,email-inbox,book-flight]
                                    [--seeds 0-2] [--max-steps 8] [--prompt-version auto] [--previous-prompts v1]

Goals (issue 12): >= 45% of executor and replanner prompt tokens from the cache; median episode time
>= 1.5x faster than the same-run baseline (without the cache, or the previous release); adaptive
replanning <= 50% of every-step's planner + replanner tokens at equal success.
"""

from __future__ import annotations

import argparse
import collections
import json
import statistics
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from planact.agent.factory import build_agent
from planact.bench.miniwob import MiniWoBSuite
from planact.bench.runner import RunSettings, run_episode
from planact.config import PlanActConfig
from planact.llm.registry import role_spec
from planact.llm.spec import ModelSpec
from planact.synth.engine import ModelCache
from planact.web import BrowserOptions, BrowserSession, ObservationOptions

PREVIOUS = "previous release: every-step, one shared context"
AGENTS = {
    PREVIOUS: {"replan": "every-step", "prefix_cache": False},
    "every-step, one shared context": {"replan": "every-step", "prefix_cache": False},
    "every-step, cache per role": {"replan": "every-step", "prefix_cache": True},
    "adaptive, cache per role": {"replan": "adaptive", "prefix_cache": True},
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="local:planact-miniwob")
    ap.add_argument("--tasks", default="login-user,email-inbox,book-flight")
    ap.add_argument("--seeds", default="0-2")
    ap.add_argument("--max-steps", type=int, default=8)
    ap.add_argument("--prompt-version", default="auto", help="auto: the model's own (a bundle's), else the default")
    ap.add_argument("--previous-prompts", default=None,
                    help="the previous release's prompts (default: v1 for a model without its own, else its own)")
    args = ap.parse_args()
    lo, _, hi = args.seeds.partition("-")
    seeds = list(range(int(lo), int(hi or lo) + 1))
    tasks = args.tasks.split(",")
    suite = MiniWoBSuite()
    models = ModelCache()
    results: dict[str, list] = {}
    prompt_ids: dict[str, str] = {}
    with BrowserSession(suite.browser_options(BrowserOptions())) as session, tempfile.TemporaryDirectory() as tmp:
        for name, agent_settings in AGENTS.items():
            version = args.prompt_version
            if name == PREVIOUS:  # v1, unless the model was trained on prompts of its own (a bundle's)
                own = ModelSpec.parse(role_spec(args.model, "executor")).options.get("prompt")
                version = args.previous_prompts or ("auto" if own else "v1")
            cfg = PlanActConfig.model_validate({
                "models": {"planner": args.model, "executor": args.model},
                "agent": {**agent_settings, "max_steps": args.max_steps, "prompt_version": version}})
            agent = build_agent(cfg, models.get)
            prompt_ids[name] = agent.describe()[1]["executor"]
            settings = RunSettings(BrowserOptions(), ObservationOptions())
            results[name] = [run_episode(suite, session, agent, task, seed, Path(tmp) / name, settings)
                             for task in tasks for seed in seeds]
            if agent_settings["replan"] == "adaptive":  # why each replan happened, from the traces
                reasons = collections.Counter(
                    reason for r in results[name]
                    for plan in json.loads((Path(tmp) / name / r.trace).read_text())["plans"]
                    if plan["role"] == "replanner" for reason in plan["reasons"])

    def usage(recs: list, role: str, key: str) -> float:
        return sum(r.usage.get(role, {}).get(key, 0) for r in recs)

    console = Console(width=140)
    t = Table(title=f"{args.model} in every role (prompts {args.prompt_version}), {', '.join(tasks)} x seeds {args.seeds} "
                    f"(max {args.max_steps} steps)")
    for c in ("agent", "episode s (median)", "success", "executor from cache", "replanner from cache",
              "planning tokens/episode", "model calls/episode"):
        t.add_column(c, justify="left" if c == "agent" else "right")
    summary = {}
    for name, recs in results.items():
        n = len(recs)
        plan_tokens = sum(usage(recs, r, k) for r in ("planner", "replanner")
                          for k in ("prompt_tokens", "completion_tokens")) / n
        shares = {role: usage(recs, role, "cached_tokens") / max(1, usage(recs, role, "prompt_tokens"))
                  for role in ("executor", "replanner")}
        summary[name] = {"median": statistics.median(r.wall_s for r in recs), "plan_tokens": plan_tokens,
                         "success": sum(bool(r.success) for r in recs), **shares}
        t.add_row(f"{name} ({prompt_ids[name]})", f"{summary[name]['median']:.1f}", f"{summary[name]['success']}/{n}",
                  f"{shares['executor']:.0%}", f"{shares['replanner']:.0%}", f"{plan_tokens:.0f}",
                  f"{sum(r.llm_calls for r in recs) / n:.1f}")
    console.print(t)
    previous, shared, cache, adaptive = (summary[k] for k in AGENTS)
    g = Table(title="Goals")
    for c in ("goal", "measured", "target"):
        g.add_column(c, justify="left" if c == "goal" else "right")
    g.add_row("executor prompt tokens from cache", f"{cache['executor']:.0%}", ">= 45%")
    g.add_row("replanner prompt tokens from cache", f"{cache['replanner']:.0%}", ">= 45%")
    g.add_row("median episode: shared context / per-role cache", f"{shared['median'] / cache['median']:.2f}x", ">= 1.5x")
    g.add_row("median episode: previous release / adaptive, per-role cache",
              f"{previous['median'] / adaptive['median']:.2f}x", ">= 1.5x")
    g.add_row("planning tokens: adaptive / every-step", f"{adaptive['plan_tokens'] / cache['plan_tokens']:.2f}",
              "<= 0.50")
    g.add_row("success: adaptive vs every-step", f"{adaptive['success']} vs {cache['success']}", "equal")
    console.print(g)
    console.print("adaptive replans by reason (a replan may have several): "
                  + (", ".join(f"{k} {v}" for k, v in reasons.most_common()) or "none"))


if __name__ == "__main__":
    main()
