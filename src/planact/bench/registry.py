"""Suites by name."""

from __future__ import annotations

import difflib

from .adhoc import AdHocSuite
from .miniwob import MiniWoBSuite

SUITES = {"miniwob": MiniWoBSuite}


def get_suite(name: str, **kwargs):
    try:
        return SUITES[name](**kwargs)
    except KeyError:
        close = difflib.get_close_matches(name, SUITES, n=1)
        raise ValueError(f"unknown suite {name!r}" + (f"; did you mean {close[0]}?" if close else "")
                         + f" (suites: {', '.join(SUITES)})") from None


__all__ = ["SUITES", "get_suite", "AdHocSuite", "MiniWoBSuite"]
