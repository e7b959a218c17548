"""planact run | eval | tasks | models, and the groups `planact synth ...` and `planact train ...`."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Optional

import typer
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..bench.webarena.rules import OPTIONS as SCORING_OPTIONS
from ..config import PlanActConfig
from ..errors import UsageError
from ..outdir import OutputLock, check_writable

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Plan-and-Act web agents: a planner, an executor and dynamic replanning in a real browser.")
from .common import console  # noqa: E402

ModelOpt = typer.Option(None, help="model spec, e.g. local:smollm2-135m, openai:gpt-4o, "
                                   "openai-compatible:http://host:8000/v1#name")


def _config(config: Optional[Path], planner, executor, replanner, no_planner, replan, cot, max_steps, token_budget,
            allow_domain, headless, grammar, prefix_cache=None) -> PlanActConfig:
    cfg = PlanActConfig.load(config)
    return cfg.with_overrides(
        models={"planner": planner, "executor": executor, "replanner": replanner},
        agent={"no_planner": True if no_planner else None, "replan": replan, "cot": True if cot else None,
               "max_steps": max_steps, "grammar": grammar, "prefix_cache": prefix_cache},
        browser={"allow_domains": list(allow_domain) if allow_domain else None, "headless": headless,
                 "token_budget": token_budget},
    )


def _settings(cfg: PlanActConfig):
    from ..bench.runner import RunSettings

    return RunSettings.from_config(cfg)


def _printer(verbose: bool):
    def on_event(kind: str, p: dict) -> None:
        if kind == "plan":
            title = "Initial plan" if p["after_step"] == 0 else f"Plan after step {p['after_step']}"
            if p.get("reasons") and p["after_step"] and p["reasons"] != ["every-step"]:
                title += f" ({', '.join(p['reasons'])})"
            body = p["text"] + (f"\n[red](unparsable output: {p['error']})[/red]" if p["error"] else "")
            console.print(Panel(body, title=f"{title} · {p['role']}", expand=False, border_style="blue"))
        elif kind == "action":
            if "action" in p:
                line = f"[bold]step {p['step']}[/bold] {p['action']}"
                if p.get("error"):
                    line += f"  [red]✗ {p['error']}[/red]"
            else:
                line = f"[bold]step {p['step']}[/bold] [red]no valid action: {p['error']}[/red]"
            console.print(line, highlight=False, markup=True)
            if verbose:
                console.print(f"   [dim]raw: {p['raw']!r}[/dim]", highlight=False)
        elif kind == "loop":
            console.print(f"[yellow]stopped: the same action repeated with no page change ({p['action']})[/yellow]")
        elif kind == "error":
            console.print(f"[red]episode error: {p['error']}[/red]")
    return on_event


@app.command()
def run(
    task: Optional[str] = typer.Option(None, help="task text (ad-hoc), or a task id with --suite"),
    url: Optional[str] = typer.Option(None, help="start page for an ad-hoc task"),
    suite: Optional[str] = typer.Option(None, help="benchmark suite, e.g. miniwob"),
    seed: int = typer.Option(0, help="task seed (benchmark suites)"),
    output: Optional[Path] = typer.Option(None, help="folder for trace and report (default runs/run-<time>)"),
    config: Optional[Path] = typer.Option(None, help="YAML/JSON config file"),
    planner: Optional[str] = ModelOpt,
    executor: Optional[str] = ModelOpt,
    replanner: Optional[str] = ModelOpt,
    no_planner: bool = typer.Option(False, "--no-planner", help="executor alone (the paper's 'No Planner' row)"),
    replan: Optional[str] = typer.Option(None, help="every-step (dynamic, the paper), never (static plan) or "
                                         "adaptive (only when an action fails, changes nothing, navigates, ...)"),
    cot: bool = typer.Option(False, "--cot", help="reason in <think>…</think> before each plan and action"),
    max_steps: Optional[int] = typer.Option(None, help="step limit (default 25)"),
    token_budget: Optional[int] = typer.Option(None, help="observation token budget"),
    allow_domain: Optional[list[str]] = typer.Option(None, help="only these hosts may be visited (repeatable)"),
    headless: Optional[bool] = typer.Option(None, "--headless/--headed"),
    grammar: Optional[bool] = typer.Option(None, "--grammar/--no-grammar", help="GBNF-constrained output"),
    prefix_cache: Optional[bool] = typer.Option(None, "--prefix-cache/--no-prefix-cache",
                                                help="a llama.cpp context per role, each keeping its prompt cache"),
    verbose: bool = typer.Option(False, "-v", "--verbose", help="print raw model outputs"),
) -> None:
    """Run the agent on one task: an ad-hoc page (--task/--url) or a benchmark task (--suite/--task)."""
    from ..agent.factory import build_agent
    from ..bench.adhoc import AdHocSuite
    from ..bench.runner import run_episode
    from ..web.browser import BrowserSession

    if not task:
        raise typer.BadParameter("give --task")
    cfg = _config(config, planner, executor, replanner, no_planner, replan, cot, max_steps, token_budget,
                  allow_domain, headless, grammar, prefix_cache)
    if suite:
        s = _suite(suite, cfg)
        task_id, run_seed = task, (seed if getattr(s, "seeded", False) else None)
        _check_tasks(s, [task_id])
        problems = s.preflight([task_id]) if hasattr(s, "preflight") else []
        if problems:
            console.print("[red]" + "; ".join(problems) + "[/red]", highlight=False)
            raise typer.Exit(2)
    else:
        if not url:
            raise typer.BadParameter("an ad-hoc task needs --url (or pick a --suite)")
        s = AdHocSuite(url, task)
        task_id, run_seed = "adhoc", None
    out = output or Path("runs") / time.strftime("run-%Y%m%d-%H%M%S")
    settings = _settings(cfg)
    _check_models(cfg)
    check_writable(out)
    with console.status("loading models…"):
        agent = build_agent(cfg)
    models, _ = agent.describe()
    console.print("models: " + ", ".join(f"{k}={v}" for k, v in models.items()), highlight=False)
    with OutputLock(out, "run"), BrowserSession(s.browser_options(settings.browser)) as session:
        rec = run_episode(s, session, agent, task_id, run_seed, out, settings, on_event=_printer(verbose))
    goal = json.loads((out / rec.trace).read_text())["task"]
    console.print(f"[bold]task:[/bold] {goal}", highlight=False)
    result = "not scored" if rec.reward is None else f"reward {rec.reward:.3f} (raw {rec.raw_reward}) · " + (
        "[green]success[/green]" if rec.success else "[red]failure[/red]")
    console.print(f"[bold]status:[/bold] {rec.status} · {rec.steps} steps · {rec.llm_calls} LLM calls · "
                  f"{rec.prompt_tokens}+{rec.completion_tokens} tokens · {rec.wall_s:.1f} s · {result}")
    if rec.answer is not None:
        console.print(f"[bold]answer:[/bold] {rec.answer}", highlight=False)
    if rec.error:
        console.print(f"[red]error: {rec.error}[/red]", highlight=False)
    console.print(f"trace:  {out / rec.trace}\nreport: {out / rec.report}", highlight=False)
    if rec.status == "error":
        raise typer.Exit(1)


def _check_tasks(suite, task_ids: list[str]) -> None:
    from ..bench.base import UnknownTaskError

    for t in task_ids:
        try:
            suite.check_task(t)
        except UnknownTaskError as err:
            console.print(f"[red]{err}[/red]", highlight=False)
            raise typer.Exit(2) from None


@app.command(name="eval")
def eval_(
    suite: str = typer.Option("miniwob", help="miniwob, webarena-lite, webarena or webvoyager"),
    task_ids: Optional[str] = typer.Option(None, "--task-ids", "--tasks", help="comma-separated task ids (default: all)"),
    sites: Optional[str] = typer.Option(None, help="comma-separated sites, e.g. shopping,gitlab,multi-site"),
    limit: Optional[int] = typer.Option(None, help="at most this many tasks (after --sites/--task-ids)"),
    seeds: str = typer.Option("0", help="seeds, e.g. 0-4 or 1,3,5"),
    workers: int = typer.Option(1, help="parallel episodes, each with its own browser and its own models"),
    ray: Optional[str] = typer.Option(None, "--ray", help="spread episodes over Ray actors (--workers of them): "
                                      "local (start Ray here), auto (the running cluster) or ray://host:port"),
    output: Optional[Path] = typer.Option(None, help="results folder; re-running with it resumes"),
    config: Optional[Path] = typer.Option(None, help="YAML/JSON config file"),
    tasks_file: Optional[str] = typer.Option(None, help="the suite's task file (path or URL) instead of the bundled one"),
    judge: Optional[str] = typer.Option(None, help="judge model spec (fuzzy_match, WebVoyager); default: the planner's"),
    tag: Optional[list[str]] = typer.Option(None, help="label for reports, e.g. planner=trained (repeatable)"),
    dry_run: bool = typer.Option(False, "--dry-run", help="check the task configs and say what a real run needs"),
    planner: Optional[str] = ModelOpt,
    executor: Optional[str] = ModelOpt,
    replanner: Optional[str] = ModelOpt,
    no_planner: bool = typer.Option(False, "--no-planner"),
    replan: Optional[str] = typer.Option(None, help="every-step, never or adaptive"),
    cot: bool = typer.Option(False, "--cot"),
    max_steps: Optional[int] = typer.Option(None),
    token_budget: Optional[int] = typer.Option(None),
    allow_domain: Optional[list[str]] = typer.Option(None),
    headless: Optional[bool] = typer.Option(None, "--headless/--headed"),
    grammar: Optional[bool] = typer.Option(None, "--grammar/--no-grammar"),
    prefix_cache: Optional[bool] = typer.Option(None, "--prefix-cache/--no-prefix-cache"),
    allow_errors: bool = typer.Option(False, "--allow-errors",
                                      help="exit 0 even when some episodes ended in an infrastructure error"),
    max_consecutive_errors: int = typer.Option(5, min=0, help="stop after this many episodes in a row end in "
                                                              "error (0: never stop)"),
) -> None:
    """Run many episodes, one JSONL record each, and print a summary per task (and per site).
    Exit codes: 0 done; 1 some episode ended in error (or the run stopped after repeated errors);
    2 bad input (nothing is run or written)."""
    from ..agent.factory import build_agent
    from ..bench.records import RecordLog, latest
    from ..bench.runner import check_run_config, parse_seeds, run_eval

    cfg = _config(config, planner, executor, replanner, no_planner, replan, cot, max_steps, token_budget,
                  allow_domain, headless, grammar, prefix_cache).with_overrides(eval={"judge": judge})
    s = _suite(suite, cfg, tasks_file)
    ids = _select(s, _csv(sites), _csv(task_ids), limit)
    if dry_run:
        _dry_run(s, ids, cfg)
        return
    problems = s.preflight(ids) if hasattr(s, "preflight") else []
    if problems:
        for p in problems:
            console.print(f"[red]{p}[/red]", highlight=False)
        console.print("(`--dry-run` lists what the selected tasks need)")
        raise typer.Exit(2)
    seed_list = parse_seeds(seeds) if getattr(s, "seeded", False) else [None]
    tags = dict(t.split("=", 1) for t in (tag or []) if "=" in t)
    out = output or Path("runs") / f"eval-{suite}-{time.strftime('%Y%m%d-%H%M%S')}"
    _check_models(cfg)
    check_writable(out)
    jobs = [(t, sd) for t in ids for sd in seed_list]
    agents = []
    if not ray:
        with console.status("loading models…"):
            agents.append(build_agent(cfg))

    def make_agent():
        """The first worker's agent was loaded above; each other worker loads its own models."""
        return agents.pop() if agents else build_agent(cfg)

    with OutputLock(out, "eval"):
        check_run_config(out, _fingerprint(suite, cfg), tags)
        log = RecordLog(out / "episodes.jsonl")
        already = len({(suite, t, sd) for t, sd in jobs} & log.done_keys())
        if already:
            console.print(f"resuming: {already} of {len(jobs)} episodes already done in {out}")
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TextColumn("{task.fields[last]}"), TimeElapsedColumn(), console=console) as progress:
            bar = progress.add_task(suite, total=len(jobs), completed=already, last="")

            def on_record(rec) -> None:
                mark = "✓" if rec.success else ("!" if rec.error else "✗")
                progress.update(bar, advance=1,
                                last=f"{mark} {rec.task_id}" + (f" seed {rec.seed}" if rec.seed is not None else ""))

            if ray:
                from ..bench.cluster import run_eval_ray

                here = tasks_file and Path(tasks_file).exists()  # actors may run elsewhere: an absolute path
                run_eval_ray(ray, cfg, suite, str(Path(tasks_file).resolve()) if here else tasks_file, jobs, out,
                             _settings(cfg), workers, on_record=on_record,
                             max_consecutive_errors=max_consecutive_errors or None)
            else:
                run_eval(s, make_agent, jobs, out, _settings(cfg), workers=workers, on_record=on_record,
                         max_consecutive_errors=max_consecutive_errors or None)
    wanted = {(suite, t, sd) for t, sd in jobs}
    records = [r for r in latest(log.read()) if r.key in wanted]
    console.print(summary_table(records))
    if suite != "miniwob":
        from ..bench.summary import load_run, to_rich

        console.print(to_rich([load_run(out)], {}))
    console.print(f"records: {log.path}\nreport:  planact report {out}")
    failed = [r for r in records if r.status == "error"]
    if failed and not allow_errors:
        console.print(f"[red]{len(failed)} of {len(records)} episodes ended in error (first: {failed[0].task_id}: "
                      f"{failed[0].error}); run again to retry them, or pass --allow-errors[/red]", highlight=False)
        raise typer.Exit(1)


def _check_models(cfg: PlanActConfig) -> None:
    """Every model the agent will load is checked before anything runs (UsageError otherwise)."""
    from ..llm.registry import check_spec

    for spec in dict.fromkeys(_used_models(cfg).values()):
        check_spec(spec)


def _used_models(cfg: PlanActConfig) -> dict[str, str]:
    """The spec of each role the agent will run (no planner: the executor alone)."""
    used = {"executor": cfg.models.executor}
    if not cfg.agent.no_planner:
        used["planner"] = cfg.models.planner
        if cfg.agent.replan in ("every-step", "adaptive"):
            used["replanner"] = cfg.models.replanner or cfg.models.planner
    return used


def _fingerprint(suite: str, cfg: PlanActConfig) -> dict:
    """What an eval's output folder is tied to: the settings and, for local fine-tuned models, their
    weights (`local:planact-miniwob` names other adapters once a new round ships)."""
    from ..llm.registry import weights_identity

    weights = {role: w for role, spec in _used_models(cfg).items() if (w := weights_identity(spec, role))}
    # what an episode's outcome depends on: not the synth, train or learn sections (a new setting there
    # must not orphan every eval folder)
    dump = cfg.model_dump(include={"models", "agent", "browser", "eval"})
    return {"suite": suite, **dump, **({"weights": weights} if weights else {})}


def _csv(text: Optional[str]) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()] if text else []


def _suite(name: str, cfg: PlanActConfig, tasks_file: Optional[str] = None):
    from ..bench.registry import get_suite

    try:
        return get_suite(name, cfg, tasks_file)
    except (ValueError, FileNotFoundError) as err:
        console.print(f"[red]{err}[/red]", highlight=False)
        raise typer.Exit(2) from None


def _select(s, sites: list[str], task_ids: list[str], limit: Optional[int]) -> list[str]:
    from ..bench.base import UnknownTaskError

    try:
        if hasattr(s, "select"):
            return s.select(sites or None, task_ids or None, limit)
        if sites:
            raise UnknownTaskError(f"--sites is not available for {s.name}")
        ids = task_ids or [t.id for t in s.tasks()]
        _check_tasks(s, ids)
        return ids[:limit] if limit else ids
    except UnknownTaskError as err:
        console.print(f"[red]{err}[/red]", highlight=False)
        raise typer.Exit(2) from None


def _dry_run(s, ids: list[str], cfg: PlanActConfig) -> None:
    from ..bench.registry import judge_spec

    if s.name in ("webarena-lite", "webarena"):
        from ..bench.webarena.dryrun import dry_run

        with console.status(f"checking {len(ids)} task configs…"):
            report = dry_run(s, ids)
        judge = judge_spec(cfg) + ("" if cfg.eval.judge else " (the planner's model; the harness used GPT-4: set --judge)")
        _print_dry_run(report, judge)
        if not report.ok:
            raise typer.Exit(1)
    elif s.name == "webvoyager":
        expired = [t for t in ids if s.expired(t)]
        refs = sum(1 for t in ids if s.reference(t))
        console.print(f"{len(ids)} WebVoyager tasks on {len({s.site_of(t) for t in ids})} live sites; "
                      f"{refs} have reference answers; {len(expired)} have dates before {s.today} (expired)")
        console.print(f"a real run needs: internet access to the sites, and a judge model ({judge_spec(cfg)})")
    else:
        console.print(f"{len(ids)} {s.name} tasks; nothing else is needed (runs offline)")


def _print_dry_run(r, judge: str) -> None:
    t = Table(title=f"{r.suite}: {r.tasks} task configs", title_justify="left")
    t.add_column("check")
    t.add_column("result")
    t.add_row("configs with problems", f"[red]{len(r.problems)}[/red]" if r.problems else "[green]0[/green]")
    t.add_row("scored, with a note", str(len(r.warnings)))
    t.add_row("by site", ", ".join(f"{k} {v}" for k, v in sorted(r.sites.items())))
    t.add_row("evaluators", ", ".join(f"{k} {v}" for k, v in r.eval_types.most_common()))
    t.add_row("rules", ", ".join(f"{k} {v}" for k, v in r.rules.most_common()))
    t.add_row("locators", ", ".join(f"{k} {v}" for k, v in r.locators.most_common())
              + (f" (JavaScript compiled in Chromium: {r.locators_compiled})" if r.locators_compiled else ""))
    console.print(t)
    need = Table(title="a real run needs", title_justify="left")
    need.add_column("what")
    need.add_column("for")
    for var, n in sorted(r.variables.items()):
        need.add_row(var + ("  [red](not set)[/red]" if var in r.unset else "  [green](set)[/green]"), f"{n} tasks")
    for combo, n in r.logins.most_common():
        need.add_row(f"login: {combo}", f"{n} tasks (once, then the saved storage state)")
    if r.judge_tasks:
        need.add_row(f"judge model: {judge}", f"{r.judge_tasks} tasks with fuzzy_match")
    if r.rest_api_tasks:
        need.add_row("the shop's REST API (admin account)", f"{r.rest_api_tasks} func: helpers")
    if r.reset_tasks:
        need.add_row("eval.webarena.reset_command", f"{r.reset_tasks} tasks marked require_reset")
    if r.multi_tab_tasks:
        need.add_row("several start tabs (only the first opens)", f"{r.multi_tab_tasks} tasks")
    console.print(need)
    for tid, problems in list(r.problems.items())[:20]:
        console.print(f"[red]task {tid}:[/red] " + "; ".join(problems), highlight=False)
    for tid, notes in list(r.warnings.items())[:20]:
        console.print(f"[yellow]task {tid}:[/yellow] " + "; ".join(notes), highlight=False)


def summary_table(records) -> Table:
    table = Table(title="planact eval", show_footer=True)
    by_task: dict[str, list] = {}
    for r in records:
        by_task.setdefault(r.task_id, []).append(r)
    cols = ["task", "episodes", "success", "mean reward", "steps", "LLM calls", "tokens/ep", "s/ep", "errors"]
    rows = []
    for task_id, rs in sorted(by_task.items()):
        rows.append(_row(task_id, rs))
    total = _row("all", records) if records else ["all"] + ["-"] * (len(cols) - 1)
    for i, c in enumerate(cols):
        table.add_column(c, footer=total[i], justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*row)
    return table


def _row(name: str, rs: list) -> list[str]:
    n = len(rs)
    rewards = [r.reward for r in rs if r.reward is not None]
    return [
        name, str(n), f"{sum(r.success for r in rs) / n:.0%}",
        f"{sum(rewards) / len(rewards):.3f}" if rewards else "-",
        f"{sum(r.steps for r in rs) / n:.1f}", f"{sum(r.llm_calls for r in rs) / n:.1f}",
        f"{sum(r.prompt_tokens + r.completion_tokens for r in rs) / n:.0f}", f"{sum(r.wall_s for r in rs) / n:.1f}",
        str(sum(1 for r in rs if r.error)),
    ]


@app.command()
def tasks(suite: str = typer.Option("miniwob", help="benchmark suite"),
          sites: Optional[str] = typer.Option(None, help="comma-separated sites"),
          config: Optional[Path] = typer.Option(None, help="YAML/JSON config file")) -> None:
    """List a suite's tasks (id, site, text)."""
    s = _suite(suite, PlanActConfig.load(config))
    ids = set(_select(s, _csv(sites), [], None))
    items = [t for t in s.tasks() if t.id in ids]
    for t in items:
        line = t.id if suite == "miniwob" else f"{t.id}\t{t.site}\t{t.description[:100]}"
        console.print(line, highlight=False, markup=False)
    console.print(f"[dim]{len(items)} tasks in {suite}[/dim]")


@app.command()
def rescore(
    runs: list[Path] = typer.Argument(..., help="finished WebArena / WebArena-Lite eval folders"),
    option: Optional[list[str]] = typer.Option(None, "--option", help="a named departure from the pinned "
                                               "harness (repeatable): " + ", ".join(SCORING_OPTIONS)),
    rejudge: bool = typer.Option(False, "--rejudge", help="ask the judge again instead of reusing its verdicts"),
    judge: Optional[str] = typer.Option(None, help="judge model spec for --rejudge (default: the run's)"),
    live: bool = typer.Option(False, "--live", help="re-open the sites for episodes the records cannot decide"),
    config: Optional[Path] = typer.Option(None, help="YAML config (sites, accounts) for --live / --rejudge"),
    label: Optional[str] = typer.Option(None, help="name of the new folder under RUN/rescored/"),
) -> None:
    """Score finished runs again, without the agent, from what their records kept (answer, final URL,
    located text, judge verdicts), under the pinned harness's rules or with named options. Writes
    RUN/rescored/<label>/ beside the original and says how many scores changed and why."""
    from ..bench.registry import judge_factory
    from ..bench.rescore import LiveRescorer, describe, rescore_run, safe_label
    from ..llm.registry import check_spec

    opts = list(option or [])
    for o in opts:
        _check_option(o)
    cfg = PlanActConfig.load(config).with_overrides(eval={"judge": judge})
    for run in runs:
        meta = json.loads((run / "run.json").read_text()) if (run / "run.json").exists() else {}
        suite_name = meta.get("config", {}).get("suite", "webarena-lite")
        the_judge = None
        if rejudge:
            spec = judge or meta.get("config", {}).get("eval", {}).get("judge") or cfg.models.planner
            check_spec(spec)
            the_judge = judge_factory(cfg.with_overrides(eval={"judge": spec}))()
        name = safe_label(label) if label else None
        if live:
            s = _suite(suite_name, cfg)
            with LiveRescorer(s, opts) as scorer:
                result = rescore_run(run, opts, the_judge, scorer, name)
        else:
            result = rescore_run(run, opts, the_judge, None, name)
        for line in describe(result):
            console.print(line, highlight=False)


def _check_option(name: str) -> None:
    from ..bench.webarena.rules import OPTIONS

    if name not in OPTIONS:
        raise UsageError(f"unknown scoring option {name!r} (known: {', '.join(OPTIONS)})")


@app.command()
def report(
    runs: list[Path] = typer.Argument(..., help="eval output folders (runs/eval-...)"),
    format: str = typer.Option("terminal", "--format", help="terminal, markdown or html"),
    out: Optional[Path] = typer.Option(None, "--out", help="write to this file instead of the terminal"),
    paper: Optional[Path] = typer.Option(None, help="YAML of paper numbers (default: the bundled Plan-and-Act ones)"),
) -> None:
    """The paper's tables from eval runs: success and steps per site, Table 1, LLM cost per role."""
    from ..bench.summary import ReportError, load_paper, load_run, to_html, to_markdown, to_rich

    try:
        loaded = [load_run(p) for p in runs]
    except ReportError as err:
        console.print(f"[red]{err}[/red]", highlight=False)
        raise typer.Exit(2) from None
    numbers = load_paper(paper)
    if format == "terminal":
        if out:
            raise typer.BadParameter("--out needs --format markdown or html")
        console.print(to_rich(loaded, numbers))
        return
    if format not in ("markdown", "html"):
        raise typer.BadParameter("--format is terminal, markdown or html")
    text = to_markdown(loaded, numbers) if format == "markdown" else to_html(loaded, numbers)
    if out:
        out.write_text(text, encoding="utf-8")
        console.print(f"wrote {out}")
    else:
        print(text)


@app.command()
def models() -> None:
    """List the model backends and whether each can be used here."""
    from ..llm.registry import describe_backends

    cfg = PlanActConfig()
    table = Table(title="model backends")
    for c in ("provider", "example spec", "usable", "detail"):
        table.add_column(c)
    for b in describe_backends():
        table.add_row(b.provider, b.example, "yes" if b.available else "no", b.detail)
    console.print(table)
    console.print(f"defaults: planner={cfg.models.planner} executor={cfg.models.executor} "
                  f"replanner={cfg.models.replanner or '(planner)'}", highlight=False)


def _register_groups() -> None:
    from .learn import learn_app
    from .synth import synth_app
    from .train import train_app

    app.add_typer(synth_app, name="synth")
    app.add_typer(train_app, name="train")
    app.add_typer(learn_app, name="learn")


_register_groups()


def main() -> None:
    """The `planact` command: bad input is one line on stderr and exit code 2, with nothing run."""
    import sys

    from ..errors import USAGE_EXIT, InfrastructureError, UsageError
    from ..llm.base import LLMError
    from ..web.browser import BrowserError

    try:
        app()
    except (UsageError, LLMError) as err:
        print(f"planact: error: {err}", file=sys.stderr)
        sys.exit(USAGE_EXIT)
    except (InfrastructureError, BrowserError) as err:  # e.g. Chromium will not start
        print(f"planact: {err}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
