"""`planact train planner|executor|replanner`: SFT with TRL's SFTTrainer, LoRA (PEFT) by default or
full fine-tuning, loss on the assistant's answer only, the base model's chat template, optional
packing and gradient checkpointing, evaluation loss on a held-out split (before and after), and
checkpoints that a re-run resumes from. The same code runs under `accelerate launch` on GPUs
(DeepSpeed ZeRO-3 for 70B-class models: see configs/)."""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..config import TrainSettings
from .base import trainable_base, with_init_adapter
from .data import TrainDataError, read_chat_jsonl, split, to_prompt_completion

ROLES = ("planner", "executor", "replanner")
OnLog = Callable[[dict[str, Any]], None]


@dataclass
class TrainResult:
    role: str
    output: str
    base: str
    method: str
    train_examples: int
    eval_examples: int
    steps: int
    train_tokens: int
    wall_s: float
    tokens_per_s: float
    eval_loss_before: float | None
    eval_loss_after: float | None
    losses: list[float] = field(default_factory=list)
    resumed_from: str | None = None
    llamacpp_adapter: str | None = None


def _last_checkpoint(output: Path) -> str | None:
    """The newest complete checkpoint. A run killed while saving leaves a checkpoint folder without
    its `trainer_state.json` (written last); such a folder is removed, and the one before is used."""
    import re
    import shutil

    if not output.is_dir():
        return None
    found = sorted((int(m.group(1)), p) for p in output.iterdir()
                   if p.is_dir() and (m := re.fullmatch(r"checkpoint-(\d+)", p.name)))
    for _, path in reversed(found):
        if (path / "trainer_state.json").exists():
            return str(path)
        shutil.rmtree(path, ignore_errors=True)
    return None


def warmup_steps(ratio: float, total_steps: int) -> int:
    """The paper's warmup (a share of the optimizer steps) in steps."""
    return math.ceil(ratio * total_steps) if ratio > 0 else 0


def use_bf16(ts: TrainSettings, cuda: bool) -> bool:
    """bf16 unless the settings say otherwise: where the GPU supports it, and always on CPU (autocast:
    faster here, see FACTS)."""
    if ts.bf16 is not None:
        return ts.bf16
    import torch

    return torch.cuda.is_bf16_supported() if cuda else True


def trainer_args(ts: TrainSettings, output: Path, *, has_eval: bool, n_train: int, cuda: bool, per_device: int,
                 learning_rate: float) -> dict[str, Any]:
    """The arguments every planact trainer shares (SFT, DPO, KTO): batch geometry, schedule, warmup,
    evaluation four times a run, checkpoints, precision, logging through on_log."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    grad_accum = max(1, ts.batch_size // (per_device * world))
    steps_per_epoch = max(1, math.ceil(n_train / (per_device * grad_accum * world)))
    total_steps = ts.max_steps if ts.max_steps > 0 else math.ceil(steps_per_epoch * ts.epochs)
    return dict(
        output_dir=str(output),
        per_device_train_batch_size=per_device,
        per_device_eval_batch_size=per_device,
        gradient_accumulation_steps=grad_accum,
        learning_rate=learning_rate,
        lr_scheduler_type=ts.lr_scheduler,
        # the ratio as a whole number of steps (as transformers 5 rounds it): transformers 4 reads a float
        # warmup_steps as 0, and its warmup_ratio is gone from 5
        warmup_steps=warmup_steps(ts.warmup_ratio, total_steps),
        num_train_epochs=ts.epochs,
        max_steps=ts.max_steps,
        max_length=ts.max_length,
        gradient_checkpointing=ts.gradient_checkpointing,
        eval_strategy="steps" if has_eval else "no",
        eval_steps=ts.eval_steps or max(1, total_steps // 4),
        save_strategy="steps",
        save_steps=ts.save_steps,
        save_total_limit=ts.save_total_limit,
        logging_steps=ts.logging_steps,
        logging_first_step=True,
        bf16=use_bf16(ts, cuda),
        seed=ts.seed,
        deepspeed=ts.deepspeed,
        use_cpu=not cuda,
        report_to="none",
        disable_tqdm=True,  # progress goes through on_log
        dataloader_pin_memory=cuda,
    )


def build_args(ts: TrainSettings, output: Path, has_eval: bool, n_train: int, cuda: bool):  # noqa: ANN201
    from trl import SFTConfig

    lr = ts.learning_rate if ts.learning_rate is not None else (2e-4 if ts.method == "lora" else 2e-5)
    common = trainer_args(ts, output, has_eval=has_eval, n_train=n_train, cuda=cuda,
                          per_device=max(1, min(ts.per_device_batch_size, ts.batch_size)), learning_rate=lr)
    return SFTConfig(**common, packing=ts.packing, completion_only_loss=True,
                     train_sampling_strategy="group_by_length" if ts.group_by_length else "random")


def train(role: str, ts: TrainSettings, on_log: OnLog | None = None) -> TrainResult:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if not ts.data:
        raise ValueError("give the training data: --data runs/synth/export/chat/<role>.jsonl")
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTTrainer

    output = Path(ts.output or f"runs/{role}-{ts.method}")
    rows = to_prompt_completion(read_chat_jsonl(ts.data))
    train_rows, eval_rows = split(rows, ts.eval_fraction, ts.seed)
    base_dir, base_spec = trainable_base(ts.base)
    cuda = torch.cuda.is_available()
    tokenizer = AutoTokenizer.from_pretrained(str(base_dir))
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    too_long = _too_long(tokenizer, train_rows, ts.max_length)
    if too_long == len(train_rows):
        raise TrainDataError(f"all {len(train_rows)} training examples are longer than --max-length {ts.max_length} "
                             "tokens: their answers would be cut off; raise --max-length")
    if too_long and on_log:
        on_log({"step": 0, "warning": f"{too_long} of {len(train_rows)} examples are longer than max_length "
                                      f"{ts.max_length}; their answers are cut off"})
    model = AutoModelForCausalLM.from_pretrained(str(base_dir), dtype=torch.bfloat16 if cuda else torch.float32)
    peft_config = None
    if ts.init_adapter:  # trained further from an earlier LoRA adapter
        model = with_init_adapter(model, ts.init_adapter)
    elif ts.method == "lora":
        from peft import LoraConfig

        targets: Any = ts.lora_targets if ts.lora_targets == "all-linear" else ts.lora_targets.split(",")
        peft_config = LoraConfig(r=ts.lora_r, lora_alpha=ts.lora_alpha, lora_dropout=ts.lora_dropout,
                                 target_modules=targets, task_type="CAUSAL_LM")
    args = build_args(ts, output, bool(eval_rows), len(train_rows), cuda)
    strip = lambda rs: [{k: r[k] for k in ("prompt", "completion")} for r in rs]  # noqa: E731

    trainer = SFTTrainer(model=model, args=args, train_dataset=Dataset.from_list(strip(train_rows)),
                         eval_dataset=Dataset.from_list(strip(eval_rows)) if eval_rows else None,
                         processing_class=tokenizer, peft_config=peft_config, callbacks=[log_callback(on_log)])
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)
    resume = _last_checkpoint(output) if ts.resume else None
    before = None
    if eval_rows and resume is None:
        before = trainer.evaluate()["eval_loss"]
        if on_log:
            on_log({"step": 0, "eval_loss": before, "note": "before training"})
    started = time.perf_counter()
    trainer.train(resume_from_checkpoint=resume)
    wall = time.perf_counter() - started
    after = trainer.evaluate()["eval_loss"] if eval_rows else None
    trainer.save_model(str(output))
    tokenizer.save_pretrained(str(output))
    state = trainer.state
    losses = [h["loss"] for h in state.log_history if "loss" in h]
    counted = [h["num_tokens"] for h in state.log_history if "num_tokens" in h]
    tokens = int(float(counted[-1])) if counted else 0
    if not tokens:
        tokens = _count_tokens(trainer, state.global_step, args)
    result = TrainResult(role=role, output=str(output), base=base_spec, method=ts.method,
                         train_examples=len(train_rows), eval_examples=len(eval_rows), steps=state.global_step,
                         train_tokens=tokens, wall_s=round(wall, 2), tokens_per_s=round(tokens / wall, 1) if wall else 0,
                         eval_loss_before=before, eval_loss_after=after, losses=losses, resumed_from=resume)
    if trainer.is_world_process_zero():
        result.llamacpp_adapter = _llamacpp_adapter(output, base_dir, base_spec, on_log)
        _finish(output, ts, result, state.log_history, base_spec, role)
    return result


def log_callback(on_log: OnLog | None):  # noqa: ANN201 - a transformers TrainerCallback
    """A callback that hands each log line (with the step and the step budget) to `on_log`."""
    from transformers import TrainerCallback

    class _Log(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):  # noqa: ANN001
            if on_log and logs and state.is_world_process_zero:
                on_log({"step": state.global_step, "max_steps": state.max_steps, **logs})

    return _Log()


def _llamacpp_adapter(output: Path, base_dir: Path, base_spec: str, on_log: OnLog | None) -> str | None:
    """A LoRA on a GGUF base also gets `adapter.gguf`, so `local:OUTPUT` runs on llama.cpp (with
    grammars). Any other base, or a failed conversion, leaves the transformers runtime."""
    if not (output / "adapter_config.json").exists():
        return None
    try:
        from .gguf_lora import convert_for_gguf_base

        converted = convert_for_gguf_base(output, base_spec, base_dir)
        return str(converted) if converted else None
    except Exception as err:  # noqa: BLE001 - the adapter itself is saved and usable on transformers
        if on_log:
            on_log({"step": 0, "warning": f"no llama.cpp copy of the adapter ({err}); it runs on transformers"})
        return None


def _too_long(tokenizer, rows: list[dict[str, Any]], max_length: int) -> int:
    """Examples whose prompt + answer exceed max_length (the trainer would truncate the answer)."""
    n = 0
    for r in rows:
        text = tokenizer.apply_chat_template(r["prompt"] + r["completion"], tokenize=False)
        if len(tokenizer(text, add_special_tokens=False)["input_ids"]) > max_length:
            n += 1
    return n


def _count_tokens(trainer, steps: int, args) -> int:
    """Tokens the optimizer saw: the tokenized training rows' lengths, cycled over the steps run."""
    lengths = [len(x) for x in trainer.train_dataset["input_ids"]]
    per_step = args.per_device_train_batch_size * args.gradient_accumulation_steps * max(1, args.world_size)
    seen = steps * per_step
    total = sum(lengths)
    full, rest = divmod(seen, len(lengths)) if lengths else (0, 0)
    return full * total + sum(lengths[:rest])


def _finish(output: Path, ts: TrainSettings, result: TrainResult, history: list, base_spec: str, role: str) -> None:
    cfg_path = output / "adapter_config.json"
    if cfg_path.exists():
        # the adapter names its base by spec, so `local:OUTPUT` loads base + adapter anywhere
        cfg = json.loads(cfg_path.read_text())
        cfg["base_model_name_or_path"] = base_spec
        cfg_path.write_text(json.dumps(cfg, indent=2))
    (output / "planact_train.json").write_text(json.dumps({
        "role": role, "result": asdict(result), "settings": ts.model_dump(), "log_history": history,
        "data": str(Path(ts.data).resolve()) if ts.data else None}, indent=1, default=str))
