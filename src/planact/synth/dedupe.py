"""Near-duplicate detection for generated queries: normalized text (lower case, punctuation and
extra spaces removed) must differ, and the ROUGE-L F1 of the word sequences against every query
already kept must stay below a threshold (0.7, as Self-Instruct filters generated instructions)."""

from __future__ import annotations

import re
import threading

_WORD = re.compile(r"[a-z0-9]+")


def normalize(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def _lcs(a: list[str], b: list[str]) -> int:
    if len(a) < len(b):
        a, b = b, a
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b, 1):
            cur.append(prev[j - 1] + 1 if x == y else max(prev[j], cur[j - 1]))
        prev = cur
    return prev[-1]


def rouge_l(a: str, b: str) -> float:
    """ROUGE-L F1 between two texts, on normalized words."""
    wa, wb = normalize(a).split(), normalize(b).split()
    if not wa or not wb:
        return 0.0
    lcs = _lcs(wa, wb)
    if lcs == 0:
        return 0.0
    p, r = lcs / len(wb), lcs / len(wa)
    return 2 * p * r / (p + r)


class Deduper:
    """Remembers accepted texts; `check` returns the id of the near-duplicate, or None."""

    def __init__(self, threshold: float = 0.7) -> None:
        self.threshold = threshold
        self._exact: dict[str, str] = {}
        self._items: list[tuple[str, list[str], str]] = []  # (normalized, words, id)
        self._lock = threading.Lock()

    def check(self, text: str) -> tuple[str, float] | None:
        norm = normalize(text)
        with self._lock:
            if not norm:
                return ("(empty)", 1.0)
            if norm in self._exact:
                return (self._exact[norm], 1.0)
            words = norm.split()
            for _, other, oid in self._items:
                # ROUGE-L can reach the threshold only if the lengths are close enough
                short, long_ = sorted((len(words), len(other)))
                if 2 * short / (short + long_) < self.threshold:
                    continue
                score = rouge_l(" ".join(words), " ".join(other))
                if score >= self.threshold:
                    return (oid, score)
        return None

    def add(self, text: str, item_id: str) -> None:
        norm = normalize(text)
        with self._lock:
            self._exact.setdefault(norm, item_id)
            self._items.append((norm, norm.split(), item_id))

    def check_and_add(self, text: str, item_id: str) -> tuple[str, float] | None:
        dup = self.check(text)
        if dup is None:
            self.add(text, item_id)
        return dup
