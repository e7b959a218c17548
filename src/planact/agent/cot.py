"""Chain of thought: reasoning in <think>...</think> comes first and is stripped before parsing."""

from __future__ import annotations

import re

_THINK = re.compile(r"<think>(.*?)</think>", re.DOTALL)


def split_reasoning(text: str) -> tuple[str | None, str]:
    """Return (reasoning, answer). An unclosed <think> means the answer is missing (truncated)."""
    matches = list(_THINK.finditer(text))
    if matches:
        reasoning = "\n".join(m.group(1).strip() for m in matches)
        return reasoning, text[matches[-1].end():].strip()
    if "<think>" in text:
        head, _, tail = text.partition("<think>")
        return tail.strip(), head.strip()
    if "</think>" in text:  # the prefill "<think>" was not echoed back
        head, _, tail = text.partition("</think>")
        return head.strip(), tail.strip()
    return None, text.strip()
