"""A backend that replays fixed outputs: for unit tests of everything above the model."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Iterable

from .base import ChatMessage, Generation, GenerationOptions, Usage, approx_tokens

Responder = Callable[[list[ChatMessage]], str]


class ScriptedLLM:
    """Returns `outputs` in order (then repeats the last one), or calls `responder(messages)`.

    Every call is recorded in `calls` so tests can check what the model was shown.
    """

    def __init__(self, outputs: Iterable[str] | Responder, name: str = "scripted") -> None:
        self.name = name
        self._responder: Responder | None = outputs if callable(outputs) else None
        self._outputs = [] if callable(outputs) else list(outputs)
        self._index = 0
        self._lock = threading.Lock()
        self.calls: list[tuple[list[ChatMessage], GenerationOptions]] = []

    def count_tokens(self, text: str) -> int:
        return approx_tokens(text)

    def generate(self, messages: list[ChatMessage], options: GenerationOptions | None = None) -> Generation:
        opts = options or GenerationOptions()
        with self._lock:
            self.calls.append((list(messages), opts))
            if self._responder is None:
                if not self._outputs:
                    raise RuntimeError("ScriptedLLM has no outputs")
                text = self._outputs[min(self._index, len(self._outputs) - 1)]
                self._index += 1
        if self._responder is not None:  # outside the lock: concurrent callers overlap, as with a server
            text = self._responder(messages)
        prompt_tokens = sum(approx_tokens(m.content) for m in messages)
        return Generation(text, Usage(prompt_tokens, approx_tokens(text)), 0.0, self.name, "stop")


def from_import_path(target: str) -> ScriptedLLM:
    """`scripted:package.module:function`: a Python function `messages -> str` used as a model.
    Lets rule-based responders (tests, benchmarks) stand in for a model in separate processes."""
    module, sep, attr = target.partition(":")
    if not sep or not module or not attr:
        raise ValueError(f"scripted model spec needs 'module:function', got {target!r}")
    fn = getattr(importlib.import_module(module), attr)
    if not callable(fn):
        raise ValueError(f"{target} is not callable")
    return ScriptedLLM(fn, name=f"scripted:{target}")
