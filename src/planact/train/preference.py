"""`planact train executor --objective dpo|kto`: preference tuning with TRL, from an SFT adapter
(`--init-adapter`) that is also the reference policy (TRL keeps a frozen copy of it), so the result
is one LoRA adapter of the same shape: it loads, ships and converts to llama.cpp like any SFT adapter.
Checkpoints resume as SFT's do.

- dpo (DPOTrainer): pairs, `{"prompt": [...], "chosen": [answer], "rejected": [answer]}`. Only where
  the two answers differ does the loss move the policy: an answer prefix both share (`# Element: the "`)
  is left alone. With `sft_weight` > 0 the chosen answer's likelihood is also kept up (RPO).
- kto (KTOTrainer): unpaired rows, `{"messages": [...], "label": true|false}` (Ethayarajh et al.,
  2024). Every token of an undesirable answer is pushed down, shared prefixes included.

Why: SFT only ever shows a small model what to do. The loop's rollouts also say what not to do, for
certain: an action after which the environment ended the episode in failure (clicking Submit before
filling the form) was wrong where it was taken."""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

from ..config import TrainSettings
from .base import trainable_base, with_init_adapter
from .data import TrainDataError, read_chat_jsonl, split
from .sft import ROLES, OnLog, TrainResult, _finish, _last_checkpoint, _llamacpp_adapter, log_callback, trainer_args


def labelled_rows(path: str | Path, seed: int) -> list[dict[str, Any]]:
    """Prompt-completion rows with their label, shuffled (KTO reads them in order: its KL estimate
    pairs each example with its neighbour in the batch, so desirable and undesirable must mix)."""
    rows = []
    for i, r in enumerate(read_chat_jsonl(path)):
        if not isinstance(r.get("label"), bool):
            raise TrainDataError(f"{path}: row {i + 1} has no boolean 'label' (true: desirable, false: undesirable)")
        rows.append({"prompt": r["messages"][:-1], "completion": r["messages"][-1:], "label": r["label"],
                     "id": r.get("id", str(i))})
    if all(r["label"] for r in rows) or not any(r["label"] for r in rows):
        raise TrainDataError(f"{path}: KTO needs both desirable and undesirable examples")
    random.Random(seed).shuffle(rows)
    return rows


def paired_rows(path: str | Path) -> list[dict[str, Any]]:
    """DPO pairs: a prompt (messages) and two answers to it, the chosen and the rejected."""
    import json

    p = Path(path)
    if not p.exists():
        raise TrainDataError(f"no preference data at {p}")
    rows = []
    for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
        except json.JSONDecodeError as err:
            raise TrainDataError(f"{p}:{n}: not JSON ({err})") from None
        if not (r.get("prompt") and r.get("chosen") and r.get("rejected")):
            raise TrainDataError(f"{p}:{n}: a pair needs 'prompt' (messages), 'chosen' and 'rejected' (answers)")
        if r["chosen"] == r["rejected"]:
            raise TrainDataError(f"{p}:{n}: the chosen and the rejected answer are the same")
        rows.append({"prompt": r["prompt"], "chosen": r["chosen"], "rejected": r["rejected"], "id": r.get("id", str(n))})
    if not rows:
        raise TrainDataError(f"{p} has no pairs")
    return rows


def build_args(ts: TrainSettings, output: Path, has_eval: bool, n_train: int, cuda: bool):  # noqa: ANN201
    from trl import DPOConfig, KTOConfig

    per_device = max(1, min(ts.per_device_batch_size, ts.batch_size))
    if ts.objective == "kto":
        per_device = max(2, per_device)  # KTO's KL estimate needs two or more rows a batch
    lr = ts.learning_rate if ts.learning_rate is not None else 5e-5
    common = {**trainer_args(ts, output, has_eval=has_eval, n_train=n_train, cuda=cuda, per_device=per_device,
                             learning_rate=lr), "beta": ts.beta}
    if ts.objective == "dpo":
        losses = ["sigmoid", "sft"] if ts.sft_weight > 0 else ["sigmoid"]
        return DPOConfig(**common, loss_type=losses, loss_weights=[1.0, ts.sft_weight] if ts.sft_weight > 0 else None)
    # KTO's KL estimate pairs each row with its neighbour in a fixed-order batch (rows come shuffled)
    return KTOConfig(**common, desirable_weight=ts.desirable_weight, undesirable_weight=ts.undesirable_weight,
                     train_sampling_strategy="sequential")


def train_preference(role: str, ts: TrainSettings, on_log: OnLog | None = None) -> TrainResult:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if ts.objective not in ("dpo", "kto"):
        raise ValueError(f"preference tuning is --objective dpo or kto, not {ts.objective}")
    if not ts.data:
        raise ValueError("give the preference data: --data a JSONL of pairs (dpo) or of labelled rows (kto)")
    if ts.method != "lora":
        raise ValueError(f"--objective {ts.objective} trains a LoRA adapter (on the one --init-adapter gives, if any)")
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.trainer_callback import PrinterCallback
    from trl import DPOTrainer, KTOTrainer

    dpo = ts.objective == "dpo"
    output = Path(ts.output or f"runs/{role}-{ts.objective}")
    rows = paired_rows(ts.data) if dpo else labelled_rows(ts.data, ts.seed)
    base_dir, base_spec = trainable_base(ts.base)
    cuda = torch.cuda.is_available()
    tokenizer = AutoTokenizer.from_pretrained(str(base_dir))
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    rows, dropped = _fitting(tokenizer, rows, ts.max_length)
    if dropped and on_log:
        on_log({"step": 0, "warning": f"{dropped} examples longer than max_length {ts.max_length} left out"})
    if not rows:
        raise TrainDataError(f"every example is longer than max_length {ts.max_length}")
    train_rows, eval_rows = split(rows, ts.eval_fraction, ts.seed)
    if not dpo and len({r["label"] for r in train_rows}) < 2:
        raise TrainDataError("after the split, the training rows are all desirable or all undesirable")
    model = AutoModelForCausalLM.from_pretrained(str(base_dir), dtype=torch.bfloat16 if cuda else torch.float32)
    peft_config = None
    if ts.init_adapter:
        # trained further from the SFT adapter; TRL copies it into a frozen "ref" adapter, the reference policy
        model = with_init_adapter(model, ts.init_adapter)
    else:
        targets: Any = ts.lora_targets if ts.lora_targets == "all-linear" else ts.lora_targets.split(",")
        peft_config = LoraConfig(r=ts.lora_r, lora_alpha=ts.lora_alpha, lora_dropout=ts.lora_dropout,
                                 target_modules=targets, task_type="CAUSAL_LM")
    args = build_args(ts, output, bool(eval_rows), len(train_rows), cuda)
    fields = ("prompt", "chosen", "rejected") if dpo else ("prompt", "completion", "label")
    keep = lambda rs: [{k: r[k] for k in fields} for r in rs]  # noqa: E731
    trainer_class = DPOTrainer if dpo else KTOTrainer

    trainer = trainer_class(model=model, args=args, train_dataset=Dataset.from_list(keep(train_rows)),
                            eval_dataset=Dataset.from_list(keep(eval_rows)) if eval_rows else None,
                            processing_class=tokenizer, peft_config=peft_config, callbacks=[log_callback(on_log)])
    trainer.remove_callback(PrinterCallback)
    resume = _last_checkpoint(output) if ts.resume else None
    started = time.perf_counter()
    trainer.train(resume_from_checkpoint=resume)
    wall = time.perf_counter() - started
    after = trainer.evaluate().get("eval_loss") if eval_rows else None
    trained = trainer.model
    if hasattr(trained, "peft_config"):
        trained.save_pretrained(str(output), selected_adapters=["default"])  # not the frozen reference copy
    else:
        trainer.save_model(str(output))
    tokenizer.save_pretrained(str(output))
    state = trainer.state
    losses = [h["loss"] for h in state.log_history if "loss" in h]
    tokens = _tokens_seen(trainer, state.global_step, args)
    result = TrainResult(role=role, output=str(output), base=base_spec, method=f"lora+{ts.objective}",
                         train_examples=len(train_rows), eval_examples=len(eval_rows), steps=state.global_step,
                         train_tokens=tokens, wall_s=round(wall, 2),
                         tokens_per_s=round(tokens / wall, 1) if wall else 0, eval_loss_before=None,
                         eval_loss_after=after, losses=losses, resumed_from=resume)
    if trainer.is_world_process_zero():
        result.llamacpp_adapter = _llamacpp_adapter(output, base_dir, base_spec, on_log)
        _finish(output, ts, result, state.log_history, base_spec, role)
    return result


def _fitting(tokenizer, rows: list[dict[str, Any]], max_length: int) -> tuple[list[dict[str, Any]], int]:  # noqa: ANN001
    """Rows whose prompt + answer(s) fit in max_length (a cut answer would be judged on a part of itself)."""
    kept = []
    for r in rows:
        answers = [r[k] for k in ("completion", "chosen", "rejected") if k in r]
        texts = [tokenizer.apply_chat_template(r["prompt"] + a, tokenize=False) for a in answers]
        if all(len(tokenizer(t, add_special_tokens=False)["input_ids"]) <= max_length for t in texts):
            kept.append(r)
    return kept, len(rows) - len(kept)


def _tokens_seen(trainer, steps: int, args) -> int:  # noqa: ANN001
    """Tokens of the (prompt, answers) rows the optimizer saw, cycled over the steps run."""
    ds = trainer.train_dataset
    answers = [k for k in ("completion_ids", "chosen_ids", "rejected_ids") if k in ds.column_names]
    lengths = [len(row["prompt_ids"]) + sum(len(row[k]) for k in answers) for row in ds]
    seen = steps * args.per_device_train_batch_size * args.gradient_accumulation_steps * max(1, args.world_size)
    if not lengths:
        return 0
    full, rest = divmod(seen, len(lengths))
    return full * sum(lengths) + sum(lengths[:rest])
