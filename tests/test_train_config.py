"""Training settings and data checks that need no model."""

from __future__ import annotations

import json

import pytest

from planact.config import PlanActConfig, TrainSettings
from planact.train.data import TrainDataError, read_chat_jsonl, split, to_prompt_completion


def test_full_fine_tuning_defaults_are_the_papers(tmp_path):
    pytest.importorskip("trl")
    from planact.train.sft import build_args

    ts = TrainSettings(method="full")
    args = build_args(ts, tmp_path, has_eval=True, n_train=320, cuda=False)
    # the paper's 10% warmup, as whole steps (10 steps of 32 examples: 1), which every transformers reads
    assert args.learning_rate == 2e-5 and args.lr_scheduler_type == "cosine" and args.warmup_steps == 1
    assert build_args(TrainSettings(max_steps=45), tmp_path, False, 10, False).warmup_steps == 5
    assert args.per_device_train_batch_size * args.gradient_accumulation_steps == 32
    assert args.num_train_epochs == 1.0 and args.completion_only_loss is True
    lora = build_args(TrainSettings(), tmp_path, has_eval=False, n_train=10, cuda=False)
    assert lora.learning_rate == 2e-4 and lora.eval_strategy == "no"
    # the shipped 70B recipe: full, ZeRO-3, gradient checkpointing
    cfg = PlanActConfig.load("configs/train/planner-70b-full.yaml")
    assert cfg.train.method == "full" and cfg.train.deepspeed == "configs/deepspeed/zero3.json"
    ds = json.loads(open(cfg.train.deepspeed).read())
    assert ds["zero_optimization"]["stage"] == 3


def test_training_data_is_checked_and_split(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"messages": [{"role": "user", "content": "hi"}]}) + "\n")
    with pytest.raises(TrainDataError, match="ending with an assistant message"):
        read_chat_jsonl(bad)
    with pytest.raises(TrainDataError, match="planact synth export"):
        read_chat_jsonl(tmp_path / "missing.jsonl")
    rows = [{"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": f"u{i}"},
                          {"role": "assistant", "content": f"a{i}"}], "id": str(i)} for i in range(10)]
    pc = to_prompt_completion(rows)
    assert pc[0]["prompt"][-1]["content"] == "u0" and pc[0]["completion"] == [{"role": "assistant", "content": "a0"}]
    train, held = split(pc, 0.2, seed=1)
    assert len(held) == 2 and len(train) == 8 and not ({r["id"] for r in train} & {r["id"] for r in held})
    assert split(pc, 0.2, seed=1) == (train, held)  # the same split every time
