"""The executor's own words about its target, used to ground its element id: a small model often
names the right element ("# Element: the "Yes" button") and then writes an id it has seen often
instead of that element's. When the description quotes a text, the ids the action may use are
narrowed to the elements that show that text (and the field a matching label, or a text right before
a field, names); when nothing matches, or nothing is quoted, every id on the page stays allowed.
With `type_into_fields`, what types text may only target a field and what selects an option only a list
(`field_targets`): "the "Verify password" field" names its label and its field, and Type goes into the
field. Nothing here knows a site or task."""

from __future__ import annotations

import re

from ..web.observation import Observation

_QUOTED = re.compile(r'"([^"\n]{1,80})"|\u201c([^\u201d\n]{1,80})\u201d|(?<![\w])\'([^\'\n]{1,80})\'(?![\w])')
_FIELDS = ("input", "textarea", "select")
_ATTR_TEXT = re.compile(r'(?:placeholder|aria-label|title|alt|value)="([^"]*)"')
# <input> types that take no typed text
_NOT_TYPED = {"button", "submit", "reset", "checkbox", "radio", "file", "image", "hidden", "range", "color"}
_ATTR = re.compile(r'([\w-]+)="([^"]*)"')
TEXT_ACTIONS = ("Type", "Search")  # actions that write text into a field
OPTION_ACTIONS = ("Select Dropdown Option",)  # actions that pick an option of a list


def _norm(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip().lower()


def quoted(description: str) -> list[str]:
    return [next(g for g in m.groups() if g) for m in _QUOTED.finditer(description)]


def candidates(description: str, obs: Observation) -> list[int]:
    """The ids whose element shows a text the description quotes: exact matches of the element's own
    text or label attributes first, else the innermost elements containing it; plus, for a matching
    <label>, its field: the control inside it, else the first one after it. Empty: no restriction."""
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
        if el.tag == "label":  # a label's field: the control inside it (<label><input>iVS</label>), else the first after it
            inside = sorted((e.start, j) for j, e in obs.elements.items() if e.interactive and _within(obs, j, i))
            after = inside or sorted((e.start, j) for j, e in obs.elements.items() if e.start >= el.end and e.interactive)
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


def _attrs(obs: Observation, i: int) -> dict[str, str]:
    e = obs.elements[i]
    return {k.lower(): v for k, v in _ATTR.findall(obs.html[e.start:e.end].split(">", 1)[0])}


def takes_text(obs: Observation, i: int) -> bool:
    """An element text can be typed into: a text-like <input>, a <textarea>, an editable element, or one
    whose role is a text box."""
    tag, attrs = obs.elements[i].tag, _attrs(obs, i)
    if tag == "input":
        return attrs.get("type", "text").lower() not in _NOT_TYPED
    editable = attrs.get("contenteditable", "false").lower() in ("", "true", "plaintext-only")
    return tag == "textarea" or editable or attrs.get("role", "").lower() in ("textbox", "searchbox", "combobox")


def takes_option(obs: Observation, i: int) -> bool:
    """An element an option can be selected in: a <select>, or one whose role is a list box or combo box."""
    return obs.elements[i].tag == "select" or _attrs(obs, i).get("role", "").lower() in ("listbox", "combobox")


def field_targets(ids: list[int], obs: Observation) -> dict[str, list[int]]:
    """The ids each text- or option-writing action may use: typing goes into a field, selecting into a
    list. Among `ids` (what the executor named) when any of them is such an element, else among the whole
    page's; an action is left unrestricted where the page has none (a page this cannot read)."""
    out: dict[str, list[int]] = {}
    for names, test in ((TEXT_ACTIONS, takes_text), (OPTION_ACTIONS, takes_option)):
        fit = [i for i in ids if i in obs.elements and test(obs, i)]
        fit = fit or [i for i in obs.elements if test(obs, i)]
        if fit:
            out.update({name: sorted(fit) for name in names})
    return out
