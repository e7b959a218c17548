"""What the loop shows after each round: a table per task (rollout attempts and successes, successful
instances kept for training, validation success), a plot of validation success per task over
rounds (`success.svg`), and both in `report.html`."""

from __future__ import annotations

import html
from pathlib import Path

from .state import LearnState, RoundResult

_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf"]


def task_rows(res: RoundResult) -> list[list[str]]:
    """task, rollouts (successes/attempts), instances kept, validation (successes/episodes)."""
    tasks = sorted(set(res.rollouts) | set(res.validation_tasks) | set(res.kept_instances))
    rows = []
    for t in tasks:
        s, a = res.rollouts.get(t, [0, 0])
        vs, vn = res.validation_tasks.get(t, [0, 0])
        rows.append([t, f"{s}/{a}" if a else "-", str(res.kept_instances.get(t, 0)),
                     f"{vs}/{vn} ({vs / vn:.0%})" if vn else "-"])
    return rows


def round_rows(st: LearnState) -> list[list[str]]:
    """round, validation (the best configuration's, and each one's when there are several), kept,
    rollouts, training examples per role, minutes."""
    rows = []
    for r in sorted(st.rounds, key=lambda x: x.round):
        s = sum(v[0] for v in r.rollouts.values())
        a = sum(v[1] for v in r.rollouts.values())
        ex = ", ".join(f"{k} {v.get('examples', 0)} (median {v.get('tokens_median', 0)} tok)"
                       for k, v in r.examples.items()) or "-"
        decision = ("kept" if r.kept else "not kept") + (f" ({r.note})" if r.note else "")
        each = ", ".join(f"{k} {v:.1%}" for k, v in r.validation_agents.items()) if len(r.validation_agents) > 1 else ""
        val = "-" if r.note else f"{r.validation:.1%}" + (f" ({each})" if each else "")
        if r.mix:  # learn.train.mix: the round's adapters averaged with the best round's, validated too
            val += (f" [{r.mix['weight']:g} x this round + {1 - r.mix['weight']:g} x round {r.mix['with_round']}: "
                    f"{r.mix['validation']:.1%}; this round alone: {r.mix['unmixed_validation']:.1%}]")
        rows.append([str(r.round), val, decision,
                     f"{s}/{a}" if a else "-", ex, f"{sum(r.seconds.values()) / 60:.1f}"])
    return rows


def success_svg(st: LearnState, width: int = 720, height: int = 360) -> str:
    rounds = sorted(st.rounds, key=lambda x: x.round)
    tasks = sorted({t for r in rounds for t in r.validation_tasks})
    left, right, top, bottom = 50, 190, 20, 40
    w, h = width - left - right, height - top - bottom
    n = max(1, len(rounds) - 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return left + w * i / n, top + h * (1 - v)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
             f'font-size="11">', f'<rect width="{width}" height="{height}" fill="white"/>']
    for k in range(0, 11, 2):
        y = top + h * (1 - k / 10)
        parts.append(f'<line x1="{left}" y1="{y}" x2="{left + w}" y2="{y}" stroke="#ddd"/>'
                     f'<text x="{left - 6}" y="{y + 4}" text-anchor="end">{k * 10}%</text>')
    for i, r in enumerate(rounds):
        x, _ = xy(i, 0)
        parts.append(f'<text x="{x}" y="{top + h + 16}" text-anchor="middle">{r.round}</text>')
    parts.append(f'<text x="{left + w / 2}" y="{height - 6}" text-anchor="middle">round (0 = base model)</text>')
    series = [(t, [(r.validation_tasks[t][0] / r.validation_tasks[t][1]) if r.validation_tasks.get(t, [0, 0])[1]
                   else None for r in rounds]) for t in tasks]
    series.append(("all tasks", [r.validation for r in rounds]))
    for j, (name, values) in enumerate(series):
        overall = name == "all tasks"
        color = "black" if overall else _COLORS[j % len(_COLORS)]
        pts = [xy(i, v) for i, v in enumerate(values) if v is not None]
        if pts:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
            opacity = "1" if overall else "0.8"
            parts.append(f'<polyline points="{path}" fill="none" stroke="{color}" '
                         f'stroke-width="{3 if overall else 1.2}" opacity="{opacity}"/>')
            for x, y in pts:
                parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{3 if overall else 2}" fill="{color}"/>')
        ly = top + 12 * j
        parts.append(f'<line x1="{left + w + 12}" y1="{ly}" x2="{left + w + 28}" y2="{ly}" stroke="{color}" '
                     f'stroke-width="{3 if overall else 1.5}"/><text x="{left + w + 32}" y="{ly + 4}">'
                     f'{html.escape(name)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def _table(head: list[str], rows: list[list[str]]) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{th}</tr>{body}</table>"


ROUND_HEAD = ["round", "validation", "decision", "rollout successes", "training examples", "minutes"]
TASK_HEAD = ["task", "rollout successes", "instances kept", "validation"]


def write_report(out: Path, st: LearnState) -> Path:
    svg = success_svg(st)
    (out / "success.svg").write_text(svg, encoding="utf-8")
    latest = max(st.rounds, key=lambda x: x.round) if st.rounds else None
    best = f"round {st.best_round}" if st.best_round else "the base model"
    parts = ["<!doctype html><meta charset='utf-8'><title>planact learn</title>",
             "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}"
             "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child{text-align:left}</style>",
             f"<h1>planact learn: {html.escape(str(out))}</h1>",
             f"<p>Round {st.round}, phase {html.escape(st.phase)}; best: {best}"
             + (f" ({st.best_score:.1%} validation success" + (f", {html.escape(st.best_agent)}" if st.best_agent else "")
                + ")" if st.best_score is not None else "")
             + f"; {st.elapsed_s / 3600:.2f} h of loop time"
             + (f"; stopped: {html.escape(st.finished)}" if st.finished else "") + ".</p>",
             *[f"<p>Validation protocol changed in round {b['measured_in_round']}: round {b['round']} validated "
               f"again, {b['previous_score']:.1%} before, {b['score']:.1%} under protocol {html.escape(b['protocol'])}; "
               + (f"decided again: {b['decided_again']}.</p>" if "decided_again" in b else
                  "later rounds are compared with the latter.</p>") for b in st.baselines],
             "<h2>Validation success per task</h2>", svg,
             "<h2>Rounds</h2>", _table(ROUND_HEAD, round_rows(st))]
    for r in sorted(st.rounds, key=lambda x: -x.round):
        parts += [f"<h2>Round {r.round} by task</h2>", _table(TASK_HEAD, task_rows(r))]
    if latest is None:
        parts.append("<p>No round has finished yet.</p>")
    path = out / "report.html"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
