"""OpenAI and OpenAI-compatible servers (vLLM, SGLang, Ollama, llama.cpp server, hosted APIs)."""

from __future__ import annotations

import base64
import os
import random
import time
from dataclasses import dataclass, field

from .base import ChatMessage, Generation, GenerationOptions, LLMError, Usage, approx_tokens
from .templates import auto_template, get_template


@dataclass
class RetryPolicy:
    max_retries: int = 5
    initial_delay_s: float = 1.0
    max_delay_s: float = 30.0
    max_total_s: float = 60.0  # no retry starts once this much time has gone on one call

    def delay(self, attempt: int) -> float:
        base = min(self.max_delay_s, self.initial_delay_s * 2**attempt)
        return base * (0.5 + random.random() / 2)


@dataclass
class OpenAIBackend:
    """`mode="chat"` uses /chat/completions; `mode="completions"` renders the messages with a chat
    template and calls /completions, so the answer can be prefilled (e.g. with `<think>`)."""

    model: str
    base_url: str | None = None
    api_key: str | None = None
    mode: str = "chat"
    template: str = "auto"  # completions mode: the model's own (see templates.py), or hf:/path, or a name
    timeout_s: float = 120.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    # Name of the request field that carries a GBNF grammar on this server (llama.cpp server: grammar,
    # vLLM: guided_grammar, SGLang: ebnf); "auto": asked of the server on the first call that has a grammar.
    grammar_field: str | None = None
    # Whether the served model takes images (hosted OpenAI models do; say ?vision=1 for others).
    accepts_images: bool = False
    sleep: object = time.sleep  # injectable for tests

    def __post_init__(self) -> None:
        import openai

        if self.mode not in ("chat", "completions"):
            raise LLMError(f"mode must be 'chat' or 'completions', not {self.mode!r}")
        self.name = f"{self.model}@{self.base_url or 'api.openai.com'}"
        self._openai = openai
        self._client = openai.OpenAI(
            base_url=self.base_url,
            api_key=self.api_key or "EMPTY",
            timeout=self.timeout_s,
            max_retries=0,  # retries are ours, so that every backend retries the same way
        )
        self._render = None
        if self.mode == "completions":
            try:
                self._render = auto_template(self.model, self.base_url)[0] if self.template == "auto" \
                    else get_template(self.template)
            except ValueError as err:
                raise LLMError(str(err)) from err
        self._grammar_how = "set in the spec" if self.grammar_field not in (None, "auto") else \
            "hosted OpenAI takes no grammar" if self.base_url is None else "no grammar field known"

    def count_tokens(self, text: str) -> int:
        return approx_tokens(text)

    def _retryable(self, err: Exception) -> bool:
        """What the openai client itself retries: timeouts, lost connections, 408 (request timeout),
        409 (lock conflict), 429 and 5xx; a server's `x-should-retry` header overrides."""
        o = self._openai
        if isinstance(err, (o.APITimeoutError, o.APIConnectionError)):
            return True
        if not isinstance(err, o.APIStatusError):
            return False
        should = (err.response.headers.get("x-should-retry") or "").lower()
        if should in ("true", "false"):
            return should == "true"
        return err.status_code in (408, 409, 429) or err.status_code >= 500

    def _server_wait(self, err: Exception) -> float | None:
        """The wait a 429/503 asks for (`retry-after-ms`, `Retry-After` in seconds or as a date), if any."""
        response = getattr(err, "response", None)
        if response is None:
            return None
        headers = response.headers
        try:
            if headers.get("retry-after-ms"):
                return float(headers["retry-after-ms"]) / 1000
            value = headers.get("retry-after")
            if not value:
                return None
            try:
                return float(value)
            except ValueError:
                from email.utils import parsedate_to_datetime

                return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None

    def _call(self, fn, **kwargs):
        attempt = 0
        started = time.monotonic()
        while True:
            try:
                return fn(**kwargs)
            except self._openai.APIError as err:  # every error the client raises
                if not self._retryable(err):
                    status = getattr(err, "status_code", None)
                    raise LLMError(f"{self.name}: request rejected ({status}): {err}") from err
                asked = self._server_wait(err)
                wait = asked if asked is not None and 0 <= asked <= self.retry.max_total_s else self.retry.delay(attempt)
                spent = time.monotonic() - started
                if attempt >= self.retry.max_retries or spent + wait > self.retry.max_total_s:
                    raise LLMError(f"{self.name}: gave up after {attempt + 1} attempts in {spent:.0f} s: "
                                   f"{err}") from err
                self.sleep(wait)
                attempt += 1

    def _content(self, m: ChatMessage):
        if not (m.images and self.accepts_images):
            return m.content
        parts: list[dict] = [{"type": "text", "text": m.content}]
        for img in m.images:
            mime = "image/png" if img[:4] == b"\x89PNG" else "image/jpeg"
            url: dict = {"url": f"data:{mime};base64,{base64.b64encode(img).decode()}"}
            if m.image_detail != "auto":
                url["detail"] = m.image_detail
            parts.append({"type": "image_url", "image_url": url})
        return parts

    def generate(self, messages: list[ChatMessage], options: GenerationOptions | None = None) -> Generation:
        opts = options or GenerationOptions()
        extra: dict = {}
        notes: list[str] = []
        if opts.grammar:
            if self.grammar_field == "auto":
                self.grammar_field, self._grammar_how = detect_grammar_field(self.base_url)
            if self.grammar_field:
                extra[self.grammar_field] = opts.grammar
                notes.append(f"grammar sent as {self.grammar_field!r} ({self._grammar_how})")
            else:
                notes.append(f"grammar ignored: {self._grammar_how}; set ?grammar_field=... for this server")
        common = dict(
            model=self.model,
            max_tokens=opts.max_tokens,
            temperature=opts.temperature,
            top_p=opts.top_p,
            stop=opts.stop or None,
            seed=opts.seed,
            extra_body=extra or None,
        )
        start = time.perf_counter()
        if self.mode == "chat":
            msgs = [{"role": m.role, "content": self._content(m)} for m in messages]
            if opts.prefill:
                notes.append("prefill sent as a trailing assistant message (continue_final_message)")
                msgs.append({"role": "assistant", "content": opts.prefill})
                common["extra_body"] = {**(extra or {}), "continue_final_message": True, "add_generation_prompt": False}
            resp = self._call(self._client.chat.completions.create, messages=msgs, **common)
            choice = resp.choices[0]
            text = choice.message.content or ""
            finish = choice.finish_reason
        else:
            prompt = self._render(messages) + opts.prefill
            resp = self._call(self._client.completions.create, prompt=prompt, **common)
            choice = resp.choices[0]
            text = choice.text or ""
            finish = choice.finish_reason
        latency = time.perf_counter() - start
        if opts.prefill and not text.startswith(opts.prefill):
            text = opts.prefill + text
        u = resp.usage
        details = getattr(u, "prompt_tokens_details", None) if u else None
        cached = (details.get("cached_tokens") if isinstance(details, dict) else getattr(details, "cached_tokens", 0)) \
            if details else 0
        usage = Usage(u.prompt_tokens, u.completion_tokens, int(cached or 0)) if u else Usage(
            sum(approx_tokens(m.content) for m in messages), approx_tokens(text)
        )
        return Generation(text=text, usage=usage, latency_s=latency, model=self.name, finish_reason=finish, notes=notes)


def from_spec(provider: str, target: str, model: str | None, options: dict[str, str]) -> OpenAIBackend:
    key_env = options.get("api_key_env", "OPENAI_API_KEY")
    api_key = os.environ.get(key_env)
    if provider == "openai":
        if not api_key:
            raise LLMError(f"openai:{target} needs an API key in ${key_env}")
        base_url = os.environ.get("OPENAI_BASE_URL")
        model_name = target
    else:
        base_url = target
        model_name = model or _first_served_model(base_url, api_key)
    return OpenAIBackend(
        model=model_name,
        base_url=base_url,
        api_key=api_key,
        mode=options.get("mode", "chat"),
        template=options.get("template", "auto"),
        timeout_s=float(options.get("timeout", 120)),
        grammar_field=options.get("grammar_field", "auto" if provider == "openai-compatible" else None) or None,
        accepts_images=options.get("vision", "1" if provider == "openai" else "0") in ("1", "true", "yes"),
        retry=RetryPolicy(max_retries=int(options.get("retries", 5)), max_total_s=float(options.get("retry_s", 60))),
    )


def detect_grammar_field(base_url: str | None, timeout_s: float = 3.0) -> tuple[str | None, str]:
    """Which request field carries a GBNF grammar on this server, from what the server says it is:
    llama.cpp's server answers /props, SGLang /get_server_info, vLLM /version. (field, how it was told)."""
    import json
    import urllib.error
    import urllib.request

    if not base_url:
        return None, "hosted OpenAI takes no grammar"
    root = base_url.rstrip("/")
    root = root[: -len("/v1")] if root.endswith("/v1") else root

    def get(path: str) -> dict | None:
        try:
            with urllib.request.urlopen(root + path, timeout=timeout_s) as r:  # noqa: S310 - the user's server
                data = json.loads(r.read(200_000) or b"null")
                return data if isinstance(data, dict) else None
        except (urllib.error.URLError, OSError, ValueError):
            return None

    props = get("/props")
    if props and ("default_generation_settings" in props or "total_slots" in props):
        return "grammar", "llama.cpp server, detected from /props"
    info = get("/get_server_info")
    if info and ("sglang" in json.dumps(info).lower() or "tokenizer_path" in info):
        return "ebnf", "SGLang, detected from /get_server_info"
    version = get("/version")
    if version and isinstance(version.get("version"), str):
        return "guided_grammar", "vLLM, detected from /version"
    return None, "the server did not say which grammar field it takes"


def _first_served_model(base_url: str, api_key: str | None) -> str:
    import openai

    try:
        models = openai.OpenAI(base_url=base_url, api_key=api_key or "EMPTY", timeout=15).models.list()
        return models.data[0].id
    except Exception as err:  # noqa: BLE001 - turned into a clear error
        raise LLMError(
            f"no model name in the spec and {base_url}/models did not list one ({err}); "
            f"write openai-compatible:{base_url}#MODEL"
        ) from err
