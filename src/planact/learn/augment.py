"""Executor examples with their element ids renumbered: the page, the past actions and the answer
all use one random order-preserving map of the ids, so that the example still holds (the same
element, the same text, the same order) while the number to copy differs. A small executor trained
on a few pages learns which ids are usual ("element 3") instead of reading the id off the element it
names; renumbered copies of its examples teach it to copy. Nothing here knows a task or a site."""

from __future__ import annotations

import random
import re
from typing import Any

# ids as the observation writes them (`id="12"`) and as actions name them (`element="12"`)
_ID = re.compile(r'\b(id|element)="(\d+)"')
# ids from this value up encode a frame (1,000,000 + 10,000 x frame id): left as they are
_FRAME_IDS = 1_000_000


def ids_in(messages: list[dict[str, Any]]) -> list[int]:
    """The element ids an example mentions, sorted."""
    found = {int(m.group(2)) for msg in messages if isinstance(msg.get("content"), str)
             for m in _ID.finditer(msg["content"])}
    return sorted(i for i in found if i < _FRAME_IDS)


def id_map(ids: list[int], rng: random.Random) -> dict[int, int]:
    """An increasing map of `ids`: a random start and random gaps (1 to 3), so order is kept and the
    numbers stay in the range a page of that size shows."""
    out: dict[int, int] = {}
    nxt = 1 + rng.randint(0, max(4, len(ids)))
    for i in ids:
        out[i] = nxt
        nxt += rng.randint(1, 3)
    return out


def renumbered(row: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """A copy of a chat example with its element ids renumbered throughout (see the module's text)."""
    mapping = id_map(ids_in(row["messages"]), rng)

    def sub(m: re.Match) -> str:
        i = int(m.group(2))
        return f'{m.group(1)}="{mapping.get(i, i)}"'

    messages = [{**msg, "content": _ID.sub(sub, msg["content"])} if isinstance(msg.get("content"), str) else msg
                for msg in row["messages"]]
    return {**row, "messages": messages}  # source unchanged: every role's rows keep the same fields


def renumber_rows(rows: list[dict[str, Any]], share: float, seed: int) -> tuple[list[dict[str, Any]], int]:
    """Rows with ids renumbered: every repeat of a row already seen (the up-sampling's copies, which
    would otherwise teach the same numbers again) and a `share` of the first occurrences; and how many
    were renumbered."""
    if share <= 0:
        return rows, 0
    rng = random.Random(seed)
    seen: set[str] = set()
    out, changed = [], 0
    for r in rows:
        key = r["source"]["id"]
        first = key not in seen
        seen.add(key)
        if not first or rng.random() < share:
            out.append(renumbered(r, rng))
            changed += 1
        else:
            out.append(r)
    return out, changed
