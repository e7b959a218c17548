"""Observations: simplified HTML with stable numeric element ids, a token budget, and the short
snippets that stand in for past observations in the executor's history ("garbage collection")."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources

from ..llm.base import approx_tokens

_ID_ATTR = re.compile(r'(?<![\w-])id="(\d+)"')


def page_content(html: str) -> str:
    """The page's content with element ids renumbered in order of appearance. A page that re-renders
    a part of itself unchanged (search results drawn again on a second click of Search) gets new ids
    for the same elements; its content is the same, and so is this."""
    ids: dict[str, int] = {}
    return _ID_ATTR.sub(lambda m: f'id="{ids.setdefault(m.group(1), len(ids) + 1)}"', html)


TRUNCATION_MARKER = "<!-- planact: observation truncated here ({hidden} of {total} elements not shown) -->"


@dataclass(frozen=True)
class ElementInfo:
    id: int
    tag: str
    text: str
    parent: int | None
    start: int
    end: int
    interactive: bool
    in_viewport: bool
    box: tuple[float, float, float, float]


@dataclass
class ObservationOptions:
    token_budget: int = 6000
    viewport_only: bool = False
    max_text: int = 300
    max_ms: int = 3000  # the page walk stops after this long (a 60,000-element page), marked as cut


@dataclass
class Observation:
    url: str
    title: str
    html: str
    elements: dict[int, ElementInfo]
    raw_html_chars: int
    tokens: int
    truncated: bool = False
    scroll_y: float = 0.0
    page_height: float = 0.0
    viewport_height: float = 0.0
    screenshot: bytes | None = field(default=None, repr=False)

    @property
    def digest(self) -> str:
        """Changes whenever the page's content or address changes (used to detect loops and actions
        that changed nothing); not when a part is drawn again unchanged with new element ids."""
        return hashlib.sha1(f"{self.url}\n{page_content(self.html)}".encode()).hexdigest()[:16]

    def snippet(self, element_id: int | None, max_chars: int = 400) -> str:
        """The part of the page around one element: its parent's opening and the element itself.
        Past observations shrink to this in the executor's history."""
        if element_id is None or element_id not in self.elements:
            return f"<!-- page: {self.title or self.url} -->"
        el = self.elements[element_id]
        start, end = el.start, el.end
        parent = self.elements.get(el.parent) if el.parent is not None else None
        if parent is not None and el.start - parent.start <= max_chars // 2:
            start = parent.start
        text = self.html[start:end].strip()
        if len(text) > max_chars:
            text = text[:max_chars].rstrip() + " …"
        return text

    def summary(self) -> dict:
        return {"url": self.url, "title": self.title, "tokens": self.tokens, "chars": len(self.html),
                "raw_html_chars": self.raw_html_chars, "elements": len(self.elements), "truncated": self.truncated}


def add_tab_line(obs: Observation, titles: list[str], current: int, count_tokens: Callable[[str], int]) -> None:
    """While more than one tab is open, the observation ends with them all, the current one marked:
    `Open tabs: [0] "Title" | [1] "Title" (current)`."""
    if len(titles) > 1:
        obs.html += "\nOpen tabs: " + " | ".join(
            f'[{i}] "{t[:60]}"' + (" (current)" if i == current else "") for i, t in enumerate(titles))
        obs.tokens = count_tokens(obs.html)


def page_script(name: str) -> str:
    """A script from `web/js/` ("observe", "images"), for `page.evaluate`."""
    return resources.files("planact.web").joinpath(f"js/{name}.js").read_text(encoding="utf-8")


def build_observation(
    raw: dict,
    url: str,
    title: str,
    options: ObservationOptions,
    count_tokens: Callable[[str], int] = approx_tokens,
) -> Observation:
    """Turn what observe.js returned into an Observation, cutting it to the token budget."""
    html: str = raw["html"]
    shift = len(html) - len(html.lstrip("\n"))
    html = html[shift:]
    elements = {
        e["id"]: ElementInfo(
            id=e["id"], tag=e["tag"], text=e["text"], parent=e["parent"],
            start=max(0, e["start"] - shift), end=max(0, e["end"] - shift),
            interactive=e["interactive"], in_viewport=e["inViewport"], box=(e["x"], e["y"], e["w"], e["h"]),
        )
        for e in raw["elements"]
    }
    tokens = count_tokens(html)
    truncated = False
    if tokens > options.token_budget:
        html, elements, tokens = _truncate(html, elements, options.token_budget, count_tokens)
        truncated = True
    elif raw.get("cut"):  # the walk stopped early (time or size): say so, as a token cut does
        html = html + "\n" + CUT_MARKER.format(reason=raw["cut"], shown=len(elements))
        tokens = count_tokens(html)
        truncated = True
    return Observation(
        url=url, title=title, html=html, elements=elements, raw_html_chars=raw["rawChars"], tokens=tokens,
        truncated=truncated, scroll_y=raw.get("scrollY", 0.0), page_height=raw.get("pageHeight", 0.0),
        viewport_height=raw.get("viewportHeight", 0.0),
    )


CUT_MARKER = "<!-- planact: observation stopped early ({reason}); the first {shown} elements are shown -->"


def _truncate(html: str, elements: dict[int, ElementInfo], budget: int, count: Callable[[str], int]):
    total = len(elements)
    # Find the longest prefix that fits by bisection on characters, then cut at a line boundary
    # (each element starts on its own line, so no tag is ever cut in half).
    lo, hi = 0, len(html)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if count(html[:mid]) <= budget:
            lo = mid
        else:
            hi = mid - 1
    cut = html.rfind("\n", 0, lo)
    cut = cut if cut > 0 else lo
    kept = {i: e for i, e in elements.items() if e.start < cut}
    marker = TRUNCATION_MARKER.format(hidden=total - len(kept), total=total)
    text = html[:cut] + "\n" + marker
    return text, kept, count(text)
