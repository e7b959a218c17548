"""`planact train mix`: a weighted average of LoRA adapters of one base, as one adapter (a model soup of
fine-tunes, as WiSE-FT interpolates a tuned model with the one it started from).

The adapters are combined with PEFT's `add_weighted_adapter(combination_type="cat")`: the new adapter's
A and B stack the inputs' (rank = the sum of their ranks), so its update is exactly sum_i w_i * B_i A_i *
scale_i, not an approximation. On a GGUF base it also gets `adapter.gguf`, so `local:OUTPUT` runs on
llama.cpp with grammars like any trained adapter."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

from .base import trainable_base
from .gguf_lora import convert_for_gguf_base

_TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "special_tokens_map.json")


def mix_adapters(adapters: list[str | Path], weights: list[float], output: str | Path) -> Path:
    """`output` holding sum_i weights[i] * adapters[i] as one PEFT LoRA (written to a temporary folder
    first: an interrupted mix leaves no half-written adapter)."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    paths = [Path(a) for a in adapters]
    if len(paths) < 2 or len(paths) != len(weights):
        raise ValueError(f"mixing takes two or more adapters and one weight each ({len(paths)} adapters, "
                         f"{len(weights)} weights)")
    configs = []
    for p in paths:
        if not (p / "adapter_config.json").exists():
            raise FileNotFoundError(f"{p} is not a LoRA adapter folder (no adapter_config.json)")
        configs.append(json.loads((p / "adapter_config.json").read_text()))
    bases = {c["base_model_name_or_path"] for c in configs}
    if len(bases) != 1:
        raise ValueError(f"the adapters have different bases ({', '.join(sorted(bases))}): they cannot be mixed")
    base_spec = bases.pop()
    base_dir, _ = trainable_base(base_spec)
    model = AutoModelForCausalLM.from_pretrained(str(base_dir), dtype=torch.float32)
    names = [f"a{i}" for i in range(len(paths))]
    peft_model = PeftModel.from_pretrained(model, str(paths[0]), adapter_name=names[0])
    for name, path in zip(names[1:], paths[1:]):
        peft_model.load_adapter(str(path), adapter_name=name)
    peft_model.add_weighted_adapter(names, [float(w) for w in weights], "mix", combination_type="cat")
    output = Path(output)
    tmp = output.with_name(output.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    with warnings.catch_warnings():  # PEFT's notes on the active adapter and the base's config (a GGUF spec)
        warnings.simplefilter("ignore", UserWarning)
        for name in names:
            peft_model.delete_adapter(name)
        peft_model.save_pretrained(str(tmp), selected_adapters=["mix"])
    saved = tmp / "mix" if (tmp / "mix" / "adapter_config.json").exists() else tmp
    cfg = json.loads((saved / "adapter_config.json").read_text())
    cfg["base_model_name_or_path"] = base_spec  # as trained: `local:OUTPUT` finds its base again
    (saved / "adapter_config.json").write_text(json.dumps(cfg, indent=2))
    for name in _TOKENIZER_FILES:  # the chat template and tokenizer an input adapter carries
        found = next((p / name for p in paths if (p / name).exists()), None)
        if found is not None:
            shutil.copy2(found, saved / name)
    (saved / "planact_mix.json").write_text(json.dumps(
        {"adapters": [str(p.resolve()) for p in paths], "weights": list(weights), "base": base_spec,
         "combination": "cat", "rank": cfg.get("r")}, indent=1))
    convert_for_gguf_base(saved, base_spec, base_dir)  # adapter.gguf: the mix runs on llama.cpp too
    if output.exists():
        shutil.rmtree(output)
    saved.rename(output)
    shutil.rmtree(tmp, ignore_errors=True)  # the staging folder when PEFT saved into a subfolder of it
    return output

