"""Model specs to backends. Backends are imported only when chosen, so that torch or llama.cpp
load only for the roles that use them."""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .base import LLM, LLMError
from .embedded import EMBEDDED_BUNDLES, EMBEDDED_MODELS, embedded_bundle, embedded_gguf
from .spec import ModelSpec


def resolve_local_path(target: str) -> Path:
    """`smollm2-135m` (embedded), `local:smollm2-135m`, or a filesystem path."""
    if target.startswith("local:"):
        target = target[len("local:"):]
    if target in EMBEDDED_MODELS:
        return embedded_gguf(target)
    if target in EMBEDDED_BUNDLES:
        return embedded_bundle(target)
    path = Path(target).expanduser()
    if not path.exists():
        raise LLMError(
            f"no local model at {target!r}: give an embedded name ({', '.join([*EMBEDDED_MODELS, *EMBEDDED_BUNDLES])}), a Hugging Face "
            "directory, a .gguf file or a PEFT adapter directory (model hubs are not contacted)"
        )
    return path


BUNDLE_FILE = "bundle.json"


def _local_dir(spec: str) -> tuple[ModelSpec, Path] | None:
    """The parsed spec and its folder, for a local spec that names a folder; None otherwise."""
    try:
        parsed = ModelSpec.parse(spec)
        if parsed.provider not in ("local", "hf", "llamacpp"):
            return None
        path = resolve_local_path(parsed.target)
    except (ValueError, LLMError):
        return None
    return (parsed, path) if path.is_dir() else None


def _bundle(spec: str) -> tuple[ModelSpec, Path, dict[str, Any]] | None:
    """A model bundle's parsed spec, folder and manifest (`bundle.json`); None for any other spec."""
    found = _local_dir(spec)
    if found is None or not (found[1] / BUNDLE_FILE).is_file():
        return None
    return (*found, json.loads((found[1] / BUNDLE_FILE).read_text(encoding="utf-8")))


def role_spec(spec: str, role: str) -> str:
    """The spec a role loads. A model bundle (a folder with `bundle.json`, e.g. the embedded
    `local:planact-miniwob`) names one adapter or spec per role and the prompt version they were
    trained on; any other spec is the same for every role."""
    found = _bundle(spec)
    if found is None:
        return spec
    parsed, path, bundle = found
    entry = bundle.get("roles", {}).get(role) or bundle.get("roles", {}).get("executor")
    if entry is None:
        raise LLMError(f"the model bundle {path} names no model for the {role}")
    options = dict(parsed.options)
    if bundle.get("prompt_version"):
        options.setdefault("prompt", str(bundle["prompt_version"]))
    if (path / entry).is_dir():
        return str(ModelSpec(parsed.provider, str((path / entry).resolve()), None, options))
    inner = ModelSpec.parse(entry)
    return str(ModelSpec(inner.provider, inner.target, inner.model, {**inner.options, **options}))


def bundle_agent_settings(spec: str) -> dict[str, Any]:
    """The agent settings a model bundle recommends for its models (`agent` in its bundle.json: those its
    loop validated best, e.g. `ground_element`); {} for any other spec."""
    found = _bundle(spec)
    return dict(found[2].get("agent") or {}) if found else {}


def is_finetuned(spec: str) -> bool:
    """Whether a local spec names a fine-tuned model: a model bundle, a LoRA adapter or a checkpoint that
    planact trained (reports label its runs "trained" unless tagged otherwise)."""
    found = _local_dir(spec)
    return found is not None and any((found[1] / f).is_file() for f in (BUNDLE_FILE, "adapter_config.json",
                                                                        "planact_train.json"))


_WEIGHT_FILES = ("adapter_model.safetensors", "adapter_model.bin", "model.safetensors", "pytorch_model.bin")


def weights_identity(spec: str, role: str | None = None) -> str | None:
    """A short hash of the weights a local fine-tuned spec loads (a bundle's manifest and each role's adapter
    weights, or one adapter's): the same spec string names other weights once a new round ships, and an eval
    resumed across that change would mix two models' episodes. None for any other spec (a model hub id, an
    endpoint, a base GGUF), whose name is its identity. With `role`, a bundle counts only what that role
    loads (its adapter's weights and prompt version): a bundle whose executor was retrained still names the
    same planner, and an eval of that planner beside another executor resumes."""
    import hashlib

    if not is_finetuned(spec):
        return None
    if role is not None and _bundle(spec) is not None:
        inner = role_spec(spec, role)
        if is_finetuned(inner) and _bundle(inner) is None:  # the role's own adapter folder
            own = weights_identity(inner)
            return hashlib.sha1(f"{own}?{ModelSpec.parse(inner).options}".encode()).hexdigest()[:12]
        return hashlib.sha1(inner.encode()).hexdigest()[:12]  # a base or remote model: its name
    _, path = _local_dir(spec)  # type: ignore[misc]
    folders = [path]
    found = _bundle(spec)
    if found is not None:
        folders += [path / e for e in found[2].get("roles", {}).values() if (path / e).is_dir()]
    digest = hashlib.sha1()
    for folder in folders:
        for name in (BUNDLE_FILE, "adapter_config.json", *_WEIGHT_FILES):
            if (folder / name).is_file():
                digest.update(f"{folder.name}/{name}".encode())
                digest.update((folder / name).read_bytes())
    return digest.hexdigest()[:12]


def has_llamacpp() -> bool:
    return importlib.util.find_spec("llama_cpp") is not None


def has_transformers() -> bool:
    return importlib.util.find_spec("transformers") is not None and importlib.util.find_spec("torch") is not None


def _gguf_lora(path: Path) -> tuple[Path, Path] | None:
    """A PEFT adapter directory that carries a llama.cpp conversion (`adapter.gguf`)."""
    if (path / "adapter_config.json").exists() and (path / "adapter.gguf").exists():
        base = json.loads((path / "adapter_config.json").read_text())["base_model_name_or_path"]
        base_path = resolve_local_path(base)
        if base_path.suffix == ".gguf":
            return base_path, path / "adapter.gguf"
    return None


def choose_runtime(spec: ModelSpec, path: Path) -> str:
    """`local:` picks llama.cpp for GGUF models when it is installed (several times faster on CPU
    and the only runtime that takes grammars), and transformers otherwise."""
    if spec.provider == "hf":
        return "hf"
    if spec.provider == "llamacpp":
        return "llamacpp"
    gguf_like = path.suffix == ".gguf" or _gguf_lora(path) is not None
    if gguf_like and has_llamacpp():
        return "llamacpp"
    if has_transformers():
        return "hf"
    if has_llamacpp() and gguf_like:
        return "llamacpp"
    raise LLMError(f"no runtime can load {path}: pip install 'planact[llamacpp]' or 'planact[hf]'")


def load_model(spec: str | ModelSpec) -> LLM:
    """The backend for a spec. `?prompt=v2` says which prompt version the model was trained on
    (the agent uses it when its prompt_version is `auto`)."""
    if isinstance(spec, str):
        spec = ModelSpec.parse(spec)
    llm = _load(spec)
    if spec.options.get("prompt"):
        llm.prompt_version = spec.options["prompt"]
    return llm


def _load(spec: ModelSpec) -> LLM:
    if spec.provider in ("openai", "openai-compatible"):
        from .openai_backend import from_spec

        return from_spec(spec.provider, spec.target, spec.model, spec.options)
    if spec.provider == "scripted":
        from .scripted import from_import_path

        return from_import_path(spec.target)
    path = resolve_local_path(spec.target)
    if (path / BUNDLE_FILE).is_file():
        raise LLMError(f"{spec} is a model bundle (a model per role): give it as an agent's model, or load one "
                       f"role's model with role_spec(spec, role)")
    runtime = choose_runtime(spec, path)
    name = str(spec)
    if runtime == "llamacpp":
        from .llamacpp_backend import LlamaCppBackend

        lora = _gguf_lora(path)
        model_path, lora_path = lora if lora else (path, None)
        if model_path.suffix != ".gguf":
            raise LLMError(f"llama.cpp needs a .gguf file, got {path}")
        requant = spec.options.get("quant", "q8_0")
        return LlamaCppBackend(
            model_path,
            name=name,
            n_ctx=int(spec.options.get("n_ctx", 8192)),
            lora_path=lora_path,
            requantize=None if requant == "none" else requant,
        )
    from .hf_backend import HFBackend

    return HFBackend(path, name=name, device=spec.options.get("device"), dtype=spec.options.get("dtype", "auto"))


@dataclass
class BackendInfo:
    provider: str
    example: str
    available: bool
    detail: str


def _bundle_ok(name: str) -> bool:
    try:
        embedded_bundle(name)
        return True
    except FileNotFoundError:
        return False


def describe_backends() -> list[BackendInfo]:
    import os

    try:
        embedded = str(embedded_gguf("smollm2-135m"))
    except FileNotFoundError as err:
        embedded = f"missing: {err}"
    return [
        BackendInfo("local", "local:smollm2-135m", True,
                    f"embedded SmolLM2-135M-Instruct ({embedded}); runtime: "
                    + ("llama.cpp" if has_llamacpp() else "transformers" if has_transformers() else "none installed")),
        BackendInfo("local", "local:planact-miniwob", _bundle_ok("planact-miniwob"),
                    "the embedded model trained by `planact learn` on 20 MiniWoB tasks: an adapter per role "
                    "(llama.cpp LoRA + PEFT), compact v2 prompts"),
        BackendInfo("llamacpp", "llamacpp:/path/model.gguf", has_llamacpp(), "llama-cpp-python, GBNF grammars"),
        BackendInfo("hf", "hf:/path/to/hf-dir-or-adapter", has_transformers(), "transformers (+ PEFT adapters)"),
        BackendInfo("openai", "openai:gpt-4o", bool(os.environ.get("OPENAI_API_KEY")),
                    "OPENAI_API_KEY " + ("set" if os.environ.get("OPENAI_API_KEY") else "not set")),
        BackendInfo("openai-compatible", "openai-compatible:http://localhost:8000/v1#model", True,
                    "vLLM, SGLang, Ollama, llama.cpp server; ?mode=completions&template=chatml for prefills"),
    ]


def check_spec(spec: str, probe_timeout_s: float = 5.0) -> None:
    """Before any episode: a spec that cannot work is a UsageError naming what to fix (a bad spec, a
    local model that is not there, `openai:` with no key, an OpenAI-compatible server that does
    not answer within `probe_timeout_s`). Loads nothing."""
    import os
    import urllib.error
    import urllib.request

    from ..errors import UsageError

    parsed = ModelSpec.parse(spec)
    if parsed.provider in ("local", "hf", "llamacpp"):
        try:
            resolve_local_path(parsed.target)
        except (LLMError, FileNotFoundError) as err:
            raise UsageError(str(err)) from None
    elif parsed.provider == "openai":
        key_env = parsed.options.get("api_key_env", "OPENAI_API_KEY")
        if not os.environ.get(key_env):
            raise UsageError(f"{spec} needs an API key: set ${key_env}")
    elif parsed.provider == "openai-compatible" and probe_timeout_s > 0:
        url = parsed.target.rstrip("/") + "/models"
        key = os.environ.get(parsed.options.get("api_key_env", "OPENAI_API_KEY"))
        req = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"} if key else {})
        try:
            with urllib.request.urlopen(req, timeout=probe_timeout_s):  # noqa: S310 - the user's endpoint
                pass
        except urllib.error.HTTPError:
            pass  # it answers: a server without /models, or one that wants a key, is still up
        except (urllib.error.URLError, OSError) as err:
            reason = getattr(err, "reason", err)
            raise UsageError(f"cannot reach the model server {parsed.target} ({reason}): is it running?") from None
