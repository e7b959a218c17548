"""`planact train mix`: the weighted average of two LoRA adapters of the embedded base is exact, and the
mixed adapter runs on llama.cpp with the action grammar like any trained one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import planact

pytest.importorskip("peft")

SHIPPED = Path(planact.__file__).parent / "models" / "planact-miniwob" / "executor"
MODULE = "base_model.model.model.layers.5.mlp.down_proj"


def _delta(folder: Path, module: str = MODULE) -> np.ndarray:
    from safetensors.numpy import load_file

    t = load_file(str(folder / "adapter_model.safetensors"))
    cfg = json.loads((folder / "adapter_config.json").read_text())
    b, a = t[f"{module}.lora_B.weight"].astype(np.float32), t[f"{module}.lora_A.weight"].astype(np.float32)
    return b @ a * cfg["lora_alpha"] / cfg["r"]


def _other(tmp_path: Path) -> Path:
    """A second adapter of the same base: the shipped one with its B matrices scaled and sign-flipped in part."""
    from safetensors.numpy import load_file, save_file

    other = tmp_path / "other"
    shutil.copytree(SHIPPED, other)
    t = load_file(str(other / "adapter_model.safetensors"))
    rng = np.random.default_rng(0)
    t = {k: (v * rng.uniform(-2, 2, size=(1, v.shape[1])).astype(v.dtype) if ".lora_B." in k else v)
         for k, v in t.items()}
    save_file(t, str(other / "adapter_model.safetensors"))
    return other


def test_a_mix_is_the_weighted_sum_of_the_adapters_updates(tmp_path):
    from planact.train.mix import mix_adapters

    other = _other(tmp_path)
    out = mix_adapters([SHIPPED, other], [0.25, 0.75], tmp_path / "mix")
    want = 0.25 * _delta(SHIPPED) + 0.75 * _delta(other)
    assert not np.allclose(_delta(SHIPPED), _delta(other), atol=1e-4)
    assert np.allclose(_delta(out), want, atol=1e-5)
    meta = json.loads((out / "planact_mix.json").read_text())
    assert meta["weights"] == [0.25, 0.75] and meta["rank"] == 2 * json.loads(
        (SHIPPED / "adapter_config.json").read_text())["r"]
    assert json.loads((out / "adapter_config.json").read_text())["base_model_name_or_path"] == "local:smollm2-135m"
    assert (out / "adapter.gguf").stat().st_size > 0 and not out.with_name("mix.tmp").exists()


def test_adapters_of_different_bases_are_refused(tmp_path):
    from planact.train.mix import mix_adapters

    other = tmp_path / "other"
    shutil.copytree(SHIPPED, other)
    cfg = json.loads((other / "adapter_config.json").read_text())
    cfg["base_model_name_or_path"] = str(tmp_path)
    (other / "adapter_config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match="different bases"):
        mix_adapters([SHIPPED, other], [0.5, 0.5], tmp_path / "mix")
    with pytest.raises(ValueError, match="one weight each"):
        mix_adapters([SHIPPED, other], [1.0], tmp_path / "mix")


def test_the_mixed_adapter_answers_on_llamacpp_with_the_grammar(tmp_path):
    pytest.importorskip("llama_cpp")
    from planact.agent.grammars import action_grammar
    from planact.agent.prompts import load_prompt
    from planact.llm.base import ChatMessage, GenerationOptions
    from planact.llm.llamacpp_backend import LlamaCppBackend
    from planact.llm.registry import load_model
    from planact.train.mix import mix_adapters
    from planact.web.actions import parse_action

    out = mix_adapters([SHIPPED, _other(tmp_path)], [0.5, 0.5], tmp_path / "mix")
    llm = load_model(f"local:{out}?prompt=v2")
    assert isinstance(llm, LlamaCppBackend) and llm.prompt_version == "v2"
    page = '<div id="1">Click on the "No" button.</div>\n<button id="2">No</button>\n<button id="3">Yes</button>'
    system, user = load_prompt("executor", "v2").render(
        task='Click on the "No" button.', plan="", notes=[], history="nothing", feedback=None, url="file:///x.html",
        html=page, cot=False, has_plan=False)
    reply = llm.generate([ChatMessage("system", system), ChatMessage("user", user)],
                         GenerationOptions(max_tokens=60, grammar=action_grammar([1, 2, 3], notes=False, exit_=False)))
    assert parse_action(reply.text).element in (1, 2, 3)  # well-formed: the grammar held on the mixed adapter
