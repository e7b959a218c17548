"""WebArena's scoring rules, each on its own: string and URL rules of both harnesses, and
program_html on fixture pages served on loopback in a real Chromium."""

from __future__ import annotations

import pytest
from support import judges
from support.wa_site import FixtureSites

from planact.bench.judge import Judge
from planact.bench.webarena.evaluators import ScoringError, WebArenaEvaluator
from planact.bench.webarena.helpers import HelperError, parse_call
from planact.bench.webarena.rules import (WEBARENA, WEBARENA_LITE, clean_answer, must_include, url_matches,
                                          with_options)
from planact.llm.scripted import ScriptedLLM

LITE, ORIG = WEBARENA_LITE, WEBARENA


def cfg(eval_block: dict, intent: str = "a question") -> dict:
    base = {"eval_types": [], "reference_answers": None, "reference_url": "", "program_html": []}
    return {"task_id": 0, "intent": intent, "eval": {**base, **eval_block}}


def string_score(rules, answers: dict, answer: str, judge=None, note: str = "") -> float:
    ev = WebArenaEvaluator(rules, judge=judge)
    c = cfg({"eval_types": ["string_match"], "reference_answers": answers, "string_note": note})
    return ev.string_match(c, answer).score


# -- string_match -------------------------------------------------------------------------------

def test_clean_answer_as_each_harness():
    assert clean_answer('  "Hello World" ', ORIG) == "hello world"
    assert clean_answer("'Hi'", LITE) == "hi"
    assert clean_answer(' "Hi" ', LITE) == ' "hi" '  # WebArena-Lite does not strip


@pytest.mark.parametrize("rules", [ORIG, LITE])
def test_exact_match(rules):
    assert string_score(rules, {"exact_match": "N/A"}, "n/a") == 1.0
    assert string_score(rules, {"exact_match": "Yes"}, "'yes'") == 1.0
    assert string_score(rules, {"exact_match": "Yes"}, "yes, it is") == 0.0


def test_must_include_every_phrase_and_whole_tokens():
    refs = {"must_include": ["Impulse Duffle", "Overnight Duffle"]}
    assert string_score(LITE, refs, "The top are Impulse Duffle and Overnight Duffle.") == 1.0
    assert string_score(LITE, refs, "Impulse Duffle only") == 0.0
    # One word must be a whole token: "0" is not in "10"; "2" is a token of "2 items".
    assert string_score(LITE, {"must_include": ["0"]}, "10") == 0.0
    assert string_score(LITE, {"must_include": ["0"]}, "There are 0 orders.") == 1.0
    assert string_score(LITE, {"must_include": ["yjlou"]}, "only yjlouX") == 0.0
    assert string_score(LITE, {"must_include": ["yjlou"]}, "yjlou has access") == 1.0
    # WebArena tokenizes only one-character references, and only when the list has one entry.
    assert string_score(ORIG, {"must_include": ["yjlou"]}, "only yjlouX") == 1.0
    assert string_score(ORIG, {"must_include": ["0"]}, "10") == 0.0
    assert must_include("0", "10", ORIG, n_refs=2) is True


def test_must_include_or_alternatives():
    refs = {"must_include": ["Mon |OR| Monday"]}
    assert string_score(LITE, refs, "Monday") == 1.0
    assert string_score(LITE, refs, "Tuesday") == 0.0
    assert string_score(ORIG, refs, "Monday") == 0.0  # WebArena reads the whole string as one phrase


def test_string_given_for_a_list_is_scored_as_one_item():
    res = WebArenaEvaluator(LITE).string_match(cfg({"reference_answers": {"must_include": "yjlou"}}), "yjlou")
    assert res.score == 1.0 and "config_quirk" in res.evidence


def test_fuzzy_match_by_judge_with_evidence():
    judge = Judge(ScriptedLLM(judges.fuzzy, name="judge"))
    answers = {"fuzzy_match": ["Amazon Basics", "4.5 stars"]}
    ev = WebArenaEvaluator(LITE, judge=judge)
    res = ev.string_match(cfg({"reference_answers": answers}), "Amazon Basics, rated 4.5 stars")
    assert res.score == 1.0
    [check] = res.checks  # WebArena-Lite asks once, with the references joined
    assert check["reference"] == "Amazon Basics, 4.5 stars" and "correct" in check["response"]
    assert check["prompt"] == "fuzzy_match.v1" and check["judge"] == "judge"
    orig = WebArenaEvaluator(ORIG, judge=judge).string_match(cfg({"reference_answers": answers}), "Amazon Basics")
    assert orig.score == 0.0 and len(orig.checks) == 2  # WebArena asks per reference
    # WebArena at f62e0b99 sends an empty answer to the judge too; skipping it is a named option
    # (an unmerged pull request), off by default.
    asked = len(judge.llm.calls)
    empty = WebArenaEvaluator(ORIG, judge=judge).string_match(cfg({"reference_answers": answers}), "")
    assert empty.score == 0.0 and len(judge.llm.calls) == asked + 2 and "note" not in empty.checks[0]
    skip = WebArenaEvaluator(with_options(ORIG, ["empty-answer-skips-judge"]), judge=judge)
    empty = skip.string_match(cfg({"reference_answers": answers}), "")
    assert empty.score == 0.0 and "not sent to the judge" in empty.checks[0]["note"]
    assert len(judge.llm.calls) == asked + 2


def test_fuzzy_match_needs_a_judge():
    with pytest.raises(ScoringError, match="judge"):
        WebArenaEvaluator(LITE).string_match(cfg({"reference_answers": {"fuzzy_match": ["x"]}}), "x")


@pytest.mark.parametrize("rules", [ORIG, LITE])
def test_unachievable_task_na_rule(rules):
    judge = Judge(ScriptedLLM(judges.fuzzy, name="judge"))
    answers, note = {"fuzzy_match": "N/A"}, "order 999 does not exist"
    assert string_score(rules, answers, "N/A", judge, note) == 1.0  # no judge needed
    assert string_score(rules, answers, "I cannot: order 999 does not exist", judge, note) == 1.0
    assert string_score(rules, answers, "The order shipped yesterday", judge, note) == 0.0


# -- url_match ----------------------------------------------------------------------------------

def test_url_rules_of_webarena_lite():
    # "GOLD in PRED": the reference is a substring of the final URL.
    assert url_matches("http://h:1/a/b/?x=1", "http://h:1/a/b", "GOLD in PRED", LITE)[0]
    assert not url_matches("http://h:1/a/c", "http://h:1/a/b", "GOLD in PRED", LITE)[0]
    # No url_note: WebArena-Lite compares exactly (one trailing slash and localhost forgiven).
    assert url_matches("http://localhost:1/a/", "http://127.0.0.1:1/a", "EXACT", LITE)[0]
    assert not url_matches("http://h:1/a/b?x=1", "http://h:1/a/b", "EXACT", LITE)[0]
    assert url_matches("http://h/2", "http://h/1 |OR| http://h/2", "EXACT", LITE)[0]


def test_url_rule_of_webarena():
    ref = "http://h:1/search?q=shoes&sort=price"
    assert url_matches("http://h:1/search/?sort=price&q=shoes&page=2", ref, "GOLD in PRED", ORIG)[0]
    ok, how = url_matches("http://h:1/search?q=shoes", ref, "GOLD in PRED", ORIG)
    assert not ok and "sort" in how
    assert not url_matches("http://h:1/other?q=shoes&sort=price", ref, "GOLD in PRED", ORIG)[0]
    # Alternatives pool their query values.
    assert url_matches("http://h:1/s?q=b", "http://h:1/s?q=a |OR| http://h:1/s?q=b", "GOLD in PRED", ORIG)[0]


def test_webarena_gold_in_pred_is_a_substring_of_the_raw_host_and_path():
    # f62e0b99: the reference's host+path need only be contained in the prediction's ...
    assert url_matches("http://h:1/f/books/1/x", "http://h:1/f/books", "GOLD in PRED", ORIG)[0]
    # ... and a "/" ending a reference's path before its query is kept: a prediction without it fails
    ref = "http://h:1/f/books/?sort=new"
    assert not url_matches("http://h:1/f/books?sort=new", ref, "GOLD in PRED", ORIG)[0]
    # the whole URL's trailing "/" is dropped on both sides
    assert url_matches("http://h:1/f/books/", "http://h:1/f/books/", "GOLD in PRED", ORIG)[0]
    # the unmerged pull request's normalisation, as a named option
    assert url_matches("http://h:1/f/books?sort=new", ref, "GOLD in PRED", with_options(ORIG, ["url-base-slash"]))[0]


def test_webarena_lite_must_include_looks_inside_slash_joined_tokens():
    answers = {"must_include": ["15"]}
    assert string_score(LITE, answers, "It was on 3/15/2024") == 1.0
    assert string_score(LITE, {"must_include": ["example.com"]}, "see https://example.com/about") == 1.0
    assert string_score(with_options(LITE, ["no-slash-split"]), answers, "It was on 3/15/2024") == 0.0
    # WebArena (no split) matches a multi-character phrase as a substring anyway, and a one-character one
    # as a whole token; a piece is still not a part of a piece
    assert string_score(ORIG, answers, "It was on 3/15/2024") == 1.0
    assert string_score(ORIG, {"must_include": ["5"]}, "It was on 3/15/2024") == 0.0
    assert string_score(LITE, {"must_include": ["5"]}, "It was on 3/15/2024") == 0.0
    # must_exclude has no such split in VAB: "15" inside a date is not excluded
    assert string_score(LITE, {"must_exclude": ["15"]}, "It was on 3/15/2024") == 1.0
    assert string_score(LITE, {"must_exclude": ["15"]}, "It was 15") == 0.0


def test_options_are_named_and_unknown_ones_refused():
    assert with_options(LITE, ["no-slash-split"]).source.endswith("with no-slash-split")
    assert with_options(LITE, []) is LITE
    with pytest.raises(ValueError, match="unknown scoring option 'nope'"):
        with_options(LITE, ["nope"])
    assert ORIG.source == "web-arena-x/webarena@f62e0b99" and "9055fc29" in LITE.source


def test_url_match_uses_the_default_rule_when_no_note():
    c = cfg({"eval_types": ["url_match"], "reference_url": "http://h/a"})
    assert WebArenaEvaluator(LITE).url_match(c, "http://h/a/b").score == 0.0  # EXACT
    assert WebArenaEvaluator(ORIG).url_match(c, "http://h/a").score == 1.0
    c["eval"]["url_note"] = "GOLD in PRED"
    assert WebArenaEvaluator(LITE).url_match(c, "http://h/a/b").score == 1.0


# -- helpers ------------------------------------------------------------------------------------

def test_helper_calls_are_parsed_not_evaluated():
    call = parse_call("gitlab_get_project_memeber_role(__page__, 'vinta')")
    assert call.name == "gitlab_get_project_memeber_role" and call.args[1] == "vinta"
    with pytest.raises(HelperError, match="not a helper call"):
        parse_call("__import__('os').system('true')")
    with pytest.raises(HelperError, match="unknown helper"):
        parse_call("exec('1')")
    with pytest.raises(HelperError):
        parse_call("reddit_get_post_url(open('/etc/passwd').read())")


# -- program_html in a browser -----------------------------------------------------------------

@pytest.fixture(scope="module")
def sites():
    with FixtureSites() as s:
        yield s


@pytest.fixture(scope="module")
def page(sites):
    from planact.bench.webarena.auth import login
    from planact.web import BrowserOptions, BrowserSession

    with BrowserSession(BrowserOptions()) as session:
        login(session.page, "shopping", sites.env["WA_SHOPPING"], "emma.lopez@gmail.com", "Password.123")
        login(session.page, "gitlab", sites.env["WA_GITLAB"], "byteblaze", "hello1234")
        yield session.page


def html_score(rules, targets, page, sites, judge=None):
    ev = WebArenaEvaluator(rules, judge=judge, shopping_url=sites.env["WA_SHOPPING"], settle_s=0)
    return ev.program_html(cfg({"eval_types": ["program_html"], "program_html": targets}, "buy"), page)


@pytest.mark.browser
def test_program_html_locators(page, sites):
    shop, gitlab = sites.env["WA_SHOPPING"], sites.env["WA_GITLAB"]
    order = {"url": f"{shop}/sales/order/history/", "locator": "document.querySelector('.history').outerText",
             "required_contents": {"must_include": ["000000189", "Pending |OR| Processing"]}}
    res = html_score(LITE, [order], page, sites)
    assert res.score == 1.0, res.evidence
    target = res.evidence["targets"][0]
    assert "000000189" in target["located"] and target["page_url"].endswith("/sales/order/history/")
    # "last" reads the page as it is; an empty locator takes the whole HTML.
    whole = {"url": "last", "locator": "", "required_contents": {"must_include": ["table-order-items"]}}
    assert html_score(LITE, [whole], page, sites).score == 1.0
    # A locator that throws locates "" (the page is wrong), which fails the check.
    broken = {"url": "last", "locator": "document.querySelector('.nope').outerText",
              "required_contents": {"exact_match": "x"}}
    res = html_score(LITE, [broken], page, sites)
    assert res.score == 0.0 and "locator_error" in res.evidence["targets"][0]
    # [...document.] spread locators and exact_match.
    hrefs = {"url": f"{gitlab}/byteblaze/dotfiles", "locator":
             "[...document.querySelectorAll('a')].map(a => a.getAttribute('href')).join(' ')",
             "required_contents": {"must_include": ["project_members"]}}
    assert html_score(ORIG, [hrefs], page, sites).score == 1.0
    # WebArena-Lite's must_include tokenizes a one-word phrase here too; "project_members" is not a whole
    # token of ".../dotfiles/-/project_members" but, since VAB 521d7e9, one of its "/"-pieces: it passes
    # (before that commit it failed: option no-slash-split).
    assert html_score(LITE, [hrefs], page, sites).score == 1.0
    assert html_score(with_options(LITE, ["no-slash-split"]), [hrefs], page, sites).score == 0.0
    title = {"url": f"{gitlab}/byteblaze/dotfiles", "locator": "document.querySelector('h1').outerText",
             "required_contents": {"exact_match": "dotfiles"}}
    assert html_score(LITE, [title], page, sites).score == 1.0
    # Every target must pass: the product.
    assert html_score(LITE, [title, broken], page, sites).score == 0.0


@pytest.mark.browser
def test_program_html_helpers_and_prep_actions(page, sites):
    shop, gitlab = sites.env["WA_SHOPPING"], sites.env["WA_GITLAB"]
    # func: URL through the shop's REST API (admin token, latest order), then a JS locator.
    latest = {"url": "func:shopping_get_latest_order_url()",
              "locator": "document.querySelector('.order-details-items.ordered').outerText",
              "required_contents": {"must_include": ["24-WG082-blue"]}}
    res = html_score(LITE, [latest], page, sites)
    assert res.score == 1.0 and res.evidence["targets"][0]["url"].endswith("/sales/order/view/order_id/189/")
    assert "POST /shop/rest/default/V1/integration/admin/token" in sites.state.requests
    # func: locator reading the members table of the open page.
    role = {"url": f"{gitlab}/byteblaze/dotfiles/-/project_members",
            "locator": "func:gitlab_get_project_memeber_role(__page__, 'vinta')",
            "required_contents": {"must_include": ["Guest"]}}
    assert html_score(LITE, [role], page, sites).score == 1.0
    role["locator"] = "func:gitlab_get_project_memeber_role(__page__, 'nobody')"
    assert html_score(LITE, [role], page, sites).score == 0.0
    review = {"url": "last", "locator": "func:shopping_get_sku_latest_review_author('24-WB07')",
              "required_contents": {"exact_match": "Emma"}}
    assert html_score(ORIG, [review], page, sites).score == 1.0
    # prep_actions run before the locator.
    prep = {"url": f"{shop}/", "prep_actions": ["document.querySelector('h1').textContent = 'Changed'"],
            "locator": "document.querySelector('h1').outerText", "required_contents": {"exact_match": "changed"}}
    assert html_score(ORIG, [prep], page, sites).score == 1.0


@pytest.mark.browser
def test_program_html_unescaping_differs_between_harnesses(page, sites):
    shop = sites.env["WA_SHOPPING"]
    # The page's HTML has "Beauty &amp; Personal Care"; WebArena unescapes it, WebArena-Lite does not.
    t = {"url": f"{shop}/", "locator": "", "required_contents": {"must_include": ["Beauty & Personal Care"]}}
    assert html_score(ORIG, [t], page, sites).score == 1.0
    assert html_score(LITE, [t], page, sites).score == 0.0


@pytest.mark.browser
def test_program_html_fuzzy_match_on_located_text(page, sites):
    judge = Judge(ScriptedLLM(judges.fuzzy, name="judge"))
    t = {"url": f"{sites.env['WA_REDDIT']}/f/books/59421/adults-reading/comment/7",
         "locator": "document.querySelector('.comment').outerText",
         "required_contents": {"fuzzy_match": ["read to my partner", "every night"]}}
    res = html_score(LITE, [t], page, sites, judge)
    assert res.score == 1.0 and res.checks[0]["judge"] == "judge"


@pytest.mark.browser
def test_task_score_is_the_product_with_evidence(page, sites):
    shop = sites.env["WA_SHOPPING"]
    page.goto(f"{shop}/sales/order/view/order_id/170/")
    c = cfg({"eval_types": ["string_match", "url_match"], "reference_answers": {"must_include": ["Complete"]},
             "reference_url": f"{shop}/sales/order/view/order_id/170", "url_note": "GOLD in PRED"})
    ev = WebArenaEvaluator(LITE, settle_s=0)
    good = ev.evaluate(c, "It is Complete", page)
    assert good.score == 1.0 and [r.type for r in good.results] == ["string_match", "url_match"]
    bad = ev.evaluate(c, "It is pending", page)
    assert bad.score == 0.0 and bad.results[1].score == 1.0
    details = bad.details()
    assert details["evaluators"][0]["evidence"]["answer"] == "It is pending"
    assert details["evaluators"][1]["evidence"]["url"].endswith("/order_id/170/")


def test_a_task_is_scored_from_an_answer_a_url_and_located_text_without_a_browser():
    from planact.bench.webarena.evaluators import NeedsJudge, NeedsLiveSite, score_recorded

    c = cfg({"eval_types": ["string_match", "url_match", "program_html"],
             "reference_answers": {"must_include": ["15"]}, "reference_url": "http://h/a", "url_note": "GOLD in PRED",
             "program_html": [{"url": "last", "locator": "document.body.outerText",
                               "required_contents": {"must_include": ["members"]}}]})
    ok = score_recorded(c, "on 3/15/2024", "http://h/a/b", LITE, located=["the members page"])
    assert ok.score == 1.0 and [r.score for r in ok.results] == [1.0, 1.0, 1.0]
    assert score_recorded(c, "on 3/15/2024", "http://h/a/b", with_options(LITE, ["no-slash-split"]),
                          located=["the members page"]).score == 0.0
    with pytest.raises(NeedsLiveSite, match="cut short"):
        score_recorded(c, "15", "http://h/a", LITE, located=["x" * 4000 + "… (9000 chars)"])
    with pytest.raises(NeedsLiveSite, match="no located text"):
        score_recorded(c, "15", "http://h/a", LITE)
    fuzzy = cfg({"eval_types": ["string_match"], "reference_answers": {"fuzzy_match": ["Guest"]}})
    verdicts = {("fuzzy_match", "a guest", "Guest"): 1.0}
    assert score_recorded(fuzzy, "A guest", "", LITE, verdicts=verdicts).score == 1.0
    with pytest.raises(NeedsJudge, match="--rejudge"):
        score_recorded(fuzzy, "Maintainer", "", LITE, verdicts=verdicts)
