"""The executor's own words about its target, used to ground its element id: a small model often
names the right element ("# Element: the "Yes" button") and then writes an id it has seen often
instead of that element's. When the description quotes a text, the ids the action may use are
narrowed to the elements that show that text (and the field a matching label, or a text right before
a field, names); when nothing matches, or nothing is quoted, every id on the page stays allowed.
Nothing here knows a site or task."""

from __future__ import annotations

import re

from ..web.observation import Observation

_QUOTED = re.compile(r'"([^"\n]{1,80})"|\u201c([^\u201d\n]{1,80})\u201d|(?<![\w])\'([^\'\n]{1,80})\'(?![\w])')
_FIELDS = ("input", "textarea", "select")
_ATTR_TEXT = re.compile(r'(?:placeholder|aria-label|title|alt|value)="([^"]*)"')


def _norm(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip().lower()


def quoted(description: str) -> list[str]:
    return [next(g for g in m.groups() if g) for m in _QUOTED.finditer(description)]


def candidates(description: str, obs: Observation) -> list[int]:
    """The ids whose element shows a text the description quotes: exact matches of the element's own
    text or label attributes first, else the innermost elements containing it; plus, for a matching
    <label>, the first element after it (its field). Empty: no restriction."""
    wanted = [_norm(q) for q in quoted(description) if _norm(q)]
    if not wanted:
        return []
    texts: dict[int, list[str]] = {}
    for i, e in obs.elements.items():
        head = obs.html[e.start:e.end].split(">", 1)[0]
        texts[i] = [_norm(e.text)] + [_norm(a) for a in _ATTR_TEXT.findall(head)]
    found = {i for i, ts in texts.items() if any(t in wanted for t in ts)}
    if not found:
        found = {i for i, ts in texts.items() if any(w in t for w in wanted for t in ts)}
    # innermost: leave out an element when another match lies inside it (a form whose only text is its button's)
    found = [i for i in found if not any(j != i and _within(obs, j, i) for j in found)]
    out = set(found)
    for i in found:
        el = obs.elements[i]
        if el.tag == "label":  # a label's field: the first control after it
            after = sorted((e.start, j) for j, e in obs.elements.items() if e.start >= el.end and e.interactive)
            if after:
                out.add(after[0][1])
        elif not el.interactive:  # text that labels a field without a <label> ("Year" in a div): the field right after it
            after = sorted((e.start, j) for j, e in obs.elements.items() if e.start >= el.end)
            if after and obs.elements[after[0][1]].tag in _FIELDS:
                out.add(after[0][1])
    return sorted(out)


def _within(obs: Observation, inner: int, outer: int) -> bool:
    seen = 0
    p = obs.elements[inner].parent
    while p is not None and seen < 200:
        if p == outer:
            return True
        p = obs.elements[p].parent if p in obs.elements else None
        seen += 1
    return False
