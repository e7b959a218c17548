"""The string and URL rules of the two harnesses, as pure functions.

WebArena (web-arena-x/webarena `evaluation_harness/evaluators.py`) and WebArena-Lite
(THUDM/VisualAgentBench `VAB-WebArena-Lite/new/evaluators.py`, which replaces the former in its
setup) differ in small ways that change scores. Each difference is a field of `HarnessRules`, so a
suite scores exactly as the harness its task files were written for.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal
from urllib.parse import parse_qs, urlparse

OR = " |OR| "


@dataclass(frozen=True)
class HarnessRules:
    name: str
    # clean_answer: WebArena strips whitespace first; WebArena-Lite only drops quotes and lowercases.
    strip: bool
    # must_include on the answer: "single-char" = WebArena (token match only when the reference list
    # has one entry and that entry is one character); "single-word" = WebArena-Lite (token match
    # whenever the reference is one word).
    tokenize: Literal["single-char", "single-word"]
    # WebArena-Lite also splits answer phrases on " |OR| " (WebArena only does it in program_html).
    or_in_answers: bool
    # fuzzy_match: WebArena asks the judge once per reference; WebArena-Lite once with all joined by ", ".
    fuzzy_joined: bool
    # The url_match rule when a task has no url_note.
    default_url_rule: Literal["GOLD in PRED", "EXACT"]
    # "GOLD in PRED" means host+path equality with query parameters (WebArena) or plain substring
    # containment of the reference in the final URL (WebArena-Lite).
    gold_in_pred: Literal["host-path-query", "substring"]
    # program_html: WebArena unescapes HTML entities in the located text; WebArena-Lite does not.
    unescape_html: bool
    # program_html must_include: WebArena never tokenizes; WebArena-Lite tokenizes one-word phrases.
    tokenize_html: bool
    # fuzzy_match with an empty answer: WebArena scores it without the judge (1 only if the reference
    # is empty too); WebArena-Lite asks the judge.
    empty_answer_skips_judge: bool


WEBARENA = HarnessRules("webarena", strip=True, tokenize="single-char", or_in_answers=False, fuzzy_joined=False,
                        default_url_rule="GOLD in PRED", gold_in_pred="host-path-query", unescape_html=True,
                        tokenize_html=False, empty_answer_skips_judge=True)
WEBARENA_LITE = HarnessRules("webarena-lite", strip=False, tokenize="single-word", or_in_answers=True,
                             fuzzy_joined=True, default_url_rule="EXACT", gold_in_pred="substring",
                             unescape_html=False, tokenize_html=True, empty_answer_skips_judge=False)
RULES = {r.name: r for r in (WEBARENA, WEBARENA_LITE)}


# ---------------------------------------------------------------------------------------------
# strings

def clean_answer(text: str, rules: HarnessRules) -> str:
    if rules.strip:
        text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1]
    elif text in ("'", '"'):  # a lone quote starts and ends with itself: the harness empties it
        text = ""
    return text.lower()


@lru_cache(maxsize=1)
def _tokenizer():
    """nltk's word_tokenize, as the harness uses. Its sentence splitter needs the `punkt_tab` data;
    where that cannot be downloaded, an untrained Punkt splitter stands in (they differ only on
    abbreviations such as "Mr.")."""
    import nltk
    from nltk.tokenize import NLTKWordTokenizer, PunktSentenceTokenizer

    try:
        nltk.word_tokenize("probe")
        return nltk.word_tokenize, "nltk.word_tokenize"
    except LookupError:
        sentences, words = PunktSentenceTokenizer(), NLTKWordTokenizer()
        return (lambda text: [w for s in sentences.tokenize(text) for w in words.tokenize(s)],
                "nltk NLTKWordTokenizer + untrained Punkt (punkt_tab data not installed)")


def word_tokenize(text: str) -> list[str]:
    return _tokenizer()[0](text)


def tokenizer_name() -> str:
    return _tokenizer()[1]


def exact_match(ref: str, pred: str, rules: HarnessRules) -> bool:
    return clean_answer(pred, rules) == clean_answer(ref, rules)


def must_include(ref: str, pred: str, rules: HarnessRules, n_refs: int = 1, tokenize: bool = True) -> bool:
    """`ref` appears in `pred`; a short reference must be a whole token so that "0" does not match "10".
    `tokenize=False` is WebArena's program_html, which never tokenizes."""
    clean_ref, clean_pred = clean_answer(ref, rules), clean_answer(pred, rules)
    if tokenize and rules.tokenize == "single-char":
        use_tokens = n_refs == 1 and len(clean_ref) == 1 and len(word_tokenize(clean_ref)) == 1
    else:
        use_tokens = tokenize and len(word_tokenize(clean_ref)) == 1
    if use_tokens:
        return clean_ref in word_tokenize(clean_pred)
    return clean_ref in clean_pred


def must_exclude(ref: str, pred: str, rules: HarnessRules) -> bool:
    return not must_include(ref, pred, rules, tokenize=True)


def str_to_int(text: str) -> int | None:
    try:
        return int(text.strip().replace(",", ""))
    except ValueError:
        return None


_INEQUALITY = ("<=", ">=", "==", "<", ">")


def compare_inequality(value: float, inequality: str, tol: float = 1e-8) -> bool:
    """`required_values` entries such as "< 700" or ">= 300" (WebArena-Lite)."""
    for op in _INEQUALITY:
        if op in inequality:
            num = float(inequality.split(op)[1].strip())
            return {"<=": value <= num + tol, ">=": value >= num - tol, "==": abs(value - num) <= tol,
                    "<": value < num + tol, ">": value > num - tol}[op]
    raise ValueError(f"invalid inequality {inequality!r}")


# ---------------------------------------------------------------------------------------------
# URLs

def url_matches(pred_url: str, reference: str, rule: str, rules: HarnessRules) -> tuple[bool, str]:
    """Whether the final URL satisfies `reference` (alternatives joined by " |OR| ") under `rule`
    ("GOLD in PRED" or "EXACT"). Returns (match, how it was decided)."""
    refs = reference.split(OR)
    if rule == "EXACT":
        pred = _exact_clean(pred_url)
        cleaned = [_exact_clean(r) for r in refs]
        return pred in cleaned, f"exact: {pred!r} in {cleaned!r}"
    if rule != "GOLD in PRED":
        raise ValueError(f"unknown url matching rule {rule!r}")
    if rules.gold_in_pred == "substring":
        pred = _exact_clean(pred_url)
        cleaned = [_exact_clean(r) for r in refs]
        return any(r in pred for r in cleaned), f"reference contained in {pred!r}"
    pred_base, pred_query = _base_and_query(pred_url.rstrip("/"))
    base_ok = any(_base_and_query(r.rstrip("/"))[0] == pred_base for r in refs)
    ref_query: dict[str, set[str]] = {}
    for r in refs:
        for k, v in _base_and_query(r.rstrip("/"))[1].items():
            ref_query.setdefault(k, set()).update(v)
    missing = [k for k, vals in ref_query.items() if not any(v in pred_query.get(k, []) for v in vals)]
    how = f"host+path {pred_base!r}" + (" matches" if base_ok else " differs")
    if missing:
        how += f"; query parameters not matched: {', '.join(sorted(missing))}"
    return base_ok and not missing, how


def _exact_clean(url: str) -> str:
    url = str(url).replace("localhost", "127.0.0.1")
    return url[:-1] if url.endswith("/") else url


def _base_and_query(url: str) -> tuple[str, dict[str, list[str]]]:
    p = urlparse(url)
    return (p.netloc + p.path).rstrip("/"), parse_qs(p.query)

