"""Observations rebuilt from recorded pages: the simplified HTML a trajectory stored, turned back into
an Observation, to replay the executor's decisions (its grammars and grounding) without a browser."""

from __future__ import annotations

import re

from .observation import ElementInfo, Observation

_TAG = re.compile(r"<(/?)(\w+)([^>]*)>")
_ID_ATTR = re.compile(r'(?<![\w-])id="(\d+)"')
_FIELD_TAGS = ("input", "button", "select", "option", "a", "textarea")


def from_simplified_html(html: str, url: str, title: str = "") -> Observation:
    """An Observation rebuilt from the simplified HTML a trajectory recorded: each numbered element's
    tag, its own leading text and its parent. Enough for what the executor's grammars and grounding
    read (agent/grounding.py), to replay its decisions on recorded pages without a browser; not the
    geometry (every element counts as in view)."""
    elements: dict[int, ElementInfo] = {}
    stack: list[int] = []
    for m in _TAG.finditer(html):
        if m.group(1):
            if stack:
                stack.pop()
            continue
        tag, ident = m.group(2), _ID_ATTR.search(m.group(3))
        if not ident:
            continue
        i = int(ident.group(1))
        text = re.match(r"[^<]*", html[m.end():]).group(0).strip()
        elements[i] = ElementInfo(i, tag, text, stack[-1] if stack else None, m.start(), m.end(),
                                  tag in _FIELD_TAGS, True, (0.0, 0.0, 1.0, 1.0))
        if tag != "input":
            stack.append(i)
    return Observation(url, title, html, elements, len(html), len(html) // 4)
