"""llama.cpp runtime (llama-cpp-python): fast CPU inference of GGUF models, with GBNF grammars."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from pathlib import Path

from .base import ChatMessage, Generation, GenerationOptions, LLMError, Usage
from .embedded import cache_dir


def requantized(path: Path, qtype: str = "q8_0") -> Path:
    """A Q8_0 copy of a 4-bit GGUF, made once and cached: decoding it is several times faster on
    CPU than the shipped Q4_1 (measured in benchmarks/llm_speed.py)."""
    import llama_cpp

    qtypes = {"q8_0": llama_cpp.LLAMA_FTYPE_MOSTLY_Q8_0, "f16": llama_cpp.LLAMA_FTYPE_MOSTLY_F16}
    out = cache_dir() / f"{path.stem}.{qtype}.gguf"
    if out.exists() and out.stat().st_mtime >= path.stat().st_mtime:
        return out
    tmp = out.with_suffix(".tmp")
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = qtypes[qtype]
    params.allow_requantize = True
    with _quiet_stderr():  # llama.cpp logs every tensor it converts
        status = llama_cpp.llama_model_quantize(str(path).encode(), str(tmp).encode(), params)
    if status != 0:
        raise LLMError(f"could not requantize {path} to {qtype}")
    tmp.replace(out)
    return out


# Serializes model loads while `_plain_cpu_buffers` swaps llama-cpp-python's default model params.
_LOAD_LOCK = threading.Lock()


@contextlib.contextmanager
def _plain_cpu_buffers(llama_cpp):  # noqa: ANN001 - the llama_cpp package
    """Load weights into plain CPU buffers, not ggml's "extra" buffer types (AMX tiles, repacked
    layouts). On machines whose CPU reports AMX without the kernel letting a process use it (seen on
    virtual machines), a model in AMX buffers crashes the process (SIGSEGV) on the first batch of more
    than one token. llama-cpp-python's `Llama` takes no argument for `use_extra_bufts`, so its default
    model parameters are wrapped for the duration of the load."""
    low = llama_cpp.llama_cpp
    default = low.llama_model_default_params

    def params():  # noqa: ANN202
        p = default()
        if hasattr(p, "use_extra_bufts"):
            p.use_extra_bufts = False
        return p

    with _LOAD_LOCK:
        low.llama_model_default_params = params
        try:
            yield
        finally:
            low.llama_model_default_params = default


@contextlib.contextmanager
def _quiet_stderr():
    """Silence C-level writes to stderr (file descriptor 2) for the duration."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


class LlamaCppBackend:
    def __init__(
        self,
        path: Path,
        name: str | None = None,
        n_ctx: int = 8192,
        n_threads: int | None = None,
        lora_path: Path | None = None,
        requantize: str | None = "q8_0",
        seed: int = 0,
    ) -> None:
        try:
            import llama_cpp
        except ImportError as err:
            raise LLMError("the llama.cpp runtime needs llama-cpp-python: pip install llama-cpp-python") from err
        self._llama_cpp = llama_cpp
        self._args = {"path": path, "name": name, "n_ctx": n_ctx, "n_threads": n_threads, "lora_path": lora_path,
                      "requantize": requantize, "seed": seed}
        model_path = requantized(path, requantize) if requantize else path
        self.name = name or path.name
        self._lock = threading.Lock()
        with _plain_cpu_buffers(llama_cpp):
            self._llm = llama_cpp.Llama(
                model_path=str(model_path),
                n_ctx=n_ctx,
                n_threads=n_threads,
                lora_path=str(lora_path) if lora_path else None,
                flash_attn=True,
                seed=seed,
                verbose=False,
            )
        template = self._llm.metadata.get("tokenizer.chat_template")
        if not template:
            raise LLMError(f"{path} has no chat template in its metadata")
        self._template = compile_template(template)
        self._grammars: dict[str, object] = {}

    def render(self, messages: list[ChatMessage]) -> str:
        from jinja2.exceptions import SecurityError

        try:
            return self._render(messages)
        except SecurityError as err:
            raise LLMError(f"the model's chat template tried something unsafe and was stopped: {err}") from err

    def _render(self, messages: list[ChatMessage]) -> str:
        return self._template.render(
            messages=[{"role": m.role, "content": m.content} for m in messages],
            add_generation_prompt=True,
            bos_token="",
            eos_token="",
        )

    def count_tokens(self, text: str) -> int:
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def _grammar(self, gbnf: str):
        g = self._grammars.get(gbnf)
        if g is None:
            g = self._llama_cpp.LlamaGrammar.from_string(gbnf, verbose=False)
            if len(self._grammars) > 64:
                self._grammars.clear()
            self._grammars[gbnf] = g
        return g

    def _cached_prefix(self, prompt: str) -> int:
        """How many of the prompt's tokens llama.cpp will take from its KV cache: the prefix it shares
        with what the context last held (the previous prompt and its answer), less the one token
        llama.cpp evaluates again when the whole prompt matches."""
        held = self._llm._input_ids
        if not len(held):
            return 0
        tokens = self._llm.tokenize(prompt.encode("utf-8"), special=True)
        n = 0
        for a, b in zip(held, tokens):
            if a != b:
                break
            n += 1
        return min(n, len(tokens) - 1)

    def fork(self) -> "LlamaCppBackend":
        """The same model with a context (and so a prompt cache) of its own: for a second role that
        would otherwise evict the first one's cached prefix on every turn."""
        return LlamaCppBackend(**self._args)

    def generate(self, messages: list[ChatMessage], options: GenerationOptions | None = None) -> Generation:
        opts = options or GenerationOptions()
        prompt = self.render(messages) + opts.prefill
        with self._lock:
            start = time.perf_counter()
            cached = self._cached_prefix(prompt)
            kwargs = dict(prompt=prompt, max_tokens=opts.max_tokens, temperature=opts.temperature, top_p=opts.top_p,
                          stop=opts.stop or None, seed=opts.seed,
                          grammar=self._grammar(opts.grammar) if opts.grammar else None)
            if opts.stop_when is None:
                out = self._llm.create_completion(**kwargs)
                choice = out["choices"][0]
                usage = out.get("usage") or {}
                text, finish = choice["text"], choice.get("finish_reason")
                prompt_tokens, completion_tokens = usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0)
            else:
                text, finish, completion_tokens = self._stream(kwargs, opts.stop_when)
                prompt_tokens = len(self._llm.tokenize(prompt.encode("utf-8"), special=True))
            latency = time.perf_counter() - start
        return Generation(
            text=opts.prefill + text,
            usage=Usage(prompt_tokens, completion_tokens, cached),
            latency_s=latency,
            model=self.name,
            finish_reason=finish,
        )

    def _stream(self, kwargs: dict, stop_when) -> tuple[str, str | None, int]:  # noqa: ANN001
        """Token by token, asking `stop_when` at each new line; leaving the stream ends the generation."""
        text, finish, n = "", None, 0
        for chunk in self._llm.create_completion(**kwargs, stream=True):
            choice = chunk["choices"][0]
            piece = choice.get("text") or ""
            text += piece
            n += 1
            finish = choice.get("finish_reason") or finish
            if "\n" in piece and stop_when(text):
                return text, "stop_when", n
        return text, finish, n


def compile_template(source: str):  # noqa: ANN201 - a jinja2 Template
    """A model file's chat template is untrusted code: compiled for Jinja's sandbox (no attribute walks
    to Python internals, no mutation), as llama-cpp-python and transformers do."""
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.globals["raise_exception"] = _raise
    return env.from_string(source)


def _raise(message: str) -> None:
    raise LLMError(f"chat template error: {message}")
