"""The model a training run starts from: a spec (`local:smollm2-135m`, a Hugging Face directory, a
GGUF file) turned into a trainable Hugging Face checkpoint directory."""

from __future__ import annotations

from pathlib import Path

from ..llm.hf_backend import gguf_to_hf
from ..llm.registry import resolve_local_path


def trainable_base(spec: str) -> tuple[Path, str]:
    """(HF directory to load, the spec to write into adapter_config.json so that
    `planact run --planner local:ADAPTER_DIR` finds the base again)."""
    target = spec
    for prefix in ("local:", "hf:"):
        if target.startswith(prefix):
            target = target[len(prefix):]
    path = resolve_local_path(target)
    if path.suffix == ".gguf":
        # a quantized GGUF cannot be trained as loaded: dequantize once into safetensors
        return gguf_to_hf(path), (f"local:{target}" if not Path(target).exists() else str(path.resolve()))
    if not (path / "config.json").exists():
        raise ValueError(f"{path} is not a Hugging Face model directory (no config.json)")
    return path, str(path.resolve())


def with_init_adapter(model, adapter: str):  # noqa: ANN001, ANN201 - a transformers model, a PeftModel
    """`model` wrapped with the LoRA adapter to train further from (its rank and targets), trainable."""
    from peft import PeftModel

    init = Path(adapter)
    if not (init / "adapter_config.json").exists():
        raise FileNotFoundError(f"{init} is not a LoRA adapter folder (no adapter_config.json)")
    return PeftModel.from_pretrained(model, str(init), is_trainable=True)
