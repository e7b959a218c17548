"""The whole loop with the real embedded model on MiniWoB in a real browser, as a user runs it:
seeds -> queries -> trajectories (env ORM) -> grounded plans -> export -> LoRA training whose loss
falls -> the adapter loaded back by `planact run` -> resumed training -> merged checkpoint."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from planact.synth.records import RecordStore

pytest.importorskip("trl")


def _cli(*args: str, cwd: Path, timeout: int = 600) -> str:
    proc = subprocess.run([sys.executable, "-m", "planact.cli.main", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("e2e")


def test_pipeline_with_the_embedded_model(work):
    _cli("synth", "queries", "--out", "synth", "--suite", "miniwob", "--tasks", "click-test,focus-text",
         "--suite-seeds", "0-1", "--include-seeds", "--calls", "1", "--new-per-call", "3", "--seeds-per-call", "2",
         "--concurrency", "1", cwd=work)
    gen = RecordStore(work / "synth" / "queries.generated.jsonl").read()
    assert gen and all(r.provenance.model == "local:smollm2-135m" for r in gen)
    queries = RecordStore(work / "synth" / "queries.jsonl").read()
    assert all(r.data["filter"]["feasible"] is not None for r in queries if r.provenance.extra.get("source") != "seed")

    _cli("synth", "trajectories", "--out", "synth", "--no-planner", "--max-steps", "3", cwd=work)
    trajs = RecordStore(work / "synth" / "trajectories.jsonl").read()
    assert len(trajs) == len([q for q in queries if q.kept])
    assert all(t.data["orm"]["kind"] == "env" for t in trajs)
    kept = [t for t in trajs if t.kept]
    assert kept, "the embedded executor solves click-test and focus-text seeds with its grammar"
    assert all(t.data["orm"]["raw_reward"] == 1.0 for t in kept)

    _cli("synth", "plans", "--out", "synth", "--concurrency", "1", cwd=work)
    plans = RecordStore(work / "synth" / "plans.jsonl").read(kept_only=True)
    assert plans  # the grounding grammar only lets the small model write valid groundings
    for p in plans:
        covered = [a for step in p.data["plan"] for a in step["actions"]]
        assert covered == list(range(1, p.data["n_actions"] + 1))

    out = _cli("synth", "export", "--out", "synth", cwd=work)
    assert "training sets" in out
    stats = json.loads((work / "synth" / "export" / "stats.json").read_text())
    assert stats["roles"]["planner"]["examples"] == len(plans) >= 2
    assert stats["roles"]["executor"]["examples"] >= len(plans)


def test_lora_training_loss_falls_and_the_adapter_runs(work):
    _cli("train", "planner", "--data", "synth/export/chat/planner.jsonl", "--output", "runs/planner-lora",
         "--max-steps", "4", "--batch-size", "2", "--per-device-batch-size", "2", "--lr", "1e-3",
         "--eval-fraction", "0.3", "--save-steps", "2", cwd=work)
    info = json.loads((work / "runs" / "planner-lora" / "planact_train.json").read_text())["result"]
    assert info["steps"] == 4 and info["train_tokens"] > 0
    assert info["losses"][-1] < info["losses"][0]
    assert info["eval_loss_after"] < info["eval_loss_before"]
    adapter_cfg = json.loads((work / "runs" / "planner-lora" / "adapter_config.json").read_text())
    assert adapter_cfg["base_model_name_or_path"] == "local:smollm2-135m"
    # the llama.cpp copy of the adapter answers exactly as the PEFT adapter does on transformers
    assert info["llamacpp_adapter"] and (work / "runs" / "planner-lora" / "adapter.gguf").exists()
    from planact.llm import load_model
    from planact.llm.base import ChatMessage, GenerationOptions

    msgs = json.loads((work / "synth" / "export" / "chat" / "planner.jsonl").read_text().splitlines()[0])["messages"]
    msgs = [ChatMessage(m["role"], m["content"]) for m in msgs[:2]]
    opts = GenerationOptions(max_tokens=32, temperature=0.0)
    on_llamacpp = load_model(f"local:{work / 'runs' / 'planner-lora'}")
    assert type(on_llamacpp).__name__ == "LlamaCppBackend"
    tuned = on_llamacpp.generate(msgs, opts).text
    assert tuned == load_model(f"hf:{work / 'runs' / 'planner-lora'}").generate(msgs, opts).text

    _cli("run", "--suite", "miniwob", "--task", "click-test", "--seed", "7", "--planner", "local:runs/planner-lora",
         "--replan", "never", "--max-steps", "2", "--output", "runs/with-adapter", cwd=work)
    trace = json.loads((work / "runs" / "with-adapter" / "episodes" / "click-test-seed7" / "trace.json").read_text())
    assert trace["models"]["planner"] == "local:runs/planner-lora"
    assert trace["plans"][0]["parse_error"] is None and trace["plans"][0]["plan"]
    planner_calls = [c for c in trace["llm_calls"] if c["role"] == "planner"]
    assert planner_calls and all(c["model"] == "local:runs/planner-lora" for c in planner_calls)


def test_training_resumes_from_its_checkpoint_and_merges(work):
    _cli("train", "planner", "--data", "synth/export/chat/planner.jsonl", "--output", "runs/planner-lora",
         "--max-steps", "5", "--batch-size", "2", "--per-device-batch-size", "2", "--lr", "1e-3",
         "--eval-fraction", "0.3", "--save-steps", "2", cwd=work)
    info = json.loads((work / "runs" / "planner-lora" / "planact_train.json").read_text())["result"]
    assert info["resumed_from"] and info["resumed_from"].endswith("checkpoint-4") and info["steps"] == 5

    _cli("train", "merge", "--adapter", "runs/planner-lora", "--output", "runs/planner-merged", cwd=work)
    merged = work / "runs" / "planner-merged"
    assert (merged / "model.safetensors").exists() and (merged / "tokenizer_config.json").exists()
    from planact.llm import load_model
    from planact.llm.base import ChatMessage, GenerationOptions

    msgs = [ChatMessage("user", "Write a one-step plan to click the OK button.")]
    opts = GenerationOptions(max_tokens=24, temperature=0.0)
    a = load_model(f"hf:{work / 'runs' / 'planner-lora'}").generate(msgs, opts).text
    b = load_model(f"local:{merged}").generate(msgs, opts).text
    assert a == b  # the merged checkpoint is the adapter folded in
