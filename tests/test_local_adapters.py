"""Local checkpoints through transformers: the embedded GGUF converted to a Hugging Face checkpoint,
and a PEFT LoRA adapter on top of it loaded from `local:/path/to/adapter`."""

from __future__ import annotations

import json

import pytest

from planact.llm import ChatMessage, GenerationOptions, load_model
from planact.llm.embedded import embedded_gguf
from planact.llm.hf_backend import gguf_to_hf

pytestmark = pytest.mark.model


def test_peft_adapter_loads_on_its_base_and_generates(tmp_path):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    base_dir = gguf_to_hf(embedded_gguf("smollm2-135m"))
    assert (base_dir / "model.safetensors").exists()
    base = AutoModelForCausalLM.from_pretrained(str(base_dir), dtype=torch.float32)
    peft_model = get_peft_model(base, LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    adapter = tmp_path / "executor-lora"
    peft_model.save_pretrained(adapter)
    cfg = json.loads((adapter / "adapter_config.json").read_text())
    cfg["base_model_name_or_path"] = "local:smollm2-135m"  # what planact's training writes
    (adapter / "adapter_config.json").write_text(json.dumps(cfg))

    model = load_model(f"local:{adapter}")
    assert type(model).__name__ == "HFBackend"
    out = model.generate([ChatMessage("user", "Say hi")], GenerationOptions(max_tokens=8))
    assert out.usage.completion_tokens > 0 and out.usage.prompt_tokens > 0
    plain = load_model(f"hf:{base_dir}").generate([ChatMessage("user", "Say hi")], GenerationOptions(max_tokens=8))
    assert out.text != plain.text  # the (random, non-zero) adapter changes the output
