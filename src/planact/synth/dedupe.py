"""Near-duplicate detection for generated queries: normalized text (lower case, punctuation and
extra spaces removed) must differ, and the ROUGE-L F1 of the word sequences against every query
already kept must stay below a threshold (0.7, as Self-Instruct filters generated instructions)."""

from __future__ import annotations

import re
import threading
from collections import Counter, defaultdict

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
    """Remembers accepted texts; `check` returns (id of the near-duplicate, score) or None.

    An inverted index keeps this fast at the paper's scale (10,000+ queries): ROUGE-L F1 >= t needs
    an LCS of at least t * (|a| + |b|) / 2 words, hence at least that many shared words, so only
    texts sharing enough words are compared word by word."""

    def __init__(self, threshold: float = 0.7) -> None:
        self.threshold = threshold
        self._exact: dict[str, str] = {}
        self._items: list[tuple[list[str], Counter, str]] = []  # (words, word counts, id)
        self._index: dict[str, list[int]] = defaultdict(list)
        self._lock = threading.Lock()

    def check(self, text: str) -> tuple[str, float] | None:
        norm = normalize(text)
        with self._lock:
            if not norm:
                return ("(empty)", 1.0)
            if norm in self._exact:
                return (self._exact[norm], 1.0)
            words = norm.split()
            counts = Counter(words)
            shared: Counter = Counter()
            for w, c in counts.items():
                for i in self._index.get(w, ()):
                    shared[i] += min(c, self._items[i][1][w])
            best: tuple[str, float] | None = None
            for i, n in shared.items():
                other, _, oid = self._items[i]
                if n < self.threshold * (len(words) + len(other)) / 2:
                    continue
                lcs = _lcs(words, other)
                score = 2 * lcs / (len(words) + len(other))
                if score >= self.threshold and (best is None or score > best[1]):
                    best = (oid, score)
            return best

    def add(self, text: str, item_id: str) -> None:
        norm = normalize(text)
        with self._lock:
            self._exact.setdefault(norm, item_id)
            words = norm.split()
            counts = Counter(words)
            self._items.append((words, counts, item_id))
            for w in counts:
                self._index[w].append(len(self._items) - 1)

    def check_and_add(self, text: str, item_id: str) -> tuple[str, float] | None:
        dup = self.check(text)
        if dup is None:
            self.add(text, item_id)
        return dup
