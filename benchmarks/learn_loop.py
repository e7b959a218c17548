"""The self-improvement loop's cost on this machine, from a loop's own state (`planact learn run`
writes it; nothing is re-run): wall time per round and per phase, rollouts per minute, successful
instances and training examples kept per round, training tokens per second per role, the whole
loop's wall time from nothing to the best adapters, what exploration found (successes of
on-policy rollouts and of exploring ones, per round) and what replaying the successes took out.

    python benchmarks/learn_loop.py [runs/learn-miniwob]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from planact.learn.rollouts import rollout_store
from planact.learn.state import PHASES, LearnState


def exploration_table(out: Path, rounds: list[int]) -> Table:
    t = Table(title="rollouts: on-policy vs exploring (random afforded actions on some steps)", title_justify="left")
    for c in ("round", "on-policy", "successes", "exploring", "successes", "steps explored", "s/rollout",
              "rollouts/min (from episode times)"):
        t.add_column(c, justify="right")
    for r in rounds:
        counts = {False: [0, 0], True: [0, 0]}
        steps = explored = 0
        wall = 0.0
        for rec in rollout_store(out, r).read():
            wall += float((rec.data.get("trajectory") or {}).get("wall_s") or 0.0)
            rate = ((rec.provenance.extra or {}).get("actor") or {}).get("agent", {}).get("explore", 0.0) or 0.0
            c = counts[rate > 0]
            c[0] += 1
            c[1] += int(rec.kept)
            for s in (rec.data.get("trajectory") or {}).get("steps", []):
                steps += 1
                explored += bool(s.get("explored"))
        if counts[False][0] + counts[True][0]:
            n = counts[False][0] + counts[True][0]
            t.add_row(str(r), str(counts[False][0]), str(counts[False][1]), str(counts[True][0]), str(counts[True][1]),
                      f"{explored}/{steps}", f"{wall / n:.1f}", f"{60 * n / wall:.1f}" if wall else "-")
    return t


def pruning_table(out: Path, rounds: list[int]) -> Table | None:
    """What replaying the chosen successes took out (learn/prune.py; rounds with select.replay)."""
    rows = [(r, json.loads(p.read_text())) for r in rounds if (p := out / "rounds" / str(r) / "pruned.json").exists()]
    if not rows:
        return None
    t = Table(title="hindsight pruning: chosen successes replayed without each action", title_justify="left")
    for c in ("round", "replayed", "shortened", "actions removed", "not reproducible"):
        t.add_column(c, justify="right")
    for r, d in rows:
        t.add_row(str(r), *(str(d.get(k, "-")) for k in ("replayed", "shortened", "actions_removed", "not_reproducible")))
    return t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", nargs="?", default="runs/learn-miniwob")
    args = ap.parse_args()
    out = Path(args.out)
    st = LearnState.load(out)
    if not st.rounds:
        raise SystemExit(f"no finished round in {out}: run `planact learn run` first")
    console = Console(width=200)
    t = Table(title=f"planact learn: {out} (2 CPU cores)", title_justify="left")
    cols = ["round", "validation", "kept", "minutes", *PHASES[:-1], "rollouts", "rollouts/min", "successes",
            "instances kept", "examples (exec/plan/replan)", "train tokens/s (exec/plan/replan)"]
    for c in cols:
        t.add_column(c, justify="right")
    total = 0.0
    for r in sorted(st.rounds, key=lambda x: x.round):
        secs = r.seconds
        total += sum(secs.values())
        n = sum(v[1] for v in r.rollouts.values())
        wins = sum(v[0] for v in r.rollouts.values())
        per_min = f"{60 * n / secs['rollouts']:.1f}" if secs.get("rollouts") else "-"
        ex = "/".join(str(r.examples.get(k, {}).get("examples", "-")) for k in ("executor", "planner", "replanner"))
        tps = "/".join(str(r.train.get(k, {}).get("tokens_per_s", "-")) for k in ("executor", "planner", "replanner"))
        mixed = f" (mix; alone {r.mix['unmixed_validation']:.1%})" if r.mix and r.mix.get("chosen") else \
            (f" (mix {r.mix['validation']:.1%})" if r.mix else "")
        t.add_row(str(r.round), f"{r.validation:.1%}{mixed}", "yes" if r.kept else "no", f"{sum(secs.values()) / 60:.1f}",
                  *[f"{secs[p] / 60:.1f}" if p in secs else "-" for p in PHASES[:-1]], str(n or "-"), per_min,
                  str(wins if n else "-"), str(sum(r.kept_instances.values()) or "-"), ex, tps)
    console.print(t)
    console.print("(phase minutes leave out time lost to kills; rollouts/min below is from the episodes' own times)")
    console.print(exploration_table(out, [r.round for r in sorted(st.rounds, key=lambda x: x.round) if r.round]))
    pruning = pruning_table(out, [r.round for r in st.rounds] + [st.round])
    if pruning is not None:
        console.print(pruning)
    best = f"round {st.best_round}" if st.best_round else "the base model"
    console.print(f"loop time: {total / 3600:.2f} h over {len(st.rounds)} rounds (round 0 validates the base); "
                  f"best: {best}" + (f" at {st.best_score:.1%} validation success" if st.best_score is not None else "")
                  + (f"; stopped: {st.finished}" if st.finished else f"; now: round {st.round}, {st.phase}"))


if __name__ == "__main__":
    main()
