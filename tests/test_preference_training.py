"""Training further from an adapter, and preference tuning, as a user runs it (`planact train executor --objective dpo`), with the real embedded
model, starting from the shipped executor adapter: the adapter moves away from its start, keeps its
shape, gets a llama.cpp copy, and runs with grammars. (KTO shares this path but for TRL's trainer
class; its data and arguments are checked in test_train_config.py.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import planact
from planact.agent.prompts import load_prompt

pytest.importorskip("trl")

SHIPPED = Path(planact.__file__).parent / "models" / "planact-miniwob" / "executor"
PAGE = """<div id="1">Enter the username "{u}" and the password "{p}" into the text fields and press login.</div>
<p id="4">
<label id="5">Username</label>
<input id="6" type="text"></p>
<p id="7">
<label id="8">Password</label>
<input id="9" type="password"></p>
<button id="10">Login</button>"""
TYPE = '# Element: the "Username" field\ndo(action="Type", argument="{u}", element="6")'
CLICK = '# Element: the "Login" button\ndo(action="Click", element="10")'


def _prompt(u: str, p: str) -> list[dict[str, str]]:
    task = f'Enter the username "{u}" and the password "{p}" into the text fields and press login.'
    system, user = load_prompt("executor", "v2").render(task=task, plan="", notes=[], history="", feedback=None,
                                                        url="file:///login-user.html", html=PAGE.format(u=u, p=p),
                                                        has_plan=False, cot=False)
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


USERS = [("ann", "x1"), ("bob", "k2"), ("cy", "p9"), ("dee", "z3")]


def _train(tmp_path: Path, objective: str, rows: list[dict]) -> Path:
    data, out = tmp_path / f"{objective}.jsonl", tmp_path / objective
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    proc = subprocess.run([sys.executable, "-m", "planact.cli.main", "train", "executor", "--objective", objective,
                           "--init-adapter", str(SHIPPED), "--data", str(data), "--output", str(out),
                           "--max-steps", "2", "--batch-size", "2", "--per-device-batch-size", "2",
                           "--max-length", "1024", "--eval-fraction", "0", "--lora-r", "8", "--lr", "0.001"],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert ("lora on" if objective == "sft" else f"lora+{objective}") in proc.stdout
    return out


def _moved(out: Path) -> None:
    from safetensors.numpy import load_file

    before, after = load_file(str(SHIPPED / "adapter_model.safetensors")), load_file(str(out / "adapter_model.safetensors"))
    assert set(after) == set(before)  # one adapter of the same shape (not the frozen reference copy)
    assert any(abs(after[k].astype("float32") - before[k].astype("float32")).max() > 0 for k in before)
    assert (out / "adapter.gguf").exists() and not (out / "ref").exists()
    meta = json.loads((out / "planact_train.json").read_text())
    assert meta["settings"]["init_adapter"] == str(SHIPPED) and meta["result"]["steps"] == 2  # the first warms up (lr 0)


def test_dpo_from_the_shipped_executor_moves_it_and_it_still_runs(tmp_path):
    rows = [{"prompt": _prompt(u, p), "chosen": [{"role": "assistant", "content": TYPE.format(u=u)}],
             "rejected": [{"role": "assistant", "content": CLICK}]} for u, p in USERS]
    out = _train(tmp_path, "dpo", rows)
    _moved(out)
    from planact.agent.grammars import action_grammar
    from planact.llm.base import ChatMessage, GenerationOptions
    from planact.llm.llamacpp_backend import LlamaCppBackend
    from planact.llm.registry import load_model
    from planact.web.actions import parse_action

    llm = load_model(f"local:{out}?prompt=v2")  # the llama.cpp copy of the tuned adapter, with a grammar
    assert isinstance(llm, LlamaCppBackend) and llm.prompt_version == "v2"
    system, user = (m["content"] for m in _prompt("eve", "q5"))
    text = llm.generate([ChatMessage("system", system), ChatMessage("user", user)],
                        GenerationOptions(max_tokens=64, grammar=action_grammar([1, 4, 5, 6, 7, 8, 9, 10]))).text
    assert parse_action(text).element in (1, 4, 5, 6, 7, 8, 9, 10)


def test_sft_from_the_shipped_executor_goes_on_from_its_adapter(tmp_path):
    """`--init-adapter` with SFT (`learn.train.<role>.start: best` without preference tuning): the
    adapter is trained further, not replaced by a fresh one from the base."""
    rows = [{"messages": _prompt(u, p) + [{"role": "assistant", "content": TYPE.format(u=u)}]} for u, p in USERS]
    _moved(_train(tmp_path, "sft", rows))
