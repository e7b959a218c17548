"""The string and URL rules of the two harnesses, as pure functions.

WebArena (web-arena-x/webarena `evaluation_harness/evaluators.py` at commit f62e0b99) and
WebArena-Lite (THUDM/VisualAgentBench `VAB-WebArena-Lite/new/evaluators.py` at commit 9055fc29, which
replaces the former in its setup) differ in small ways that change scores. Each difference is a field
of `HarnessRules`, so a suite scores exactly as the pinned harness its task files come from. Later
changes that never reached those commits are named options (`OPTIONS`), off by default.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
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
    # fuzzy_match with an empty answer: both pinned harnesses ask the judge. Skipping it (1 only if the
    # reference is empty too) is option "empty-answer-skips-judge" (from an unmerged WebArena pull request).
    empty_answer_skips_judge: bool
    # must_include of a one-word phrase also looks among the pieces of every answer token that holds
    # "/", split on "/" (a reference "15" is in "3/15/2024"): WebArena-Lite since VAB commit 521d7e9
    # (Nov 2024), in string_match and program_html; never in must_exclude.
    slash_split: bool
    # "GOLD in PRED" for WebArena: the reference's host+path is a substring of the prediction's, both
    # raw (only a trailing "/" of the whole URL is dropped). Option "url-base-slash" also drops a "/"
    # ending the host+path before comparing (an unmerged WebArena pull request).
    strip_base_slash: bool
    # the harness and commit whose rules these are
    source: str


WEBARENA = HarnessRules("webarena", strip=True, tokenize="single-char", or_in_answers=False, fuzzy_joined=False,
                        default_url_rule="GOLD in PRED", gold_in_pred="host-path-query", unescape_html=True,
                        tokenize_html=False, empty_answer_skips_judge=False, slash_split=False,
                        strip_base_slash=False, source="web-arena-x/webarena@f62e0b99")
WEBARENA_LITE = HarnessRules("webarena-lite", strip=False, tokenize="single-word", or_in_answers=True,
                             fuzzy_joined=True, default_url_rule="EXACT", gold_in_pred="substring",
                             unescape_html=False, tokenize_html=True, empty_answer_skips_judge=False,
                             slash_split=True, strip_base_slash=False,
                             source="THUDM/VisualAgentBench@9055fc29 (VAB-WebArena-Lite/new)")
RULES = {r.name: r for r in (WEBARENA, WEBARENA_LITE)}

# Named departures from the pinned harnesses: option -> (field, value, what it changes).
OPTIONS: dict[str, tuple[str, object, str]] = {
    "empty-answer-skips-judge": ("empty_answer_skips_judge", True,
                                 "fuzzy_match scores an empty answer without the judge (unmerged WebArena PR)"),
    "url-base-slash": ("strip_base_slash", True,
                       "url_match drops a trailing '/' of the host+path before comparing (unmerged WebArena PR)"),
    "no-slash-split": ("slash_split", False,
                       "must_include does not look inside '/'-joined tokens (VAB-WebArena-Lite before 521d7e9)"),
}


def with_options(rules: HarnessRules, options: list[str] | tuple[str, ...] = ()) -> HarnessRules:
    """`rules` with named options applied (ValueError for an unknown one)."""
    changes: dict[str, object] = {}
    for name in options:
        if name not in OPTIONS:
            raise ValueError(f"unknown scoring option {name!r} (known: {', '.join(OPTIONS)})")
        field_name, value, _ = OPTIONS[name]
        changes[field_name] = value
    if not changes:
        return rules
    label = "+".join(sorted(options))
    return replace(rules, **changes, source=f"{rules.source} with {label}")


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


def must_include(ref: str, pred: str, rules: HarnessRules, n_refs: int = 1, tokenize: bool = True,
                 slash_split: bool | None = None) -> bool:
    """`ref` appears in `pred`; a short reference must be a whole token so that "0" does not match "10".
    `tokenize=False` is WebArena's program_html, which never tokenizes. With the harness's
    `slash_split` a one-word reference may also be a "/"-separated piece of a token ("15" in "3/15")."""
    clean_ref, clean_pred = clean_answer(ref, rules), clean_answer(pred, rules)
    if tokenize and rules.tokenize == "single-char":
        use_tokens = n_refs == 1 and len(clean_ref) == 1 and len(word_tokenize(clean_ref)) == 1
    else:
        use_tokens = tokenize and len(word_tokenize(clean_ref)) == 1
    if use_tokens:
        tokens = word_tokenize(clean_pred)
        if rules.slash_split if slash_split is None else slash_split:
            tokens = tokens + [piece for t in tokens if "/" in t for piece in t.split("/")]
        return clean_ref in tokens
    return clean_ref in clean_pred


def must_exclude(ref: str, pred: str, rules: HarnessRules) -> bool:
    """No "/" split here in either harness."""
    return not must_include(ref, pred, rules, tokenize=True, slash_split=False)


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
    # WebArena f62e0b99: drop a trailing "/" of each whole URL, then GOLD's host+path must be a
    # substring of PRED's (raw), and every query parameter of the references must have one of its values
    pred_base, pred_query = _base_and_query(pred_url.rstrip("/"), rules.strip_base_slash)
    base_ok = any(_base_and_query(r.rstrip("/"), rules.strip_base_slash)[0] in pred_base for r in refs)
    ref_query: dict[str, set[str]] = {}
    for r in refs:
        for k, v in _base_and_query(r.rstrip("/"), rules.strip_base_slash)[1].items():
            ref_query.setdefault(k, set()).update(v)
    missing = [k for k, vals in ref_query.items() if not any(v in pred_query.get(k, []) for v in vals)]
    how = f"host+path {pred_base!r}" + (" contains a reference's" if base_ok else " contains no reference's")
    if missing:
        how += f"; query parameters not matched: {', '.join(sorted(missing))}"
    return base_ok and not missing, how


def _exact_clean(url: str) -> str:
    url = str(url).replace("localhost", "127.0.0.1")
    return url[:-1] if url.endswith("/") else url


def _base_and_query(url: str, strip_slash: bool = False) -> tuple[str, dict[str, list[str]]]:
    p = urlparse(url)
    base = p.netloc + p.path
    return (base.rstrip("/") if strip_slash else base), parse_qs(p.query)

