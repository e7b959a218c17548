"""The one interface every model backend implements: chat messages in, text + usage out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class ChatMessage:
    role: Role
    content: str
    # JPEG/PNG bytes shown with the text, for models that take images (see `accepts_images`);
    # backends without vision ignore them.
    images: tuple[bytes, ...] = ()
    # how closely a vision model looks at them ("low", "high"; "auto": the server decides), see llm.images
    image_detail: str = "auto"


@dataclass
class GenerationOptions:
    """Per-call knobs. Backends ignore what they cannot honour and say so in `Generation.notes`."""

    max_tokens: int = 512
    temperature: float = 0.0
    top_p: float = 1.0
    stop: list[str] = field(default_factory=list)
    seed: int | None = None
    # Text the assistant's answer starts with (e.g. "<think>\n" for reasoning models called in
    # completions mode). It is part of the returned text.
    prefill: str = ""
    # A GBNF grammar the answer must follow (after `prefill`). Honoured by llama.cpp and by
    # OpenAI-compatible servers configured with `grammar_field` (vLLM: "guided_grammar").
    grammar: str | None = None
    # Called with the text so far at each new line; True ends the generation there (finish_reason
    # "stop_when"). Honoured by llama.cpp (streaming); other backends generate to the end.
    stop_when: Callable[[str], bool] | None = None


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    # prompt tokens served from the runtime's prefix (KV) cache rather than computed again: llama.cpp's
    # match with its previous prompt, or what an OpenAI-compatible server reports
    # (`prompt_tokens_details.cached_tokens`); 0 where nothing says
    cached_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass
class Generation:
    text: str
    usage: Usage
    latency_s: float
    model: str
    finish_reason: str | None = None
    notes: list[str] = field(default_factory=list)


class LLMError(RuntimeError):
    """A backend failed in a way retrying will not fix (bad request, missing model, ...)."""


@runtime_checkable
class LLM(Protocol):
    """A chat model. Implementations must be safe to call from several threads."""

    name: str

    def generate(self, messages: list[ChatMessage], options: GenerationOptions | None = None) -> Generation: ...

    def count_tokens(self, text: str) -> int: ...


def accepts_images(llm: object) -> bool:
    """Whether a backend shows images to its model (hosted OpenAI models, or a spec's ?vision=1)."""
    return bool(getattr(llm, "accepts_images", False))


def approx_tokens(text: str) -> int:
    """A tokenizer-free estimate (about 3.6 characters a token on HTML and English)."""
    return max(1, int(len(text) / 3.6 + 0.5)) if text else 0
