"""Read the simplified HTML a scripted model is shown, the way a person reads a page."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = {"input", "img", "canvas", "circle", "rect", "polygon", "ellipse", "line", "path", "br", "hr"}


@dataclass
class El:
    id: int
    tag: str
    attrs: dict[str, str]
    parent: "El | None" = None
    text_parts: list[str] = field(default_factory=list)
    children: list["El"] = field(default_factory=list)

    @property
    def own_text(self) -> str:
        return " ".join("".join(self.text_parts).split())

    @property
    def text(self) -> str:
        parts = [self.own_text] + [c.text for c in self.children]
        return " ".join(p for p in parts if p)

    def get(self, name: str, default: str = "") -> str:
        return self.attrs.get(name, default)


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[El] = []
        self.stack: list[El] = []

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if "id" not in a:
            return
        el = El(int(a.pop("id")), tag, a, self.stack[-1] if self.stack else None)
        if el.parent:
            el.parent.children.append(el)
        self.elements.append(el)
        if tag not in VOID:
            self.stack.append(el)

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        if self.stack:
            self.stack[-1].text_parts.append(data)


class Page:
    def __init__(self, html: str) -> None:
        p = _Parser()
        p.feed(html)
        self.elements = p.elements

    def all(self, tag: str | None = None, text: str | None = None, own: bool = True, **attrs) -> list[El]:
        out = []
        for e in self.elements:
            if tag and e.tag != tag:
                continue
            if text is not None and (e.own_text if own else e.text) != text:
                continue
            if any(e.get(k.replace("_", "-")) != v for k, v in attrs.items()):
                continue
            out.append(e)
        return out

    def first(self, tag: str | None = None, text: str | None = None, own: bool = True, **attrs) -> El:
        found = self.all(tag, text, own, **attrs)
        if not found:
            raise LookupError(f"no element tag={tag} text={text!r} {attrs}")
        return found[0]

    def after(self, anchor: El, **kw) -> El:
        for e in self.elements:
            if e.id > anchor.id and all(e.get(k) == v for k, v in kw.items()):
                return e
        raise LookupError(f"nothing after {anchor.id} with {kw}")


def prompt_parts(messages) -> tuple[str, Page, str]:
    """(task, current page, whole user message) from an executor prompt."""
    user = messages[-1].content
    task = re.search(r"## Task\n(.*?)\n\n", user, re.DOTALL).group(1).strip()
    html = re.search(r"## Current page\nURL: [^\n]*\n(.*)\n\nWrite the next action\.", user, re.DOTALL).group(1)
    return task, Page(html), user


def click(el: El) -> str:
    return f'do(action="Click", element="{el.id}")'


def type_(el: El, text: str) -> str:
    return f'do(action="Type", argument="{text}", element="{el.id}")'
