"""planact synth queries | trajectories | plans | expand | augment | cot | replan | export | run | import."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..config import PlanActConfig
from .common import PhaseBars, console

synth_app = typer.Typer(add_completion=False, no_args_is_help=True,
                        help="The synthetic-data pipeline (Plan-and-Act §4): each stage appends JSONL records "
                             "with provenance under --out and resumes where it stopped.")

ConfigOpt = typer.Option(None, "--config", help="YAML/JSON config; its `synth:` section sets every stage")
OutOpt = typer.Option(None, "--out", help="pipeline folder (default runs/synth)")
ModelOpt = typer.Option(None, "--model", help="default model spec for the stage's model roles")
ConcOpt = typer.Option(None, "--concurrency", help="model calls at once (default 4)")
WorkersOpt = typer.Option(None, "--workers", help="parallel local browsers for rollouts (default 1)")
RayOpt = typer.Option(None, "--ray", help="spread units over Ray: auto, ray://HOST:PORT, or local (start one here)")
SeedOpt = typer.Option(None, "--seed", help="sampling seed (default 0)")
PromptDirOpt = typer.Option(None, "--prompt-dir", help="folder with your own <name>.<version>.yaml prompts")
MaxTokOpt = typer.Option(None, "--max-tokens", help="output tokens per call (default 512)")


def _cfg(config: Optional[Path], common: dict[str, Any], section: str | None = None,
         values: dict[str, Any] | None = None, **extra: dict[str, Any]) -> PlanActConfig:
    cfg = PlanActConfig.load(config)
    overrides: dict[str, dict[str, Any]] = {"synth": common, **extra}
    if section:
        overrides[f"synth.{section}"] = values or {}
    return cfg.with_overrides(**overrides)


def _common(out, model, concurrency, workers, ray, seed, prompt_dir, max_tokens) -> dict[str, Any]:
    return {"out": str(out) if out else None, "model": model, "concurrency": concurrency, "workers": workers,
            "ray": ray, "seed": seed, "prompt_dir": str(prompt_dir) if prompt_dir else None, "max_tokens": max_tokens}


def _run(cfg: PlanActConfig, stages: list[str]) -> None:
    from ..outdir import OutputLock
    from ..synth.context import StageContext
    from ..synth.pipeline import STAGES

    out = Path(cfg.synth.out)
    all_stats = []
    with OutputLock(out, "synth run"), Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=False) as progress:
        ctx = StageContext(cfg, progress=PhaseBars(progress))
        for name in stages:
            try:
                all_stats.extend(STAGES[name](ctx))
            except (FileNotFoundError, ValueError) as err:
                progress.stop()
                console.print(f"[red]{name}: {err}[/red]", highlight=False)
                _table(all_stats)
                raise typer.Exit(2) from None
    _table(all_stats)
    with (out / "synth_runs.jsonl").open("a", encoding="utf-8") as f:
        f.write(json.dumps({"time": time.time(), "stages": [s.as_dict() for s in all_stats],
                            "config": cfg.synth.model_dump()}) + "\n")
    if any(s.errors for s in all_stats):
        for s in all_stats:
            for msg in s.error_messages[:3]:
                console.print(f"[yellow]{s.stage}: redone next run: {msg}[/yellow]", highlight=False)


def _table(stats) -> None:
    if not stats:
        return
    t = Table(title="synth")
    for c in ("step", "units", "done before", "kept", "dropped (by reason)", "tokens in", "tokens out", "records/min",
              "errors"):
        t.add_column(c, justify="left" if c in ("step", "dropped (by reason)") else "right")
    for s in stats:
        dropped = ", ".join(f"{k} {v}" for k, v in sorted(s.dropped.items())) or "-"
        t.add_row(s.stage, str(s.units), str(s.skipped), str(s.kept), dropped, f"{s.prompt_tokens:,}",
                  f"{s.completion_tokens:,}", f"{s.records_per_min:.0f}", str(s.errors))
    console.print(t)


def _list(values: Optional[list[str]]) -> Optional[list[str]]:
    if not values:
        return None
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


@synth_app.command()
def queries(
    seeds: Optional[Path] = typer.Option(None, help="JSON/JSONL seed queries {intent, sites?, start_url?}"),
    suite: Optional[str] = typer.Option(None, help="take seeds from a suite's tasks, e.g. miniwob"),
    tasks: Optional[list[str]] = typer.Option(None, help="suite tasks (repeatable or comma-separated)"),
    suite_seeds: Optional[str] = typer.Option(None, help="suite seeds per task, e.g. 0-4"),
    generator: Optional[str] = typer.Option(None, help="model that writes queries (default --model)"),
    filter_model: Optional[str] = typer.Option(None, "--filter", help="feasibility filter model (default --model)"),
    no_filter: bool = typer.Option(False, "--no-filter", help="keep every non-duplicate query"),
    seeds_per_call: Optional[int] = typer.Option(None, help="seeds in context per call (default 5)"),
    new_per_call: Optional[int] = typer.Option(None, help="new queries per call (default 10)"),
    calls: Optional[int] = typer.Option(None, help="generation calls (default: target / new-per-call)"),
    target: Optional[int] = typer.Option(None, help="queries to aim for (default 100)"),
    dedupe_threshold: Optional[float] = typer.Option(None, help="ROUGE-L F1 that counts as a duplicate (0.7)"),
    include_seeds: bool = typer.Option(False, "--include-seeds", help="also keep the seeds as queries"),
    config: Optional[Path] = ConfigOpt, out: Optional[Path] = OutOpt, model: Optional[str] = ModelOpt,
    concurrency: Optional[int] = ConcOpt, workers: Optional[int] = WorkersOpt, ray: Optional[str] = RayOpt,
    seed: Optional[int] = SeedOpt, prompt_dir: Optional[Path] = PromptDirOpt, max_tokens: Optional[int] = MaxTokOpt,
) -> None:
    """Stage 1: new queries from seed queries; near-duplicates dropped; a filter keeps feasible ones."""
    cfg = _cfg(config, _common(out, model, concurrency, workers, ray, seed, prompt_dir, max_tokens), "queries", {
        "seeds": str(seeds) if seeds else None, "suite": suite, "tasks": _list(tasks), "suite_seeds": suite_seeds,
        "generator": generator, "filter": filter_model, "no_filter": no_filter or None,
        "seeds_per_call": seeds_per_call, "new_per_call": new_per_call, "calls": calls, "target": target,
        "dedupe_threshold": dedupe_threshold, "include_seeds": include_seeds or None})
    _run(cfg, ["queries"])


@synth_app.command()
def trajectories(
    queries_file: Optional[Path] = typer.Option(None, "--queries", help="queries (default OUT/queries.jsonl)"),
    orm: Optional[str] = typer.Option(None, help="outcome reward model: env (the suite's evaluator) or llm"),
    judge: Optional[str] = typer.Option(None, help="judge model for --orm llm (default --model)"),
    rollouts: Optional[int] = typer.Option(None, help="rollouts per query (default 1)"),
    limit: Optional[int] = typer.Option(None, help="only the first N queries"),
    planner: Optional[str] = typer.Option(None, help="actor's planner model"),
    executor: Optional[str] = typer.Option(None, help="actor's executor model"),
    no_planner: bool = typer.Option(False, "--no-planner", help="executor-only actor (as in the paper)"),
    replan: Optional[str] = typer.Option(None, help="actor replanning: every-step or never"),
    max_steps: Optional[int] = typer.Option(None, help="actor step limit"),
    grammar: Optional[bool] = typer.Option(None, "--grammar/--no-grammar"),
    config: Optional[Path] = ConfigOpt, out: Optional[Path] = OutOpt, model: Optional[str] = ModelOpt,
    concurrency: Optional[int] = ConcOpt, workers: Optional[int] = WorkersOpt, ray: Optional[str] = RayOpt,
    seed: Optional[int] = SeedOpt, prompt_dir: Optional[Path] = PromptDirOpt, max_tokens: Optional[int] = MaxTokOpt,
) -> None:
    """Stage 2: roll out each query with the actor agent; score every trajectory with the ORM."""
    cfg = _cfg(config, _common(out, model, concurrency, workers, ray, seed, prompt_dir, max_tokens), "trajectories", {
        "queries": str(queries_file) if queries_file else None, "orm": orm, "judge": judge, "rollouts": rollouts,
        "limit": limit}, models={"planner": planner, "executor": executor},
        agent={"no_planner": no_planner or None, "replan": replan, "max_steps": max_steps, "grammar": grammar})
    _run(cfg, ["trajectories"])


@synth_app.command()
def plans(
    teacher: Optional[str] = typer.Option(None, help="model that writes grounded plans (default --model)"),
    max_attempts: Optional[int] = typer.Option(None, help="tries per trajectory before dropping (default 3)"),
    config: Optional[Path] = ConfigOpt, out: Optional[Path] = OutOpt, model: Optional[str] = ModelOpt,
    concurrency: Optional[int] = ConcOpt, workers: Optional[int] = WorkersOpt, ray: Optional[str] = RayOpt,
    seed: Optional[int] = SeedOpt, prompt_dir: Optional[Path] = PromptDirOpt, max_tokens: Optional[int] = MaxTokOpt,
) -> None:
    """Stage 3: grounded plans reverse-engineered from successful trajectories, validated."""
    cfg = _cfg(config, _common(out, model, concurrency, workers, ray, seed, prompt_dir, max_tokens), "plans",
               {"teacher": teacher, "max_attempts": max_attempts})
    _run(cfg, ["plans"])


@synth_app.command()
def expand(
    seeds_per_call: Optional[int] = typer.Option(None, help="seed pairs per call (default 5)"),
    new_per_call: Optional[int] = typer.Option(None, help="new pairs per call (default 10)"),
    target: Optional[int] = typer.Option(None, help="stop at this many kept pairs (default 10000)"),
    calls: Optional[int] = typer.Option(None, help="at most this many calls"),
    config: Optional[Path] = ConfigOpt, out: Optional[Path] = OutOpt, model: Optional[str] = ModelOpt,
    concurrency: Optional[int] = ConcOpt, workers: Optional[int] = WorkersOpt, ray: Optional[str] = RayOpt,
    seed: Optional[int] = SeedOpt, prompt_dir: Optional[Path] = PromptDirOpt, max_tokens: Optional[int] = MaxTokOpt,
) -> None:
    """Stage 4: synthetic plan expansion, new query-plan pairs from seed pairs per site."""
    cfg = _cfg(config, _common(out, model, concurrency, workers, ray, seed, prompt_dir, max_tokens), "expand",
               {"seeds_per_call": seeds_per_call, "new_per_call": new_per_call, "target": target, "calls": calls})
    _run(cfg, ["expand"])


@synth_app.command()
def augment(
    planner: Optional[str] = typer.Option(None, help="planner to validate (default models.planner)"),
    judge: Optional[str] = typer.Option(None, help="judge of plans (default --model)"),
    val_fraction: Optional[float] = typer.Option(None, help="held-out share of the plan data (default 0.1)"),
    target: Optional[int] = typer.Option(None, help="new pairs to aim for (default 5000)"),
    config: Optional[Path] = ConfigOpt, out: Optional[Path] = OutOpt, model: Optional[str] = ModelOpt,
    concurrency: Optional[int] = ConcOpt, workers: Optional[int] = WorkersOpt, ray: Optional[str] = RayOpt,
    seed: Optional[int] = SeedOpt, prompt_dir: Optional[Path] = PromptDirOpt, max_tokens: Optional[int] = MaxTokOpt,
) -> None:
    """Stage 5: targeted augmentation where the planner fails on a validation split."""
    cfg = _cfg(config, _common(out, model, concurrency, workers, ray, seed, prompt_dir, max_tokens), "augment",
               {"planner": planner, "judge": judge, "val_fraction": val_fraction, "target": target})
    _run(cfg, ["augment"])


@synth_app.command()
def cot(
    teacher: Optional[str] = typer.Option(None, help="model that writes the reasoning (default --model)"),
    roles: Optional[list[str]] = typer.Option(None, help="planner, executor, replanner (default all)"),
    limit: Optional[int] = typer.Option(None, help="annotate at most N targets"),
    config: Optional[Path] = ConfigOpt, out: Optional[Path] = OutOpt, model: Optional[str] = ModelOpt,
    concurrency: Optional[int] = ConcOpt, workers: Optional[int] = WorkersOpt, ray: Optional[str] = RayOpt,
    seed: Optional[int] = SeedOpt, prompt_dir: Optional[Path] = PromptDirOpt, max_tokens: Optional[int] = MaxTokOpt,
) -> None:
    """Stage 6: reasoning written for known-correct plans and actions, checked for leaks."""
    cfg = _cfg(config, _common(out, model, concurrency, workers, ray, seed, prompt_dir, max_tokens), "cot",
               {"teacher": teacher, "roles": _list(roles), "limit": limit})
    _run(cfg, ["cot"])


@synth_app.command()
def replan(
    teacher: Optional[str] = typer.Option(None, help="model that writes remaining plans (default --model)"),
    max_points: Optional[int] = typer.Option(None, help="replanning points per trajectory (default all)"),
    config: Optional[Path] = ConfigOpt, out: Optional[Path] = OutOpt, model: Optional[str] = ModelOpt,
    concurrency: Optional[int] = ConcOpt, workers: Optional[int] = WorkersOpt, ray: Optional[str] = RayOpt,
    seed: Optional[int] = SeedOpt, prompt_dir: Optional[Path] = PromptDirOpt, max_tokens: Optional[int] = MaxTokOpt,
) -> None:
    """Stage 7: replanning examples from successful trajectories (plan for what remains)."""
    cfg = _cfg(config, _common(out, model, concurrency, workers, ray, seed, prompt_dir, max_tokens), "replan",
               {"teacher": teacher, "max_points": max_points})
    _run(cfg, ["replan"])


@synth_app.command()
def export(
    executor_plan: Optional[str] = typer.Option(None, help="plan in executor examples: grounded, actor or none"),
    cot_: bool = typer.Option(False, "--cot", help="answers with <think> reasoning from the cot stage"),
    export_out: Optional[Path] = typer.Option(None, "--export-out", help="default OUT/export"),
    config: Optional[Path] = ConfigOpt, out: Optional[Path] = OutOpt,
) -> None:
    """Stage 8: chat JSONL (datasets), ShareGPT (LLaMA-Factory), torchtune files and a dataset card."""
    cfg = _cfg(config, {"out": str(out) if out else None}, "export",
               {"executor_plan": executor_plan, "cot": cot_ or None, "out": str(export_out) if export_out else None})
    _run(cfg, ["export"])
    dest = Path(cfg.synth.export.out or Path(cfg.synth.out) / "export")
    console.print(f"training sets: {dest / 'chat'}  ·  card: {dest / 'README.md'}", highlight=False)


@synth_app.command("import")
def import_(
    path: Path = typer.Argument(..., help="the file to import"),
    fmt: str = typer.Option("webrl", "--format", help="webrl (WebArena-Lite / WebRL conversations) or plan-and-act"),
    site: Optional[str] = typer.Option(None, help="the site the trajectories come from (for balance and reports)"),
    config: Optional[Path] = ConfigOpt, out: Optional[Path] = OutOpt,
) -> None:
    """Other projects' trajectories as kept `trajectories` records under --out: then `synth plans`,
    `replan` and `export` make planner, replanner and executor data from them."""
    from ..outdir import OutputLock
    from ..synth.importers import ImportError_, import_file
    from ..synth.records import RecordStore

    cfg = _cfg(config, {"out": str(out) if out else None})
    dest = Path(cfg.synth.out)
    try:
        with OutputLock(dest, "synth import"):
            counts = import_file(path, fmt, RecordStore(dest / "trajectories.jsonl"), site)
    except ImportError_ as err:
        console.print(f"[red]{err}[/red]", highlight=False)
        raise typer.Exit(2) from None
    console.print(f"{counts['added']} trajectories imported into {dest / 'trajectories.jsonl'} "
                  f"({counts['items']} items; {counts['steps_of_others']} were earlier steps of another item, "
                  f"{counts['already']} already there, {counts['not_in_format']} not in the {fmt} format)",
                  highlight=False)


@synth_app.command("run")
def run_all(
    config: Path = typer.Option(..., "--config", help="pipeline YAML: models, agent (the actor) and synth sections"),
    stages: Optional[list[str]] = typer.Option(None, help="only these stages (default: synth.stages)"),
    out: Optional[Path] = OutOpt, model: Optional[str] = ModelOpt, concurrency: Optional[int] = ConcOpt,
    workers: Optional[int] = WorkersOpt, ray: Optional[str] = RayOpt, seed: Optional[int] = SeedOpt,
) -> None:
    """Run the stages in order (queries → … → export); a re-run resumes each one."""
    from ..config import SYNTH_STAGES

    cfg = _cfg(config, _common(out, model, concurrency, workers, ray, seed, None, None))
    chosen = _list(stages) or list(cfg.synth.stages)
    bad = [s for s in chosen if s not in SYNTH_STAGES]
    if bad:
        raise typer.BadParameter(f"unknown stage(s) {', '.join(bad)}; stages: {', '.join(SYNTH_STAGES)}")
    _run(cfg, chosen)
