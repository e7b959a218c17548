"""Chat templates for raw-completions mode (the server gets one prompt string, not messages).

Reasoning models are called this way with a `<think>` prefill. By default (`?template=auto`) the served
model's own template renders the prompt, as its tokenizer defines it: a tokenizer of that name in the
local Hugging Face cache, or the server's rendering (llama.cpp's /apply-template). `hf:/path/to/tokenizer`
names a tokenizer; the hand-written templates below are named fallbacks for servers that cannot say.
"""

from __future__ import annotations

from collections.abc import Callable

from .base import ChatMessage


def _chatml(messages: list[ChatMessage]) -> str:
    out = "".join(f"<|im_start|>{m.role}\n{m.content}<|im_end|>\n" for m in messages)
    return out + "<|im_start|>assistant\n"


def _llama3(messages: list[ChatMessage]) -> str:
    """Llama 3.0 (no date lines in the system header)."""
    out = "<|begin_of_text|>"
    for m in messages:
        out += f"<|start_header_id|>{m.role}<|end_header_id|>\n\n{m.content}<|eot_id|>"
    return out + "<|start_header_id|>assistant<|end_header_id|>\n\n"


def _llama31(messages: list[ChatMessage]) -> str:
    """Llama 3.1 / 3.2 / 3.3: the system header always opens with the knowledge-cutoff and date lines."""
    system = "".join(m.content for m in messages if m.role == "system")
    head = "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n"
    out = f"<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n{head}{system}<|eot_id|>"
    for m in messages:
        if m.role != "system":
            out += f"<|start_header_id|>{m.role}<|end_header_id|>\n\n{m.content}<|eot_id|>"
    return out + "<|start_header_id|>assistant<|end_header_id|>\n\n"


def _deepseek_r1(messages: list[ChatMessage]) -> str:
    """DeepSeek-R1: earlier answers lose their <think> blocks, as the tokenizer's template drops them."""
    system = "".join(m.content for m in messages if m.role == "system")
    out = "<｜begin▁of▁sentence｜>" + system
    for m in messages:
        if m.role == "user":
            out += f"<｜User｜>{m.content}"
        elif m.role == "assistant":
            content = m.content.split("</think>")[-1].strip() if "</think>" in m.content else m.content
            out += f"<｜Assistant｜>{content}<｜end▁of▁sentence｜>"
    return out + "<｜Assistant｜>"


BUILTIN: dict[str, Callable[[list[ChatMessage]], str]] = {
    "chatml": _chatml,
    "llama3": _llama3,
    "llama3.1": _llama31,
    "deepseek-r1": _deepseek_r1,
}


def _tokenizer_template(name_or_path: str, local_only: bool = False) -> Callable[[list[ChatMessage]], str]:
    from transformers import AutoTokenizer  # optional dependency, loaded only when asked

    tok = AutoTokenizer.from_pretrained(name_or_path, local_files_only=local_only)
    if not getattr(tok, "chat_template", None):
        raise ValueError(f"the tokenizer {name_or_path} has no chat template")

    def render(messages: list[ChatMessage]) -> str:
        msgs = [{"role": m.role, "content": m.content} for m in messages]
        return tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)

    return render


def _server_template(root: str, timeout_s: float = 10.0) -> Callable[[list[ChatMessage]], str] | None:
    """llama.cpp's server renders messages with the model's own template (POST /apply-template)."""
    import json
    import urllib.error
    import urllib.request

    def render(messages: list[ChatMessage]) -> str:
        body = json.dumps({"messages": [{"role": m.role, "content": m.content} for m in messages]}).encode()
        req = urllib.request.Request(root + "/apply-template", data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout_s) as r:  # noqa: S310 - the user's own server
            return json.loads(r.read())["prompt"]

    try:
        render([ChatMessage("user", "hi")])
    except (urllib.error.URLError, OSError, ValueError, KeyError):
        return None
    return render


def auto_template(model: str, base_url: str | None) -> tuple[Callable[[list[ChatMessage]], str], str]:
    """The served model's own template, and where it came from; a clear error if none can be found."""
    try:
        return _tokenizer_template(model, local_only=True), f"the tokenizer of {model} (local Hugging Face cache)"
    except Exception:  # noqa: BLE001 - not cached here, or transformers not installed: ask the server
        pass
    if base_url:
        root = base_url.rstrip("/")
        root = root[: -len("/v1")] if root.endswith("/v1") else root
        render = _server_template(root)
        if render is not None:
            return render, "the server's /apply-template (llama.cpp)"
    raise ValueError(f"no chat template found for {model}: give ?template=hf:/path/to/its/tokenizer, or one of "
                     f"the named fallbacks {', '.join(BUILTIN)}")


def get_template(name: str) -> Callable[[list[ChatMessage]], str]:
    if name.startswith("hf:"):
        return _tokenizer_template(name[3:])
    try:
        return BUILTIN[name]
    except KeyError:
        raise ValueError(f"unknown chat template {name!r}; built in: {', '.join(BUILTIN)}, or hf:/path") from None
