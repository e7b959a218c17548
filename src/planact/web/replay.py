"""Observations rebuilt from recorded pages: the simplified HTML a trajectory stored, turned back into
an Observation, to replay the executor's decisions (its grammars and grounding) without a browser."""

from __future__ import annotations

import re
from dataclasses import replace

from .observation import ElementInfo, Observation

_TAG = re.compile(r"<(/?)(\w+)([^>]*)>")
_ID_ATTR = re.compile(r'(?<![\w-])id="(\d+)"')
_FIELD_TAGS = ("input", "button", "select", "option", "a", "textarea")
_VOID = re.compile(r"^(input|img|canvas|circle|rect|polygon|ellipse|line|path)$")  # observe.js writes no closing tag


def from_simplified_html(html: str, url: str, title: str = "") -> Observation:
    """An Observation rebuilt from the simplified HTML a trajectory recorded: each numbered element's
    tag, its own leading text, its parent, and its span (from its opening tag to the end of its closing
    one, as observe.js reports it). Enough for what the executor's grammars and grounding read
    (agent/grounding.py), to replay its decisions on recorded pages without a browser; not the geometry
    (every element counts as in view)."""
    elements: dict[int, ElementInfo] = {}
    own: dict[int, list[str]] = {}  # each element's direct text, as observe.js's directText
    stack: list[int] = []
    last = 0
    for m in _TAG.finditer(html):
        if stack:
            own[stack[-1]].append(html[last:m.start()])
        last = m.end()
        if m.group(1):  # observe.js closes only the elements it numbers
            if stack:
                i = stack.pop()
                elements[i] = replace(elements[i], end=m.end(), text=_text(own[i], html[elements[i].start:m.end()]))
            continue
        tag, ident = m.group(2), _ID_ATTR.search(m.group(3))
        if not ident:
            continue
        i = int(ident.group(1))
        elements[i] = ElementInfo(i, tag, "", stack[-1] if stack else None, m.start(), m.end(),
                                  tag in _FIELD_TAGS, True, (0.0, 0.0, 1.0, 1.0))
        if not _VOID.match(tag):  # a void tag holds no text and has no closing tag
            stack.append(i)
            own[i] = []
    return Observation(url, title, html, elements, len(html), len(html) // 4)


def _text(direct: list[str], span: str) -> str:
    """The direct text, else all the text inside (innerText), whitespace folded."""
    text = " ".join("".join(direct).split())
    return text or " ".join(re.sub(r"<[^>]*>", " ", span).split())
