"""Hugging Face transformers runtime: a model directory, a GGUF file, or a PEFT LoRA adapter."""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path

from .base import ChatMessage, Generation, GenerationOptions, LLMError, Usage
from .embedded import cache_dir


def gguf_to_hf(gguf: Path) -> Path:
    """Dequantize a GGUF into a plain safetensors checkpoint once, cached.

    transformers loads GGUF files dequantized, but such a model can neither be trained nor saved
    as loaded; rebuilding it from its config and state dict gives a normal checkpoint (identical
    logits) that reloads in a fraction of a second and that PEFT can train.
    """
    out = cache_dir() / "hf" / gguf.stem
    if (out / "config.json").exists() and (out / "model.safetensors").exists():
        return out
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    loaded = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    config = AutoConfig.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    if hasattr(config, "quantization_config"):
        delattr(config, "quantization_config")
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(loaded.state_dict(), strict=False)
    if getattr(config, "tie_word_embeddings", False):
        model.tie_weights()
    tmp = out.with_name(out.name + ".tmp")
    model.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    if out.exists():
        shutil.rmtree(out)
    tmp.replace(out)
    return out


def is_adapter_dir(path: Path) -> bool:
    return path.is_dir() and (path / "adapter_config.json").exists()


class HFBackend:
    def __init__(self, path: Path, name: str | None = None, device: str | None = None, dtype: str = "auto") -> None:
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as err:
            raise LLMError("the transformers runtime needs: pip install 'planact[hf]'") from err
        from .registry import resolve_local_path  # local import: registry imports this module lazily

        self.name = name or str(path)
        self._torch = torch
        self._lock = threading.Lock()
        adapter: Path | None = None
        if is_adapter_dir(path):
            adapter = path
            base = json.loads((path / "adapter_config.json").read_text())["base_model_name_or_path"]
            path = resolve_local_path(base)
        if path.suffix == ".gguf":
            path = gguf_to_hf(path)
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        torch_dtype = {"auto": torch.bfloat16 if self.device == "cuda" else torch.float32,
                       "float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[dtype]
        tok_dir = adapter if adapter and (adapter / "tokenizer_config.json").exists() else path
        self.tokenizer = AutoTokenizer.from_pretrained(str(tok_dir))
        model = AutoModelForCausalLM.from_pretrained(str(path), dtype=torch_dtype)
        if adapter is not None:
            from peft import PeftModel

            model = PeftModel.from_pretrained(model, str(adapter))
        self.model = model.to(self.device).eval()

    def render(self, messages: list[ChatMessage]) -> str:
        msgs = [{"role": m.role, "content": m.content} for m in messages]
        return self.tokenizer.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def generate(self, messages: list[ChatMessage], options: GenerationOptions | None = None) -> Generation:
        opts = options or GenerationOptions()
        notes = ["grammar ignored: the transformers runtime does not take GBNF"] if opts.grammar else []
        prompt = self.render(messages) + opts.prefill
        torch = self._torch
        with self._lock, torch.inference_mode():
            start = time.perf_counter()
            enc = self.tokenizer(prompt, return_tensors="pt", add_special_tokens=False).to(self.device)
            if opts.seed is not None:
                torch.manual_seed(opts.seed)
            kwargs = dict(max_new_tokens=opts.max_tokens, pad_token_id=self.tokenizer.eos_token_id)
            if opts.temperature > 0:
                kwargs.update(do_sample=True, temperature=opts.temperature, top_p=opts.top_p)
            else:
                kwargs.update(do_sample=False)
            if opts.stop:
                kwargs.update(stop_strings=opts.stop, tokenizer=self.tokenizer)
            out = self.model.generate(**enc, **kwargs)
            latency = time.perf_counter() - start
        new = out[0, enc["input_ids"].shape[1]:]
        text = self.tokenizer.decode(new, skip_special_tokens=True)
        for s in opts.stop:
            if s in text:
                text = text[: text.index(s)]
        eos = new.numel() > 0 and int(new[-1]) == self.tokenizer.eos_token_id
        return Generation(
            text=opts.prefill + text,
            usage=Usage(int(enc["input_ids"].shape[1]), int(new.numel())),
            latency_s=latency,
            model=self.name,
            finish_reason="stop" if eos or new.numel() < opts.max_tokens else "length",
            notes=notes,
        )
