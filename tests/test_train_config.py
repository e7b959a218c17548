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
    # batches of similar length (less padding) only when asked: transformers' LengthGroupedSampler
    assert lora.train_sampling_strategy == "random"
    grouped = build_args(TrainSettings(group_by_length=True), tmp_path, has_eval=False, n_train=10, cuda=False)
    assert grouped.train_sampling_strategy == "group_by_length"
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


def _lora(folder, layers: int, hidden: int, q_out: int, k_out: int, rank: int = 2):
    import numpy as np
    from safetensors.numpy import save_file

    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {}
    for i in range(layers):
        for proj, out in (("q_proj", q_out), ("k_proj", k_out)):
            key = f"base_model.model.model.layers.{i}.self_attn.{proj}"
            tensors[f"{key}.lora_A.weight"] = rng.standard_normal((rank, hidden)).astype("float32")
            tensors[f"{key}.lora_B.weight"] = rng.standard_normal((out, rank)).astype("float32")
    save_file(tensors, str(folder / "adapter_model.safetensors"))
    (folder / "adapter_config.json").write_text(json.dumps({"lora_alpha": 4, "r": rank}))
    return tensors


@pytest.mark.parametrize("model_type, arch, permuted", [("qwen2", "qwen2", False), ("llama", "llama", True)])
def test_adapters_are_converted_for_their_own_llama_cpp_architecture(tmp_path, model_type, arch, permuted):
    """llama.cpp refuses a LoRA whose architecture is not its base's: a Qwen2 adapter is written as qwen2
    with its rows as they are; a Llama one as llama with the q/k rows permuted as llama.cpp stores them."""
    gguf = pytest.importorskip("gguf")
    from planact.train.gguf_lora import convert_adapter

    tensors = _lora(tmp_path / "a", layers=2, hidden=16, q_out=16, k_out=8)  # heads of 4 rows
    base = tmp_path / "config.json"
    base.write_text(json.dumps({"model_type": model_type, "num_attention_heads": 4, "num_key_value_heads": 2,
                                "num_hidden_layers": 2}))
    out = convert_adapter(tmp_path / "a", base)
    reader = gguf.GGUFReader(str(out))
    field = reader.fields["general.architecture"]
    assert bytes(field.parts[field.data[0]]).decode() == arch
    written = {t.name: t.data for t in reader.tensors}
    b = written["blk.0.attn_q.weight.lora_b"].reshape(16, 2)
    same = bool((b == tensors["base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight"]).all())
    assert same is not permuted
    with pytest.raises(ValueError, match="supports"):
        base.write_text(json.dumps({"model_type": "gemma", "num_attention_heads": 4, "num_hidden_layers": 2}))
        convert_adapter(tmp_path / "a", base)


def test_preference_data_needs_labels_of_both_kinds_and_comes_shuffled(tmp_path):
    pytest.importorskip("trl")
    from planact.train.preference import build_args, labelled_rows, paired_rows

    def row(i: int, label) -> dict:
        r = {"messages": [{"role": "user", "content": f"u{i}"}, {"role": "assistant", "content": f"a{i}"}],
             "id": str(i)}
        return r if label is None else {**r, "label": label}

    path = tmp_path / "prefs.jsonl"
    path.write_text("".join(json.dumps(row(i, None)) + "\n" for i in range(2)))
    with pytest.raises(TrainDataError, match="no boolean 'label'"):
        labelled_rows(path, 0)
    path.write_text("".join(json.dumps(row(i, True)) + "\n" for i in range(4)))
    with pytest.raises(TrainDataError, match="both desirable and undesirable"):
        labelled_rows(path, 0)
    path.write_text("".join(json.dumps(row(i, i < 10)) + "\n" for i in range(20)))
    rows = labelled_rows(path, 0)
    assert rows == labelled_rows(path, 0) and [r["label"] for r in rows] != [i < 10 for i in range(20)]
    assert rows[0]["completion"][0]["role"] == "assistant" and rows[0]["prompt"][-1]["role"] == "user"
    # KTO's KL estimate pairs neighbours within a batch: fixed order, two or more a device
    args = build_args(TrainSettings(objective="kto", per_device_batch_size=1, batch_size=8, beta=0.2), tmp_path,
                      False, 20, False)
    assert args.train_sampling_strategy == "sequential" and args.per_device_train_batch_size == 2
    assert args.beta == 0.2 and args.per_device_train_batch_size * args.gradient_accumulation_steps == 8
    # DPO after SFT on the same settings: the same schedule, warmup, precision and evaluation cadence
    from planact.train.sft import build_args as sft_args

    ts = TrainSettings(objective="dpo", epochs=2, batch_size=8, per_device_batch_size=2, warmup_ratio=0.1, sft_weight=1.0)
    dpo, sft = build_args(ts, tmp_path, True, 64, False), sft_args(ts, tmp_path, True, 64, False)
    for name in ("gradient_accumulation_steps", "warmup_steps", "eval_steps", "bf16", "lr_scheduler_type", "seed"):
        assert getattr(dpo, name) == getattr(sft, name), name
    assert dpo.eval_steps == 16 // 4 and dpo.learning_rate == 5e-5 and dpo.loss_type == ["sigmoid", "sft"]


def test_the_train_command_refuses_an_unknown_objective():
    from typer.testing import CliRunner

    from planact.cli.main import app

    result = CliRunner().invoke(app, ["train", "executor", "--objective", "ppo"])
    assert result.exit_code == 2 and "--objective must be sft, dpo or kto" in result.output
