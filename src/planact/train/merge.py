"""`planact train merge`: fold a LoRA adapter into its base and save a plain checkpoint (safetensors,
tokenizer with chat template) that vLLM, SGLang or `planact run --planner local:DIR` can load."""

from __future__ import annotations

import json
from pathlib import Path

from .base import trainable_base


def merge_adapter(adapter: str | Path, output: str | Path, dtype: str = "auto") -> Path:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    adapter, output = Path(adapter), Path(output)
    cfg_path = adapter / "adapter_config.json"
    if not cfg_path.exists():
        raise FileNotFoundError(f"{adapter} is not a PEFT adapter (no adapter_config.json)")
    base_spec = json.loads(cfg_path.read_text())["base_model_name_or_path"]
    base_dir, _ = trainable_base(base_spec)
    torch_dtype = {"auto": "auto", "float32": torch.float32, "bfloat16": torch.bfloat16,
                   "float16": torch.float16}[dtype]
    model = AutoModelForCausalLM.from_pretrained(str(base_dir), dtype=torch_dtype)
    merged = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
    tok_dir = adapter if (adapter / "tokenizer_config.json").exists() else base_dir
    output.mkdir(parents=True, exist_ok=True)
    merged.save_pretrained(str(output), safe_serialization=True)
    AutoTokenizer.from_pretrained(str(tok_dir)).save_pretrained(str(output))
    (output / "planact_merge.json").write_text(json.dumps({"adapter": str(adapter.resolve()), "base": base_spec},
                                                          indent=1))
    return output
