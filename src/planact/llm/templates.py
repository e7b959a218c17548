"""Chat templates for raw-completions mode (the server gets one prompt string, not messages).

Reasoning models are called this way with a `<think>` prefill. Pick the template of the served
model family with `?template=NAME`; `hf:/path/to/tokenizer` uses that tokenizer's own template.
"""

from __future__ import annotations

from collections.abc import Callable

from .base import ChatMessage


def _chatml(messages: list[ChatMessage]) -> str:
    out = "".join(f"<|im_start|>{m.role}\n{m.content}<|im_end|>\n" for m in messages)
    return out + "<|im_start|>assistant\n"


def _llama3(messages: list[ChatMessage]) -> str:
    out = "<|begin_of_text|>"
    for m in messages:
        out += f"<|start_header_id|>{m.role}<|end_header_id|>\n\n{m.content}<|eot_id|>"
    return out + "<|start_header_id|>assistant<|end_header_id|>\n\n"


def _deepseek_r1(messages: list[ChatMessage]) -> str:
    system = "".join(m.content for m in messages if m.role == "system")
    out = "<｜begin▁of▁sentence｜>" + system
    for m in messages:
        if m.role == "user":
            out += f"<｜User｜>{m.content}"
        elif m.role == "assistant":
            out += f"<｜Assistant｜>{m.content}<｜end▁of▁sentence｜>"
    return out + "<｜Assistant｜>"


BUILTIN: dict[str, Callable[[list[ChatMessage]], str]] = {
    "chatml": _chatml,
    "llama3": _llama3,
    "deepseek-r1": _deepseek_r1,
}


def get_template(name: str) -> Callable[[list[ChatMessage]], str]:
    if name.startswith("hf:"):
        from transformers import AutoTokenizer  # optional dependency, loaded only when asked

        tok = AutoTokenizer.from_pretrained(name[3:])

        def render(messages: list[ChatMessage]) -> str:
            msgs = [{"role": m.role, "content": m.content} for m in messages]
            return tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)

        return render
    try:
        return BUILTIN[name]
    except KeyError:
        raise ValueError(f"unknown chat template {name!r}; built in: {', '.join(BUILTIN)}, or hf:/path") from None
