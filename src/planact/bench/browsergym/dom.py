"""planact's observation built from a BrowserGym observation (for an agent that gets only BrowserGym's
`obs`, as AgentLab's agents do): the page's DOM snapshot (`dom_object`, Chromium's
DOMSnapshot.captureSnapshot with BrowserGym's `bid` on each element) and BrowserGym's element
properties (`extra_element_properties`: visibility, box, clickable), written in the simplified HTML
of `web/js/observe.js`: the same tags, attributes, unwrapping of textless wrappers and icon hints.
An element's id is its bid when the bid is a number (BrowserGym's own numbering, so the ids are
stable), otherwise a number from 1,000,000 up kept for the bid (frames' bids, "a12")."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

SKIP = {"script", "style", "noscript", "template", "meta", "link", "head", "base", "title"}
TRANSPARENT = {"html", "body", "div", "span", "section", "article", "main", "header", "footer", "nav", "aside",
               "font", "center", "b", "i", "em", "strong", "small", "u", "tbody", "thead", "tfoot", "figure",
               "picture", "g", "svg", "br", "hr", "wbr"}
INTERACTIVE = {"a", "button", "input", "select", "textarea", "option", "summary", "label", "details"}
ROLES = {"button", "link", "checkbox", "radio", "tab", "menuitem", "option", "switch", "textbox", "combobox",
         "treeitem", "slider", "spinbutton", "searchbox", "menuitemcheckbox", "menuitemradio", "gridcell"}
KEEP_ATTRS = ("type", "name", "placeholder", "aria-label", "title", "alt", "role", "href", "fill", "aria-expanded",
              "aria-selected", "aria-checked", "disabled", "readonly", "contenteditable")
VOID = re.compile(r"^(input|img|canvas|circle|rect|polygon|ellipse|line|path)$")
FRAME_IDS = 1_000_000


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(s: str, n: int) -> str:
    return s[:n] + "…" if len(s) > n else s


@dataclass
class BidNumbers:
    """planact's number for each bid, kept across the observations of an episode."""

    other: dict[str, int] = field(default_factory=dict)

    def of(self, bid: str) -> int:
        if bid.isdigit() and int(bid) < FRAME_IDS:
            return int(bid)
        if bid not in self.other:
            self.other[bid] = FRAME_IDS + len(self.other)
        return self.other[bid]


@dataclass
class _Node:
    tag: str
    attrs: dict[str, str]
    children: list[Any]  # _Node or str (text)
    value: str | None = None
    checked: bool = False
    selected: bool = False
    clickable: bool = False


def _tree(dom: dict, doc_index: int = 0) -> _Node | None:
    strings = dom["strings"]
    doc = dom["documents"][doc_index]
    n = doc["nodes"]
    count = len(n["nodeName"])

    def s(i: int) -> str:
        return strings[i] if i is not None and i >= 0 else ""

    values = dict(zip(n.get("inputValue", {}).get("index", []), n.get("inputValue", {}).get("value", [])))
    checked = set(n.get("inputChecked", {}).get("index", []))
    selected = set(n.get("optionSelected", {}).get("index", []))
    clickable = set(n.get("isClickable", {}).get("index", []))
    frames = dict(zip(n.get("contentDocumentIndex", {}).get("index", []),
                      n.get("contentDocumentIndex", {}).get("value", [])))
    nodes: list[Any] = [None] * count
    for i in range(count):
        kind = n["nodeType"][i]
        if kind == 1:
            raw = n["attributes"][i]
            attrs = {s(raw[k]): s(raw[k + 1]) for k in range(0, len(raw), 2)}
            nodes[i] = _Node(s(n["nodeName"][i]).lower(), attrs, [], s(values[i]) if i in values else None,
                             i in checked, i in selected, i in clickable)
        elif kind == 3:
            nodes[i] = s(n["nodeValue"][i])
    root = None
    for i in range(count):
        p = n["parentIndex"][i]
        if nodes[i] is None:
            continue
        if p is None or p < 0 or nodes[p] is None:
            if isinstance(nodes[i], _Node) and root is None:
                root = nodes[i]
            continue
        if isinstance(nodes[p], _Node):
            nodes[p].children.append(nodes[i])
    for i, sub in frames.items():  # a frame's document in place of its children
        if isinstance(nodes[i], _Node) and sub < len(dom["documents"]):
            inner = _tree(dom, sub)
            if inner is not None:
                nodes[i].children = [inner]
    return root


def observation_raw(obs: dict, numbers: BidNumbers, max_text: int = 300) -> tuple[dict, dict[int, str]]:
    """What observe.js returns ({html, elements, ...}) for a BrowserGym observation, and planact's id ->
    bid for every element shown."""
    props: dict[str, dict] = obs.get("extra_element_properties") or {}
    root = _tree(obs["dom_object"])
    out: list[str] = []
    length = 0
    elements: list[dict] = []
    bids: dict[int, str] = {}

    def push(text: str) -> None:
        nonlocal length
        out.append(text)
        length += len(text)

    def text_of(node: _Node) -> str:
        return re.sub(r"\s+", " ", "".join(c for c in node.children if isinstance(c, str))).strip()

    def walk(node: _Node, parent: int | None) -> None:
        if node.tag in SKIP or node.attrs.get("id") == "sync-task-cover":
            return
        bid = node.attrs.get("bid")
        p = props.get(bid or "", {})
        if bid is not None and (p.get("visibility") or 0) < 0.5 and node.tag not in ("option", "html", "body"):
            if not any(isinstance(c, _Node) for c in node.children):
                return  # an invisible leaf
            for c in node.children:  # an invisible box may still hold visible content (positioned)
                if isinstance(c, _Node):
                    walk(c, parent)
            return
        text = text_of(node)
        role = node.attrs.get("role")
        act = (node.tag in INTERACTIVE or (role in ROLES) or "onclick" in node.attrs or p.get("clickable", False)
               or node.clickable or node.attrs.get("contenteditable") in ("", "true"))
        attrs = []
        for a in KEEP_ATTRS:
            if a not in node.attrs:
                continue
            v = node.attrs[a]
            if a == "href" and (v.startswith("javascript:") or v == "#"):
                continue
            attrs.append(a if v == "" else f'{a}="{_esc(_clip(v, 80 if a == "href" else 120)).replace(chr(34), "&quot;")}"')
        if node.tag in ("input", "textarea", "select"):
            value = node.value if node.value is not None else node.attrs.get("value", "")
            kind = node.attrs.get("type", "")
            if value and kind == "password":
                attrs.append(f'value="{"*" * min(len(value), 16)}"')
            elif value and not (kind in ("checkbox", "radio") and value == "on"):
                attrs.append(f'value="{_esc(_clip(value, 120))}"')
            if node.checked or "checked" in node.attrs:
                attrs.append("checked")
        if node.tag == "option" and (node.selected or "selected" in node.attrs):
            attrs.append("selected")
        leaf = not any(isinstance(c, _Node) for c in node.children)
        bbox = p.get("bbox")
        sized = bool(bbox and bbox[2] > 0 and bbox[3] > 0)
        if leaf and not sized and not text and node.tag != "option":
            return
        icon = leaf and sized and not text and node.tag in TRANSPARENT and node.tag not in ("br", "hr")
        if (icon or (act and not text and leaf)) and not attrs:
            cls = node.attrs.get("class", "").strip()
            if cls:
                attrs.append(f'class="{_esc(_clip(cls, 60))}"')
            elif node.attrs.get("id"):
                attrs.append(f'dom-id="{_esc(_clip(node.attrs["id"], 60))}"')
        keep = act or text or icon or node.tag not in TRANSPARENT or any(
            k in node.attrs for k in ("aria-label", "title", "role"))
        my_id = None
        start = length
        if keep and bid is not None and node.tag not in ("html", "body", "br"):
            my_id = numbers.of(bid)
            bids[my_id] = bid
            push(f"\n<{node.tag} id=\"{my_id}\"{' ' + ' '.join(attrs) if attrs else ''}>")
        for c in node.children:
            if isinstance(c, str):
                t = re.sub(r"\s+", " ", c)
                if t.strip():
                    push(_esc(_clip(t, max_text)))
            else:
                walk(c, my_id if my_id is not None else parent)
        if my_id is not None:
            if not VOID.match(node.tag):
                push(f"</{node.tag}>")
            x, y, w, h = bbox if bbox else (0.0, 0.0, 0.0, 0.0)
            elements.append({"id": my_id, "tag": node.tag, "text": _clip(text, 120), "parent": parent, "start": start,
                             "end": length, "interactive": bool(act), "inViewport": (p.get("visibility") or 0) > 0,
                             "x": x, "y": y, "w": w, "h": h})

    if root is not None:
        walk(root, None)
    html = "".join(out)
    return {"html": html, "elements": elements, "rawChars": len(html), "cut": None, "frames": [],
            "scrollY": 0, "pageHeight": 0, "viewportHeight": 0}, bids
