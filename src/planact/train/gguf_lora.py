"""A PEFT LoRA adapter of a Llama-family model as a llama.cpp LoRA file (`adapter.gguf`), so that a
trained adapter on a GGUF base runs on llama.cpp: faster on CPU than transformers, and with the GBNF
grammars that keep a small model's plans and actions well-formed. The registry loads an adapter
folder holding `adapter.gguf` on llama.cpp (base + LoRA) by itself.

llama.cpp stores Llama's (and Mistral's, converted as Llama) q/k projections with their rows permuted
for its rotary layout; the same permutation applies to the B matrices of their adapters
(P(BA) = (PB)A). Qwen2 keeps its own architecture name and its rows as they are: llama.cpp refuses an
adapter whose architecture differs from its base's."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

# Hugging Face model_type -> (llama.cpp architecture, whether q/k rows are permuted), as llama.cpp's own
# convert_hf_to_gguf writes the bases
ARCHS = {"llama": ("LLAMA", True), "mistral": ("LLAMA", True), "qwen2": ("QWEN2", False)}
_PEFT_KEY = re.compile(r"^base_model\.model\.(?P<module>.+)\.lora_(?P<ab>[AB])\.weight$")


def _permute(w: np.ndarray, n_head: int) -> np.ndarray:
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def convert_for_gguf_base(adapter: str | Path, base_spec: str, base_dir: str | Path) -> Path | None:
    """`adapter.gguf` beside a LoRA adapter whose base is a GGUF file (`base_spec`, as trained; `base_dir`:
    the Hugging Face folder it was trained from), so that it runs on llama.cpp; None for any other base.
    A failed conversion raises."""
    from ..llm.registry import resolve_local_path

    if resolve_local_path(base_spec.removeprefix("hf:")).suffix != ".gguf":
        return None
    return convert_adapter(adapter, Path(base_dir) / "config.json")


def convert_adapter(adapter: str | Path, base_config: str | Path, output: str | Path | None = None,
                    dtype: str = "float32") -> Path:
    """`base_config`: the base's Hugging Face config.json (heads and layers); `dtype`: float32 or
    float16 (half the size, what shipped adapters use)."""
    import gguf
    from safetensors.numpy import load_file

    adapter = Path(adapter)
    cfg = json.loads((adapter / "adapter_config.json").read_text())
    base = json.loads(Path(base_config).read_text())
    kind = base.get("model_type")
    if kind not in ARCHS:
        raise ValueError(f"llama.cpp LoRA conversion supports {', '.join(sorted(ARCHS))} bases, not {kind}")
    arch, permute = getattr(gguf.MODEL_ARCH, ARCHS[kind][0]), ARCHS[kind][1]
    if cfg.get("use_rslora") or cfg.get("use_dora"):
        raise ValueError("rsLoRA/DoRA adapters have no llama.cpp equivalent")
    n_head, n_kv = base["num_attention_heads"], base.get("num_key_value_heads", base["num_attention_heads"])
    names = gguf.get_tensor_name_map(arch, base["num_hidden_layers"])
    tensors = load_file(str(adapter / "adapter_model.safetensors"))
    out = Path(output) if output else adapter / "adapter.gguf"
    writer = gguf.GGUFWriter(str(out), gguf.MODEL_ARCH_NAMES[arch])
    writer.add_string(gguf.Keys.General.TYPE, "adapter")
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, float(cfg["lora_alpha"]))
    for key in sorted(tensors):
        m = _PEFT_KEY.match(key)
        if not m:
            raise ValueError(f"unexpected tensor in the adapter: {key}")
        module = m.group("module")
        name = names.get_name(module)
        if name is None:
            raise ValueError(f"no llama.cpp tensor for {module}")
        w = tensors[key].astype(np.float32)
        if permute and m.group("ab") == "B" and module.endswith("q_proj"):
            w = _permute(w, n_head)
        elif permute and m.group("ab") == "B" and module.endswith("k_proj"):
            w = _permute(w, n_kv)
        writer.add_tensor(f"{name}.weight.lora_{m.group('ab').lower()}", np.ascontiguousarray(w.astype(dtype)))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return out
