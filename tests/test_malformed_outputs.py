"""A corpus of malformed model outputs (tests/support/malformed.py) through the parsers and through
whole episodes in a real browser: every output ends as a valid action or plan, or as feedback to the
model, never as an exception or an episode that ends in `error`."""

from __future__ import annotations

import json

import pytest
from support.malformed import malformed_executor_outputs, malformed_planner_outputs

from planact.agent import AgentConfig, PlanActAgent
from planact.agent.plan import PlanParseError, parse_plan
from planact.bench.adhoc import AdHocSuite
from planact.bench.runner import RunSettings, run_episode
from planact.llm.scripted import ScriptedLLM
from planact.web import BrowserOptions, BrowserSession, ObservationOptions
from planact.web.actions import ParseError, parse_action

EXECUTOR = malformed_executor_outputs()
PLANNER = malformed_planner_outputs()


def test_the_corpus_is_large_enough():
    assert len(EXECUTOR) >= 200 and len(PLANNER) >= 50


@pytest.mark.parametrize("text", EXECUTOR, ids=range(len(EXECUTOR)))
def test_each_executor_output_is_an_action_or_a_clear_error(text):
    try:
        action = parse_action(text)
    except ParseError as err:
        msg = str(err)
        assert msg and "\n" not in msg.strip() and len(msg) < 400  # one line a model can act on
        return
    assert action.element is None or 0 <= action.element < 10**9
    assert parse_action(action.to_text()) == action  # what is kept round-trips


def test_unicode_digits_and_huge_numbers_are_never_ids():
    for raw in ("²", "³", "٣", "𝟑", "３", "١٢", "9" * 5000):
        with pytest.raises(ParseError, match="ASCII digits|characters long"):
            parse_action(f'do(action="Click", element="{raw}")')
    for line, err in (("-1", "'-1' is not one"), ("٣", "'٣' is not one"), ("1" * 5000, "is not one")):
        with pytest.raises(PlanParseError, match=err):
            parse_plan(f"## Step 1\nReasoning: r\nStep: a\nActions: {line}")


@pytest.mark.parametrize("text", PLANNER, ids=range(len(PLANNER)))
def test_each_planner_output_is_a_plan_or_a_clear_error(text):
    try:
        plan = parse_plan(text)
    except PlanParseError as err:
        assert str(err) and len(str(err)) < 400
        return
    assert plan.steps and all(s.step for s in plan.steps)


@pytest.fixture(scope="module")
def browser():
    with BrowserSession(BrowserOptions()) as s:
        yield s


@pytest.mark.browser
def test_a_whole_episode_of_malformed_outputs_ends_cleanly(browser, fixtures_dir, tmp_path):
    """The executor answers with every corpus entry in turn (those that would end the episode
    early, exits, are left out) and the replanner with every planner entry: each step becomes feedback
    or an action on the page, plans fall back, and the episode ends at its step limit, not in error."""
    steps = [t for t in EXECUTOR if not _is_exit(t)]
    suite = AdHocSuite((fixtures_dir / "shop.html").as_uri(), "Search for kettle and report the status line")
    executor = ScriptedLLM(steps)
    planner = ScriptedLLM(PLANNER, name="planner")
    agent = PlanActAgent(executor=executor, planner=planner, replanner=planner,
                         config=AgentConfig(max_steps=len(steps), max_repeats=10**6, replan="every-step"))
    rec = run_episode(suite, browser, agent, "adhoc", None, tmp_path, RunSettings(BrowserOptions(), ObservationOptions()))
    trace = json.loads((tmp_path / rec.trace).read_text())
    assert rec.error is None and rec.status == "max_steps" and rec.steps == len(steps)
    for s in trace["steps"]:
        assert (s["action"] is None) != (s["parse_error"] is None)
    errors = [s for s in trace["steps"] if s["parse_error"]]
    assert len(errors) > len(steps) // 2
    # the error of one step is what the model is shown on the next
    assert errors[0]["parse_error"] in executor.calls[errors[0]["index"]][0][-1].content
    assert all(p["text"] for p in trace["plans"])  # unusable plans fell back to the previous one


def _is_exit(text: str) -> bool:
    try:
        return parse_action(text).is_exit
    except ParseError:
        return False
