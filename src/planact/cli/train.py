"""planact train planner | executor | replanner | merge | mix."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..config import PlanActConfig
from .common import console

train_app = typer.Typer(add_completion=False, no_args_is_help=True,
                        help="Supervised fine-tuning (TRL + PEFT) of the planner, executor and replanner.")

ROLES = ("planner", "executor", "replanner")


def _make_command(role: str) -> None:
    def command(
        data: Optional[Path] = typer.Option(None, help=f"chat JSONL (default runs/synth/export/chat/{role}.jsonl)"),
        base: Optional[str] = typer.Option(None, help="base model spec (default local:smollm2-135m)"),
        output: Optional[Path] = typer.Option(None, help=f"output folder (default runs/{role}-lora or -full)"),
        full: bool = typer.Option(False, "--full", help="full fine-tuning instead of LoRA"),
        objective: Optional[str] = typer.Option(None, help=(
            "sft (default); dpo: preference pairs (prompt, chosen, rejected), e.g. the executor-dpo.jsonl "
            "`planact learn` writes; kto: rows labelled desirable/undesirable (`label`)")),
        init_adapter: Optional[Path] = typer.Option(None, help="LoRA adapter to start from (dpo/kto: also the reference)"),
        beta: Optional[float] = typer.Option(None, help="dpo/kto: how far from the reference (default 0.1)"),
        learning_rate: Optional[float] = typer.Option(None, "--lr", help="default 2e-4 (LoRA) / 2e-5 (full)"),
        batch_size: Optional[int] = typer.Option(None, help="effective batch size (default 32)"),
        per_device_batch_size: Optional[int] = typer.Option(None, help="micro-batch per device (default 4)"),
        epochs: Optional[float] = typer.Option(None, help="default 1"),
        max_steps: Optional[int] = typer.Option(None, help="stop after N optimizer steps"),
        max_length: Optional[int] = typer.Option(None, help="tokens per example (default 2048)"),
        packing: Optional[bool] = typer.Option(None, "--packing/--no-packing"),
        group_by_length: Optional[bool] = typer.Option(None, "--group-by-length/--no-group-by-length",
                                                       help="batch examples of similar length (less padding)"),
        gradient_checkpointing: Optional[bool] = typer.Option(None, "--gradient-checkpointing/--no-gradient-checkpointing"),
        eval_fraction: Optional[float] = typer.Option(None, help="held-out share for eval loss (default 0.1)"),
        save_steps: Optional[int] = typer.Option(None, help="checkpoint every N steps (default 50)"),
        lora_r: Optional[int] = typer.Option(None, help="LoRA rank (default 16)"),
        deepspeed: Optional[str] = typer.Option(None, help="DeepSpeed JSON, e.g. configs/deepspeed/zero3.json"),
        resume: Optional[bool] = typer.Option(None, "--resume/--no-resume", help="continue from the last checkpoint"),
        seed: Optional[int] = typer.Option(None),
        config: Optional[Path] = typer.Option(None, "--config", help="YAML/JSON with a `train:` section"),
    ) -> None:
        from ..train.data import TrainDataError
        from ..train.sft import train

        if objective not in (None, "sft", "dpo", "kto"):
            console.print(f"[red]--objective must be sft, dpo or kto, not {objective}[/red]", highlight=False)
            raise typer.Exit(2)
        cfg = PlanActConfig.load(config).with_overrides(train={
            "data": str(data) if data else None, "base": base, "output": str(output) if output else None,
            "method": "full" if full else None, "learning_rate": learning_rate, "batch_size": batch_size,
            "per_device_batch_size": per_device_batch_size, "epochs": epochs, "max_steps": max_steps,
            "max_length": max_length, "packing": packing, "group_by_length": group_by_length,
            "gradient_checkpointing": gradient_checkpointing,
            "eval_fraction": eval_fraction, "save_steps": save_steps, "lora_r": lora_r, "deepspeed": deepspeed,
            "resume": resume, "seed": seed, "objective": objective,
            "init_adapter": str(init_adapter) if init_adapter else None, "beta": beta})
        ts = cfg.train.model_copy()
        if not ts.data:
            ts.data = str(Path(cfg.synth.out) / "export" / "chat" / f"{role}.jsonl")
        if not ts.output:
            ts.output = f"runs/{role}-{ts.method if ts.objective == 'sft' else ts.objective}"

        def on_log(logs: dict) -> None:
            if "warning" in logs:
                console.print(f"[yellow]{logs['warning']}[/yellow]", highlight=False)
            elif "loss" in logs:
                margin = (f"  reward margin {logs['rewards/margins']:.3f}" if "rewards/margins" in logs else "")
                console.print(f"step {logs['step']}/{logs['max_steps']}  loss {logs['loss']:.4f}  "
                              f"lr {logs.get('learning_rate', 0):.2e}{margin}", highlight=False)
            elif "eval_loss" in logs:
                console.print(f"step {logs['step']}  eval loss {logs['eval_loss']:.4f}"
                              + (f"  ({logs['note']})" if logs.get("note") else ""), highlight=False)

        try:
            if ts.objective in ("dpo", "kto"):
                from ..train.preference import train_preference

                r = train_preference(role, ts, on_log)
            else:
                r = train(role, ts, on_log)
        except (TrainDataError, FileNotFoundError, ValueError) as err:
            console.print(f"[red]{err}[/red]", highlight=False)
            raise typer.Exit(2) from None
        ev = (f"eval loss {r.eval_loss_before:.4f} → {r.eval_loss_after:.4f}" if r.eval_loss_before is not None
              and r.eval_loss_after is not None else
              f"eval loss {r.eval_loss_after:.4f}" if r.eval_loss_after is not None else "no eval split")
        console.print(f"[bold]{role}[/bold] {r.method} on {r.base}: {r.train_examples} examples, {r.steps} steps, "
                      f"{r.train_tokens:,} tokens in {r.wall_s:.0f} s ({r.tokens_per_s:.0f} tokens/s), {ev}"
                      + (f", resumed from {r.resumed_from}" if r.resumed_from else ""), highlight=False)
        console.print(f"use it: planact run --{role} local:{r.output}   ·   merge: planact train merge "
                      f"--adapter {r.output} --output {r.output}-merged", highlight=False)

    command.__doc__ = f"Fine-tune the {role} on `planact synth export` data (LoRA by default)."
    train_app.command(role)(command)


for _role in ROLES:
    _make_command(_role)


@train_app.command()
def merge(
    adapter: Path = typer.Option(..., help="LoRA adapter folder from `planact train ...`"),
    output: Path = typer.Option(..., help="folder for the merged checkpoint"),
    dtype: str = typer.Option("auto", help="auto, float32, bfloat16 or float16"),
) -> None:
    """Merge a LoRA adapter into its base: a plain checkpoint vLLM can serve."""
    from ..train.merge import merge_adapter

    try:
        out = merge_adapter(adapter, output, dtype)
    except FileNotFoundError as err:
        console.print(f"[red]{err}[/red]", highlight=False)
        raise typer.Exit(2) from None
    console.print(f"merged checkpoint: {out}  ·  serve: vllm serve {out}  ·  run: planact run --planner local:{out}",
                  highlight=False)


@train_app.command()
def mix(
    adapters: list[Path] = typer.Argument(..., help="two or more LoRA adapter folders of one base"),
    output: Path = typer.Option(..., help="folder for the mixed adapter"),
    weights: Optional[str] = typer.Option(None, help="comma-separated, one per adapter (default: equal)"),
) -> None:
    """Average LoRA adapters of one base into one adapter (exact: ranks are stacked), e.g. two rounds of
    `planact learn`; on a GGUF base it also gets its llama.cpp copy."""
    from ..train.mix import mix_adapters

    try:
        w = [float(x) for x in weights.split(",")] if weights else [1.0 / len(adapters)] * len(adapters)
        out = mix_adapters(adapters, w, output)
    except (FileNotFoundError, ValueError) as err:
        console.print(f"[red]{err}[/red]", highlight=False)
        raise typer.Exit(2) from None
    console.print(f"mixed adapter: {out}  ·  run: planact run --executor local:{out}", highlight=False)
