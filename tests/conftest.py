from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="session")
def miniwob():
    from planact.bench.miniwob import MiniWoBSuite

    return MiniWoBSuite()


@pytest.fixture(scope="module")
def session(miniwob):
    """One real headless Chromium per test module."""
    from planact.web import BrowserOptions, BrowserSession

    with BrowserSession(miniwob.browser_options(BrowserOptions())) as s:
        yield s


@pytest.fixture(scope="session")
def embedded_model():
    """The real embedded model (SmolLM2-135M), loaded once."""
    from planact.llm import load_model

    return load_model("local:smollm2-135m")


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return Path(__file__).parent / "fixtures"
