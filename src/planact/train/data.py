"""Training data: the chat JSONL that `planact synth export` writes, as a prompt-completion
dataset (the last assistant message is the completion, so the loss falls on the answer only)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


class TrainDataError(ValueError):
    pass


def read_chat_jsonl(path: str | Path) -> list[dict[str, Any]]:
    p = Path(path)
    if not p.exists():
        raise TrainDataError(f"no training data at {p}: run `planact synth export` first, or give --data")
    rows = []
    for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise TrainDataError(f"{p}:{n}: not JSON ({err})") from None
        msgs = row.get("messages")
        if not msgs or msgs[-1].get("role") != "assistant":
            raise TrainDataError(f"{p}:{n}: needs 'messages' ending with an assistant message")
        rows.append(row)
    if not rows:
        raise TrainDataError(f"{p} has no examples")
    return rows


def to_prompt_completion(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"prompt": r["messages"][:-1], "completion": r["messages"][-1:], "id": r.get("id", str(i))}
            for i, r in enumerate(rows)]


def split(rows: list[dict[str, Any]], eval_fraction: float, seed: int) -> tuple[list, list]:
    """A seeded held-out split; at least one example on each side when there are two or more."""
    import random

    if eval_fraction <= 0 or len(rows) < 2:
        return rows, []
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    n_eval = min(len(rows) - 1, max(1, round(len(rows) * eval_fraction)))
    held = set(order[:n_eval])
    return [r for i, r in enumerate(rows) if i not in held], [r for i, r in enumerate(rows) if i in held]
