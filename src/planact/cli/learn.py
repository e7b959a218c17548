"""planact learn run | status: the self-improvement loop (rollouts -> filter -> plans -> SFT -> validation)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..config import PlanActConfig
from ..outdir import OutputLock
from .common import PhaseBars, console

learn_app = typer.Typer(add_completion=False, no_args_is_help=True,
                        help="The self-improvement loop: the policy's own rewarded rollouts train its planner, "
                             "executor and replanner, round after round, kept only when validation improves.")


def _load(config: Optional[Path], out: Optional[Path], **learn: Any) -> PlanActConfig:
    try:
        cfg = PlanActConfig.load(config)
        return cfg.with_overrides(learn={"out": str(out) if out else None, **learn})
    except (OSError, ValueError) as err:
        console.print(f"[red]{err}[/red]", highlight=False)
        raise typer.Exit(2) from None


def _tables(state) -> None:  # noqa: ANN001
    from ..learn.report import ROUND_HEAD, TASK_HEAD, round_rows, task_rows

    t = Table(title="rounds", title_justify="left")
    for i, h in enumerate(ROUND_HEAD):
        t.add_column(h, justify="left" if i in (0, 4) else "right")
    for row in round_rows(state):
        t.add_row(*row)
    console.print(t)
    if state.rounds:
        last = max(state.rounds, key=lambda x: x.round)
        tt = Table(title=f"round {last.round} by task", title_justify="left")
        for i, h in enumerate(TASK_HEAD):
            tt.add_column(h, justify="left" if i == 0 else "right")
        for row in task_rows(last):
            tt.add_row(*row)
        console.print(tt)


def _quiet_libraries() -> None:
    """The loop prints its own progress; the libraries' per-load bars and deprecation notes are noise."""
    import os
    import warnings

    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    warnings.filterwarnings("ignore", category=FutureWarning)
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError:
        pass


@learn_app.command("run")
def run(
    config: Path = typer.Option(..., "--config", help="YAML with a `learn:` section (e.g. configs/learn/miniwob.yaml)"),
    out: Optional[Path] = typer.Option(None, "--out", help="the loop's folder (default: learn.out)"),
    rounds: Optional[int] = typer.Option(None, help="stop after this round"),
    budget_hours: Optional[float] = typer.Option(None, help="stop starting rounds after this much loop time"),
) -> None:
    """Run the loop, or resume it where it stopped (same command)."""
    _quiet_libraries()
    from ..learn.loop import LearnError, Learner

    cfg = _load(config, out, rounds=rounds, budget_hours=budget_hours)
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=False) as progress:
        bars = PhaseBars(progress)

        def log(msg: str) -> None:
            progress.console.print(msg, highlight=False)
            if msg.startswith("round ") and msg.endswith(": rollouts"):
                bars.clear()  # a new round: its own bars

        def on_round(result, state) -> None:  # noqa: ANN001
            _tables(state)

        learner = Learner(cfg, progress=bars, log=log, on_round=on_round)
        try:
            with OutputLock(Path(cfg.learn.out), "learn run"):
                state = learner.run()
        except LearnError as err:
            progress.stop()
            console.print(f"[red]{err}[/red]", highlight=False)
            raise typer.Exit(2) from None
    best = f"round {state.best_round}" if state.best_round else "the base model"
    console.print(f"stopped: {state.finished}. best: {best}"
                  + (f" ({state.best_score:.1%} validation success"
                     + (f", {state.best_agent}" if state.best_agent else "") + ")" if state.best_score is not None else "")
                  + f"\nreport: {Path(cfg.learn.out) / 'report.html'}", highlight=False)
    if state.best_round:
        spec = f"local:{learner.bundle(state.best_round)}"
        alone = cfg.learn.validate_.agents.get(state.best_agent or "", {}).get("no_planner")
        console.print("use it: planact run " + (f"--executor {spec} --no-planner" if alone else
                                                f"--planner {spec} --executor {spec}"), highlight=False)


@learn_app.command()
def status(
    config: Optional[Path] = typer.Option(None, "--config"),
    out: Optional[Path] = typer.Option(None, "--out", help="the loop's folder (default: learn.out)"),
) -> None:
    """Where a loop stands: round, phase, best round, loop time, and the tables."""
    from ..learn.state import LearnState

    cfg = _load(config, out)
    folder = Path(cfg.learn.out)
    if not (folder / "state.json").exists():
        console.print(f"[red]no loop in {folder}[/red]", highlight=False)
        raise typer.Exit(2)
    st = LearnState.load(folder)
    best = f"round {st.best_round}" if st.best_round else "the base model"
    console.print(f"{folder}: round {st.round}, phase {st.phase}"
                  + (f" (finished: {st.finished})" if st.finished else " (resumes with the same `learn run`)")
                  + f"; best: {best}" + (f" ({st.best_score:.1%}" + (f", {st.best_agent}" if st.best_agent else "")
                                         + ")" if st.best_score is not None else "")
                  + f"; loop time {st.elapsed_s / 3600:.2f} h", highlight=False)
    if st.phase_seconds:
        console.print("this round so far: " + ", ".join(f"{k} {v / 60:.1f} min" for k, v in st.phase_seconds.items()))
    _tables(st)


def _shipped(name: str) -> Path:
    """A bundle shipped inside planact (`local:NAME`)."""
    return Path(__file__).resolve().parent.parent / "models" / name


@learn_app.command(name="ship")
def ship_cmd(
    config: Optional[Path] = typer.Option(None, "--config"),
    out: Optional[Path] = typer.Option(None, "--out", help="the loop's folder (default: learn.out)"),
    round_: Optional[int] = typer.Option(None, "--round", help="default: the best round"),
    name: str = typer.Option("planact-miniwob", help="bundle name (local:NAME when shipped inside planact)"),
    dest: Optional[Path] = typer.Option(None, help="target folder (default: planact's own models/NAME)"),
) -> None:
    """Copy a round's adapters (PEFT + llama.cpp, float16) with bundle.json and a model card."""
    from ..learn.ship import ship

    cfg = _load(config, out)
    target = dest or _shipped(name)
    try:
        path = ship(Path(cfg.learn.out), target, round_, name, str(config) if config else None)
    except (FileNotFoundError, ValueError) as err:
        console.print(f"[red]{err}[/red]", highlight=False)
        raise typer.Exit(2) from None
    size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    console.print(f"shipped {path} ({size / 1e6:.1f} MB): planact run --planner local:{path} --executor local:{path}",
                  highlight=False)


@learn_app.command(name="pack")
def pack_cmd(
    config: Optional[Path] = typer.Option(None, "--config"),
    out: Optional[Path] = typer.Option(None, "--out", help="the loop's folder (default: learn.out)"),
    to: Optional[Path] = typer.Option(None, "--to", help="the archive (default: OUT-state.tar.gz beside OUT)"),
    shipped: str = typer.Option("planact-miniwob", help="the shipped bundle whose round need not be packed"),
) -> None:
    """Write the loop's state into one archive to commit or copy (no traces; adapters only where needed)."""
    from ..learn.pack import pack

    cfg = _load(config, out)
    folder = Path(cfg.learn.out)
    archive = to or folder.with_name(folder.name + "-state.tar.gz")
    try:
        s = pack(folder, archive, _shipped(shipped))
    except FileNotFoundError as err:
        console.print(f"[red]{err}[/red]", highlight=False)
        raise typer.Exit(2) from None
    console.print(f"packed {folder} into {s.archive} ({s.files} files, {s.bytes / 1e6:.1f} MB)"
                  + (f"; adapters of {'; '.join(s.adapters)}" if s.adapters else "; no adapters")
                  + ("; left out: " + ", ".join(f"{k} ({v} files)" for k, v in s.left_out.items()) if s.left_out else ""),
                  highlight=False)


@learn_app.command(name="unpack")
def unpack_cmd(
    archive: Path = typer.Argument(..., help="an archive from `planact learn pack`"),
    config: Optional[Path] = typer.Option(None, "--config"),
    out: Optional[Path] = typer.Option(None, "--out", help="the loop's folder (default: learn.out)"),
    shipped: str = typer.Option("planact-miniwob", help="the shipped bundle to take the best round's adapters from"),
    force: bool = typer.Option(False, "--force", help="write over a loop already in OUT"),
) -> None:
    """Put a packed loop back, so that `planact learn run` resumes it."""
    import tarfile

    from ..learn.pack import unpack

    cfg = _load(config, out)
    folder = Path(cfg.learn.out)
    try:
        st = unpack(archive, folder, _shipped(shipped), force)
    except (FileExistsError, FileNotFoundError, ValueError, tarfile.TarError) as err:
        console.print(f"[red]{err}[/red]", highlight=False)
        raise typer.Exit(2) from None
    console.print(f"unpacked into {folder}: round {st.round}, phase {st.phase}; "
                  f"resume with: planact learn run" + (f" --config {config}" if config else ""), highlight=False)
