"""`planact report RUN_DIR...`: the paper's tables from eval runs.

- per suite and site: success rate and average steps over all, successful and failed tasks
  (the paper's Figure 4 layout);
- Table 1: planner variant x executor variant, one run per cell, next to the paper's numbers;
- LLM calls and tokens per task for each role, so that the cost of replanning shows;
- as a terminal table (rich), Markdown, or an HTML page with a bar chart per site.

A run's variant comes from its config (no planner, dynamic replanning, CoT) and its tags
(`planact eval --tag planner=trained --tag executor=trained`); an untagged role counts as "trained" when
its model is one planact fine-tuned (a bundle or an adapter), else "base".
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import yaml

from .records import EpisodeRecord, RecordLog, latest

ROLES = ("planner", "executor", "replanner", "judge")
SITE_ORDER = ("shopping", "shopping_admin", "gitlab", "reddit", "map", "multi-site")
PLANNER_ORDER = ("none", "base", "trained")
# The paper's Table 1 rows and columns, shown even where no run fills them.
STANDARD_ROWS = ("none", "base", "trained", "trained +replanning", "trained +replanning +CoT")
STANDARD_COLS = ("base", "trained")


@dataclass
class Group:
    """Statistics of a set of episodes (one site, or all)."""

    name: str
    n: int
    success: int
    steps_all: float | None
    steps_success: float | None
    steps_fail: float | None
    errors: int = 0
    expired: int = 0
    success_unexpired: float | None = None
    # successes the suite counts though their raw reward was below full (MiniWoB's click-checkboxes pays
    # r/boxes, and its rule, as BrowserGym's, is raw reward > 0)
    partial: int = 0

    @property
    def rate(self) -> float:
        return 100.0 * self.success / self.n if self.n else 0.0

    @property
    def full_rate(self) -> float:
        return 100.0 * (self.success - self.partial) / self.n if self.n else 0.0


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def group(name: str, records: list[EpisodeRecord]) -> Group:
    ok = [r for r in records if r.success]
    bad = [r for r in records if not r.success]
    expired = [r for r in records if r.details.get("expired")]
    live = [r for r in records if not r.details.get("expired")]
    partial = sum(1 for r in ok if r.raw_reward is not None and 0 < r.raw_reward < 1)
    return Group(name, len(records), len(ok), _mean([r.steps for r in records]), _mean([r.steps for r in ok]),
                 _mean([r.steps for r in bad]), sum(1 for r in records if r.status == "error"), len(expired),
                 (100.0 * sum(r.success for r in live) / len(live)) if expired and live else None, partial)


@dataclass
class Run:
    path: Path
    suite: str
    config: dict[str, Any]
    tags: dict[str, str]
    records: list[EpisodeRecord]

    @property
    def name(self) -> str:
        return self.tags.get("name") or self.path.name

    @property
    def planner_variant(self) -> str:
        agent = self.config.get("agent", {})
        if agent.get("no_planner"):
            return "none"
        label = self.tags.get("planner") or self._trained_or_base("planner")
        if agent.get("replan", "every-step") == "every-step":
            label += " +replanning"
        elif agent.get("replan") == "adaptive":
            label += " +adaptive replanning"
        if agent.get("cot"):
            label += " +CoT"
        return label

    @property
    def executor_variant(self) -> str:
        return self.tags.get("executor") or self._trained_or_base("executor")

    def _trained_or_base(self, role: str) -> str:
        from ..llm.registry import is_finetuned

        spec = (self.config.get("models") or {}).get(role)
        return "trained" if spec and is_finetuned(spec) else "base"

    @property
    def models(self) -> dict[str, str]:
        m = dict(self.config.get("models", {}))
        if self.config.get("agent", {}).get("no_planner"):
            m = {"executor": m.get("executor", "")}
        return {k: v for k, v in m.items() if v}

    def sites(self) -> list[Group]:
        by_site: dict[str, list[EpisodeRecord]] = defaultdict(list)
        for r in self.records:
            by_site[r.site or "all"].append(r)
        order = sorted(by_site, key=lambda s: (SITE_ORDER.index(s) if s in SITE_ORDER else len(SITE_ORDER), s))
        return [group(s, by_site[s]) for s in order]

    def overall(self) -> Group:
        return group("all", self.records)

    def breakdown(self) -> tuple[str, list[Group]]:
        """Per site where the suite has sites (WebArena), else per task (MiniWoB)."""
        if any(r.site for r in self.records):
            return "site", self.sites()
        by_task: dict[str, list[EpisodeRecord]] = defaultdict(list)
        for r in self.records:
            by_task[r.task_id].append(r)
        return "task", [group(t, by_task[t]) for t in sorted(by_task)]

    def cost(self) -> dict[str, dict[str, float]]:
        """Per role: calls, prompt tokens (and those served from a prefix cache) and completion tokens per task."""
        n = max(1, len(self.records))
        out: dict[str, dict[str, float]] = {}
        for role in ROLES:
            calls = sum(r.usage.get(role, {}).get("calls", 0) for r in self.records)
            if not calls:
                continue
            out[role] = {"calls": calls / n,
                         "prompt_tokens": sum(r.usage.get(role, {}).get("prompt_tokens", 0) for r in self.records) / n,
                         "cached_tokens": sum(r.usage.get(role, {}).get("cached_tokens", 0) for r in self.records) / n,
                         "completion_tokens": sum(r.usage.get(role, {}).get("completion_tokens", 0)
                                                  for r in self.records) / n}
        return out


class ReportError(ValueError):
    pass


def load_run(path: Path) -> Run:
    meta_path, log_path = path / "run.json", path / "episodes.jsonl"
    if not log_path.exists():
        raise ReportError(f"{path} is not an eval run (no episodes.jsonl)")
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    config = meta.get("config", {})
    records = latest(RecordLog(log_path).read())
    suite = config.get("suite") or (records[0].suite if records else "?")
    return Run(path, suite, config, dict(meta.get("tags") or {}), records)


def load_paper(path: str | Path | None = None) -> dict[str, Any]:
    text = Path(path).read_text() if path else \
        resources.files("planact.bench").joinpath("data/paper_plan_and_act.yaml").read_text()
    return yaml.safe_load(text) or {}


@dataclass
class Grid:
    suite: str
    rows: list[str]
    cols: list[str]
    cells: dict[tuple[str, str], list[Run]] = field(default_factory=dict)
    paper: dict[tuple[str, str], float] = field(default_factory=dict)


def _variant_key(label: str, order: tuple[str, ...]) -> tuple:
    head = label.split(" ")[0]
    return (order.index(head) if head in order else len(order), label.count("+"), label)


def table1(runs: list[Run], paper: dict[str, Any]) -> list[Grid]:
    grids = []
    for suite in sorted({r.suite for r in runs}):
        rs = [r for r in runs if r.suite == suite]
        published = {(c["planner"], c["executor"]): float(c["success"])
                     for c in (paper.get(suite) or {}).get("table1", [])}
        rows = sorted({r.planner_variant for r in rs} | {k[0] for k in published} | set(STANDARD_ROWS),
                      key=lambda v: _variant_key(v, PLANNER_ORDER))
        cols = sorted({r.executor_variant for r in rs} | {k[1] for k in published} | set(STANDARD_COLS),
                      key=lambda v: _variant_key(v, STANDARD_COLS))
        g = Grid(suite, rows, cols, paper=published)
        for r in rs:
            g.cells.setdefault((r.planner_variant, r.executor_variant), []).append(r)
        grids.append(g)
    return grids


def _f(x: float | None, fmt: str = "{:.1f}") -> str:
    return "-" if x is None else fmt.format(x)


# ---------------------------------------------------------------------------------------------
# renderers: every table is first a list of rows of strings, then terminal / Markdown / HTML

def site_rows(run: Run) -> tuple[list[str], list[list[str]]]:
    kind, groups = run.breakdown()
    head = [kind, "episodes" if kind == "task" else "tasks", "success %", "avg steps (all)", "avg steps (success)", "avg steps (fail)", "errors"]
    expired = any(g.expired for g in run.sites())
    if expired:
        head += ["expired", "success % (not expired)"]
    partial = run.overall().partial > 0
    if partial:
        head += ["partly rewarded", "success % (full reward)"]
    rows = []
    for g in groups + [run.overall()]:
        row = [g.name, str(g.n), _f(g.rate), _f(g.steps_all), _f(g.steps_success), _f(g.steps_fail), str(g.errors)]
        if expired:
            row += [str(g.expired), _f(g.success_unexpired)]
        if partial:
            row += [str(g.partial), _f(g.full_rate)]
        rows.append(row)
    return head, rows


def grid_rows(g: Grid) -> tuple[list[str], list[list[str]]]:
    head = [f"{g.suite}: planner \\ executor"] + g.cols
    full = max((len(r.records) for runs in g.cells.values() for r in runs), default=0)
    rows = []
    for p in g.rows:
        row = [p]
        for e in g.cols:
            runs = g.cells.get((p, e), [])
            # a cell still running (fewer episodes than the fullest cell) says how many it rests on
            ours = " / ".join(f"{r.overall().rate:.1f}" + (f" ({len(r.records)} of {full} episodes)"
                                                          if len(r.records) < full else "")
                              for r in runs) if runs else "-"
            paper = g.paper.get((p, e))
            row.append(ours + (f" (paper {paper:.2f})" if paper is not None else ""))
        rows.append(row)
    return head, rows


def cost_rows(runs: list[Run]) -> tuple[list[str], list[list[str]]]:
    head = ["run", "role", "calls/task", "prompt tokens/task", "from cache %", "completion tokens/task"]
    rows = []
    for r in runs:
        for role, c in r.cost().items():
            share = 100 * c["cached_tokens"] / c["prompt_tokens"] if c["prompt_tokens"] else 0.0
            rows.append([r.name, role, _f(c["calls"]), _f(c["prompt_tokens"], "{:.0f}"), _f(share),
                         _f(c["completion_tokens"], "{:.0f}")])
    return head, rows


def runs_rows(runs: list[Run]) -> tuple[list[str], list[list[str]]]:
    head = ["run", "suite", "planner", "executor", "models", "episodes", "success %", "success % (full reward)"]
    return head, [[r.name, r.suite, r.planner_variant, r.executor_variant,
                   ", ".join(f"{k}={v}" for k, v in r.models.items()), str(len(r.records)),
                   _f(r.overall().rate), _f(r.overall().full_rate)] for r in runs]


def sections(runs: list[Run], paper: dict[str, Any]) -> list[tuple[str, list[str], list[list[str]]]]:
    out = [("Runs", *runs_rows(runs))]
    for r in runs:
        out.append((f"{r.name} ({r.suite}): success and steps by {r.breakdown()[0]}", *site_rows(r)))
    for g in table1(runs, paper):
        out.append((f"Table 1 ({g.suite}): success % by planner and executor", *grid_rows(g)))
    out.append(("LLM calls and tokens per task", *cost_rows(runs)))
    for suite in sorted({r.suite for r in runs}):
        overall = (paper.get(suite) or {}).get("overall")
        if overall is not None:
            out.append((f"Paper ({suite})", ["suite", "paper success %"], [[suite, f"{overall:.2f}"]]))
    return out


def to_markdown(runs: list[Run], paper: dict[str, Any]) -> str:
    parts = ["# planact report", "", f"Paper numbers: {paper.get('source', '-')}", ""]
    for title, head, rows in sections(runs, paper):
        parts += [f"## {title}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        parts += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
        parts.append("")
    return "\n".join(parts)


def to_rich(runs: list[Run], paper: dict[str, Any]):
    from rich.console import Group as RichGroup
    from rich.table import Table

    tables = []
    for title, head, rows in sections(runs, paper):
        t = Table(title=title, title_justify="left")
        for i, h in enumerate(head):
            t.add_column(h, justify="left" if i == 0 else "right")
        for row in rows:
            t.add_row(*row)
        tables.append(t)
    return RichGroup(*tables)


def to_html(runs: list[Run], paper: dict[str, Any]) -> str:
    charts = []
    for r in runs:
        kind, groups = r.breakdown()
        charts.append({"name": f"{r.name} ({r.suite}), by {kind}",
                       "bars": [{"label": g.name, "rate": g.rate, "n": g.n} for g in groups + [r.overall()]]})
    template = jinja2.Environment(autoescape=True).from_string(
        resources.files("planact.bench").joinpath("templates/summary.html").read_text(encoding="utf-8"))
    return template.render(sections=sections(runs, paper), charts=charts, source=paper.get("source", ""))
