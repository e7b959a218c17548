"""WebArena's evaluators over a finished episode: string_match on the answer, url_match on the
final URL, program_html on located page content. A task's score is the product of its evaluators
(in `eval_types` order, as the harness runs them); every check keeps the evidence that decided it.
"""

from __future__ import annotations

import html
import re
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from ..judge import Judge
from .helpers import HelperContext, HelperError, call_helper, parse_call
from .rules import (
    OR,
    HarnessRules,
    clean_answer,
    compare_inequality,
    exact_match,
    must_exclude,
    must_include,
    str_to_int,
    tokenizer_name,
    url_matches,
)

EVAL_TYPES = ("string_match", "url_match", "program_html")
EVIDENCE_CHARS = 4000


class ScoringError(RuntimeError):
    """The task cannot be scored as configured (unknown evaluator, a judge needed but missing)."""


@dataclass
class EvaluatorResult:
    type: str
    score: float
    checks: list[dict[str, Any]] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass
class TaskScore:
    score: float
    results: list[EvaluatorResult]
    rules: str

    def details(self) -> dict[str, Any]:
        return {"harness": self.rules, "score": self.score, "evaluators": [asdict(r) for r in self.results]}


def _clip(text: str) -> str:
    return text if len(text) <= EVIDENCE_CHARS else text[:EVIDENCE_CHARS] + f"… ({len(text)} chars)"


class WebArenaEvaluator:
    def __init__(self, rules: HarnessRules, judge: Judge | None = None, shopping_url: str | None = None,
                 admin_account: tuple[str, str] = ("admin", "admin1234"), settle_s: float = 3.0) -> None:
        self.rules, self.judge = rules, judge
        self.shopping_url, self.admin_account, self.settle_s = shopping_url, admin_account, settle_s

    def _judge(self) -> Judge:
        if self.judge is None:
            raise ScoringError("this task's fuzzy_match needs a judge model (set --judge or eval.judge)")
        return self.judge

    # -- the task ---------------------------------------------------------------------------
    def evaluate(self, config: dict, answer: str | None, page) -> TaskScore:
        """`config`: the task with its placeholders resolved; `answer`: the agent's exit message
        (None when it gave none: scored as "", like the harness's stand-in stop action);
        `page`: the Playwright page the episode ended on (program_html may navigate it)."""
        final_url = page.url
        results = []
        for kind in config["eval"]["eval_types"]:
            if kind == "string_match":
                results.append(self.string_match(config, answer or ""))
            elif kind == "url_match":
                results.append(self.url_match(config, page.url))
            elif kind == "program_html":
                results.append(self.program_html(config, page))
            else:
                raise ScoringError(f"eval_type {kind!r} is not supported (known: {', '.join(EVAL_TYPES)})")
        score = 1.0
        for r in results:
            score *= r.score
        out = TaskScore(score, results, self.rules.name)
        for r in results:
            r.evidence.setdefault("final_url", final_url)
        return out

    # -- string_match -----------------------------------------------------------------------
    def string_match(self, config: dict, answer: str) -> EvaluatorResult:
        rules = self.rules
        pred = clean_answer(answer, rules)  # cleaned here and again inside each check, as the harness does
        res = EvaluatorResult("string_match", 1.0, evidence={"answer": answer, "cleaned": pred})
        score = 1.0
        for approach, value in (config["eval"].get("reference_answers") or {}).items():
            if approach in ("must_include", "must_exclude", "one_of", "required_values") and isinstance(value, str):
                value = [value]  # a few configs give one string where the harness asserts a list
                res.evidence["config_quirk"] = f"{approach} given as a string; scored as a one-item list"
            if approach == "exact_match":
                ok = exact_match(value, pred, rules)
                score *= ok
                res.checks.append({"rule": "exact_match", "reference": value, "passed": ok})
            elif approach == "must_include":
                for ref in value:
                    alts = ref.split(OR) if rules.or_in_answers else [ref]
                    ok = any(must_include(a, pred, rules, n_refs=len(value)) for a in alts)
                    score *= ok
                    res.checks.append({"rule": "must_include", "reference": ref, "passed": ok})
            elif approach == "must_exclude":
                for ref in value:
                    ok = must_exclude(ref, pred, rules)
                    score *= ok
                    res.checks.append({"rule": "must_exclude", "reference": ref, "passed": ok})
            elif approach == "one_of":
                ok = any(clean_answer(v, rules) in pred for v in value)
                score *= ok
                res.checks.append({"rule": "one_of", "reference": value, "passed": ok})
            elif approach == "required_values":
                number = str_to_int(pred)
                if number is None:
                    score = 0.0
                    res.checks.append({"rule": "required_values", "reference": value, "passed": False,
                                       "note": "the answer is not an integer"})
                else:
                    for v in value:
                        ok = any(compare_inequality(number, alt) for alt in v.split(OR))
                        score *= ok
                        res.checks.append({"rule": "required_values", "reference": v, "passed": ok})
            elif approach == "fuzzy_match":
                score = self._fuzzy(config, value, pred, score, res)
            else:
                res.checks.append({"rule": approach, "note": "not a rule of this harness: ignored"})
        res.score = float(score)
        if any(c.get("rule") == "must_include" for c in res.checks):
            res.evidence["tokenizer"] = tokenizer_name()
        return res

    def _fuzzy(self, config: dict, value: Any, pred: str, score: float, res: EvaluatorResult) -> float:
        intent = config["intent"]
        if value == "N/A":
            # Unachievable task: an answer of exactly "N/A" passes; otherwise the judge checks that the
            # answer gives the reason in string_note. Its verdict replaces the score so far.
            score *= exact_match("N/A", pred, self.rules)
            check: dict[str, Any] = {"rule": "fuzzy_match N/A", "reference": "N/A", "passed": score == 1}
            if score != 1:
                v = self._judge().ua_match(pred, config["eval"].get("string_note", ""), intent)
                score = v.score
                check.update(passed=score == 1, reason=config["eval"].get("string_note", ""), **v.evidence())
            res.checks.append(check)
            return score
        refs = [", ".join(value)] if self.rules.fuzzy_joined else list(value)
        for ref in refs:
            if not pred and self.rules.empty_answer_skips_judge:
                s = 1.0 if not ref else 0.0
                res.checks.append({"rule": "fuzzy_match", "reference": ref, "passed": s == 1,
                                   "note": "empty answer: not sent to the judge"})
            else:
                v = self._judge().fuzzy_match(pred, ref, intent)
                s = v.score
                res.checks.append({"rule": "fuzzy_match", "reference": ref, "passed": s == 1, **v.evidence()})
            score *= s
        return score

    # -- url_match --------------------------------------------------------------------------
    def url_match(self, config: dict, url: str) -> EvaluatorResult:
        rule = config["eval"].get("url_note") or self.rules.default_url_rule
        reference = config["eval"]["reference_url"]
        ok, how = url_matches(url, reference, rule, self.rules)
        return EvaluatorResult("url_match", float(ok), [{"rule": rule, "reference": reference, "passed": ok,
                                                         "how": how}], {"url": url})

    # -- program_html -----------------------------------------------------------------------
    def _helpers(self, page) -> HelperContext:
        return HelperContext(page=page, shopping_url=self.shopping_url, admin_account=self.admin_account)

    def locate(self, target: dict, page) -> tuple[str | None, dict]:
        """Open the target's URL (unless "last") and select its content. (text, evidence)."""
        ev: dict[str, Any] = {}
        url = target["url"]
        if url.startswith("func"):
            call = parse_call(url.split("func:", 1)[1])
            ev["url_helper"] = url
            url = call_helper(call, self._helpers(page))
        ev["url"] = url
        if url != "last":
            try:
                page.goto(url, wait_until="load")
            except Exception as err:  # noqa: BLE001 - a page that fails to load locates nothing
                ev["navigation_error"] = str(err).splitlines()[0]
            if self.settle_s:
                time.sleep(self.settle_s)
        ev["page_url"] = page.url
        locator: str = target["locator"]
        ev["locator"] = locator
        selected: Any
        if not locator.strip():
            selected = page.content()
        elif locator.startswith(("document.", "[...document.")):
            for prep in target.get("prep_actions", []):
                try:
                    page.evaluate(f"() => {prep}")
                except Exception:  # noqa: BLE001 - the harness ignores failing preparations
                    break
            try:
                selected = str(page.evaluate(f"() => {locator}")) or ""
            except Exception as err:  # noqa: BLE001 - "the page is wrong": nothing located
                selected = ""
                ev["locator_error"] = str(err).splitlines()[0]
        elif locator.startswith("lambda:") and self.rules.name == "webarena-lite":
            try:
                selected = page.evaluate(locator[len("lambda:"):]) or None
            except Exception:  # noqa: BLE001
                selected = None
        elif locator.startswith("func:"):
            selected = call_helper(parse_call(locator.split("func:", 1)[1]), self._helpers(page))
        else:
            raise ScoringError(f"unknown locator {locator!r}")
        if isinstance(selected, str) and self.rules.unescape_html:
            selected = html.unescape(selected)
        ev["located"] = None if selected is None else _clip(str(selected))
        return selected, ev

    def program_html(self, config: dict, page) -> EvaluatorResult:
        res = EvaluatorResult("program_html", 1.0)
        score = 1.0
        targets = []
        for target in config["eval"]["program_html"]:
            try:
                selected, ev = self.locate(target, page)
            except HelperError as err:
                raise ScoringError(str(err)) from err
            ev["checks"] = []
            targets.append(ev)
            if selected is None:  # WebArena-Lite: the page is wrong
                score = 0.0
                ev["checks"].append({"rule": "located", "passed": False})
                break
            score = self._required(target["required_contents"], selected, config, score, ev["checks"])
        res.score = float(score)
        res.evidence["targets"] = targets
        res.checks = [c for t in targets for c in t["checks"]]
        return res

    def _required(self, required: dict, selected: Any, config: dict, score: float, checks: list) -> float:
        rules = self.rules
        if "exact_match" in required:
            ok = exact_match(required["exact_match"], str(selected), rules)
            checks.append({"rule": "exact_match", "reference": required["exact_match"], "passed": ok})
            return score * ok
        if "must_include" in required:
            for content in required["must_include"]:
                ok = any(must_include(c, str(selected), rules, tokenize=rules.tokenize_html)
                         for c in content.split(OR))
                checks.append({"rule": "must_include", "reference": content, "passed": ok})
                score *= ok
            return score
        if "must_exclude" in required and rules.name == "webarena-lite":
            for content in required["must_exclude"]:
                ok = must_exclude(content, str(selected), rules)
                checks.append({"rule": "must_exclude", "reference": content, "passed": ok})
                score *= ok
            return score
        if "required_values" in required and rules.name == "webarena-lite":
            number = str_to_int(selected) if isinstance(selected, str) else selected
            if number is None:
                checks.append({"rule": "required_values", "passed": False, "note": "not an integer"})
                return 0.0
            for v in required["required_values"]:
                ok = any(compare_inequality(number, alt) for alt in v.split(OR))
                checks.append({"rule": "required_values", "reference": v, "passed": ok})
                score *= ok
            return score
        if "fuzzy_match" in required and rules.name == "webarena-lite":
            ref = ", ".join(required["fuzzy_match"])
            v = self._judge().fuzzy_match(str(selected), ref, config["intent"])
            checks.append({"rule": "fuzzy_match", "reference": ref, "passed": v.score == 1, **v.evidence()})
            return score * v.score
        raise ScoringError(f"unknown required_contents {sorted(required)} for the {rules.name} harness")


# -- scoring from what an episode recorded ------------------------------------------------------

class NeedsLiveSite(ScoringError):
    """program_html cannot be decided from the recorded located text (none was kept, or it was cut)."""


class NeedsJudge(ScoringError):
    """A judge verdict is needed that the record does not hold (the question changed): rejudge."""


_CLIPPED = re.compile(r"… \(\d+ chars\)$")


class _RecordedPage:
    def __init__(self, url: str) -> None:
        self.url = url


class _RecordedJudge:
    """Answers with the verdicts an episode's record kept, for the same question only."""

    def __init__(self, verdicts: dict[tuple[str, str, str], float]) -> None:
        self.verdicts = verdicts

    def _get(self, kind: str, pred: str, ref: str) -> Any:
        if (kind, pred, ref) not in self.verdicts:
            raise NeedsJudge(f"{kind} of {pred[:60]!r} against {ref[:60]!r} was never judged: rescore with --rejudge")
        return _Verdict(self.verdicts[(kind, pred, ref)])

    def fuzzy_match(self, pred: str, ref: str, intent: str) -> Any:
        return self._get("fuzzy_match", pred, ref)

    def ua_match(self, pred: str, reason: str, intent: str) -> Any:
        return self._get("ua_match", pred, reason)


@dataclass
class _Verdict:
    score: float

    def evidence(self) -> dict[str, Any]:
        return {"judge": "recorded verdict"}


class _RecordedEvaluator(WebArenaEvaluator):
    def __init__(self, rules: HarnessRules, located: list[str | None] | None, judge: Any) -> None:
        super().__init__(rules, judge=judge, settle_s=0)
        self._located = list(located) if located is not None else None
        self._next = 0

    def locate(self, target: dict, page) -> tuple[str | None, dict]:
        i, self._next = self._next, self._next + 1
        if self._located is None or i >= len(self._located):
            raise NeedsLiveSite(f"no located text was recorded for program_html target {i + 1}")
        text = self._located[i]
        if text is not None and _CLIPPED.search(text):
            raise NeedsLiveSite(f"the located text of program_html target {i + 1} was recorded cut short")
        return text, {"url": target.get("url"), "locator": target.get("locator"), "located": text, "recorded": True}


def score_recorded(config: dict, answer: str | None, final_url: str, rules: HarnessRules,
                   located: list[str | None] | None = None, judge: Judge | None = None,
                   verdicts: dict[tuple[str, str, str], float] | None = None) -> TaskScore:
    """Score one task config against what an episode left (its answer, final URL and, for
    program_html, the text each target located), with no browser. A judge is asked only when
    `judge` is given; otherwise `verdicts` ((kind, cleaned answer, reference) -> score, as recorded)
    answer, and a question not among them raises NeedsJudge. program_html without usable recorded
    text raises NeedsLiveSite."""
    ev = _RecordedEvaluator(rules, located, judge or _RecordedJudge(verdicts or {}))
    return ev.evaluate(config, answer, _RecordedPage(final_url))


def recorded_inputs(details: dict) -> tuple[str | None, str | None, list[str | None] | None,
                                            dict[tuple[str, str, str], float]]:
    """From a record's score details: (answer, final URL, located texts, judge verdicts)."""
    answer = final_url = None
    located: list[str | None] | None = None
    verdicts: dict[tuple[str, str, str], float] = {}
    for r in details.get("evaluators", []):
        evid = r.get("evidence", {})
        final_url = final_url or evid.get("final_url")
        if r.get("type") == "string_match":
            answer = evid.get("answer")
            pred = evid.get("cleaned", "")
            for c in r.get("checks", []):
                if c.get("rule") == "fuzzy_match" and "note" not in c:
                    verdicts[("fuzzy_match", pred, c["reference"])] = 1.0 if c.get("passed") else 0.0
                elif c.get("rule") == "fuzzy_match N/A" and "reason" in c:
                    verdicts[("ua_match", pred, c["reason"])] = 1.0 if c.get("passed") else 0.0
        elif r.get("type") == "program_html":
            located = [t.get("located") for t in evid.get("targets", [])]
            for t in evid.get("targets", []):
                for c in t.get("checks", []):
                    if c.get("rule") == "fuzzy_match" and t.get("located") is not None:
                        verdicts[("fuzzy_match", t["located"], c["reference"])] = 1.0 if c.get("passed") else 0.0
    return answer, final_url, located, verdicts
