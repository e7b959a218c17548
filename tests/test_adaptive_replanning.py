"""Adaptive replanning (`replan: adaptive`) in a real browser with scripted models: the replanner is
called on each named trigger and on nothing else, the trace says why, and plans end at their last
distinct step."""

from __future__ import annotations

import json

import pytest
from support.pages import prompt_parts

from planact.agent import AgentConfig, PlanActAgent
from planact.agent.plan import distinct_steps, parse_plan, repeats_a_step
from planact.bench.adhoc import AdHocSuite
from planact.bench.runner import RunSettings, run_episode
from planact.llm.scripted import ScriptedLLM
from planact.web import BrowserOptions, BrowserSession, ObservationOptions

pytestmark = pytest.mark.browser

LONG_PLAN = "\n".join(f"## Step {i}\nReasoning: r{i}\nStep: Do part {i}." for i in range(1, 11))


@pytest.fixture(scope="module")
def browser():
    with BrowserSession(BrowserOptions()) as s:
        yield s


def click(text: str, note: str | None = None):
    """An executor that clicks the element with this text (after a note line, if given)."""
    def respond(messages):
        _, page, _ = prompt_parts(messages)
        el = next(e for e in page.elements if e.own_text == text)
        return (f"# Note: {note}\n" if note else "") + f'do(action="Click", element="{el.id}")'
    return respond


def select_on(text: str):
    def respond(messages):
        _, page, _ = prompt_parts(messages)
        el = next(e for e in page.elements if e.own_text == text)
        return f'do(action="Select Dropdown Option", argument="a", element="{el.id}")'
    return respond


def episode(fixtures_dir, browser, tmp_path, outputs, plan=LONG_PLAN, max_steps=1, **cfg):
    """One episode; `outputs` are the executor's responders, one per step. Returns the replans'
    reasons (after_step -> reasons) and the replanner's calls."""
    suite = AdHocSuite((fixtures_dir / "replan.html").as_uri(), "Work through the page")
    steps = iter(outputs)
    executor = ScriptedLLM(lambda messages: next(steps)(messages), name="executor")
    planner, replanner = ScriptedLLM([plan], name="planner"), ScriptedLLM([LONG_PLAN], name="replanner")
    agent = PlanActAgent(executor=executor, planner=planner, replanner=replanner,
                         config=AgentConfig(replan="adaptive", max_steps=max_steps + 1, max_repeats=9, **cfg))
    rec = run_episode(suite, browser, agent, "adhoc", None, tmp_path,
                      RunSettings(BrowserOptions(), ObservationOptions()))
    trace = json.loads((tmp_path / rec.trace).read_text())
    assert trace["plans"][0]["reasons"] == ["initial"]
    return {p["after_step"]: p["reasons"] for p in trace["plans"][1:]}, replanner


@pytest.mark.parametrize("outputs, expected", [
    ([click("Change")], {}),  # the page changed as a click should: the plan stands
    ([click("Nothing")], {1: ["no_effect"]}),
    ([click("Next page")], {1: ["navigated"]}),
    ([select_on("Change")], {1: ["failed"]}),
    ([click("Change", note="step 1 done")], {1: ["step_done"]}),
    ([click("Change", note="the plan is wrong, replan")], {1: ["asked"]}),
])
def test_each_trigger_replans_and_nothing_else_does(fixtures_dir, browser, tmp_path, outputs, expected):
    reasons, replanner = episode(fixtures_dir, browser, tmp_path, outputs)
    assert reasons == expected
    assert len(replanner.calls) == len(expected)


def test_a_plan_run_out_and_the_interval_replan(fixtures_dir, browser, tmp_path):
    one_step = "## Step 1\nReasoning: r\nStep: Click Change."
    reasons, _ = episode(fixtures_dir, browser, tmp_path / "a", [click("Change")], plan=one_step)
    assert reasons == {1: ["plan_done"]}
    reasons, _ = episode(fixtures_dir, browser, tmp_path / "b", [click("Change")] * 5, max_steps=5, replan_every=2)
    assert reasons == {2: ["interval"], 4: ["interval"]}
    # a trigger left out of replan_on does not call the replanner
    reasons, _ = episode(fixtures_dir, browser, tmp_path / "c", [click("Nothing")], replan_on=("failed",))
    assert reasons == {}


def test_every_step_replanning_says_so(fixtures_dir, browser, tmp_path):
    suite = AdHocSuite((fixtures_dir / "replan.html").as_uri(), "Work through the page")
    agent = PlanActAgent(executor=ScriptedLLM(click("Change")),
                         planner=ScriptedLLM([LONG_PLAN]), replanner=ScriptedLLM([LONG_PLAN]),
                         config=AgentConfig(replan="every-step", max_steps=2, max_repeats=9))
    rec = run_episode(suite, browser, agent, "adhoc", None, tmp_path, RunSettings(BrowserOptions(), ObservationOptions()))
    trace = json.loads((tmp_path / rec.trace).read_text())
    assert [p["reasons"] for p in trace["plans"]] == [["initial"], ["every-step"]]


def test_a_plan_ends_at_its_last_distinct_step():
    looping = ("## Step 1\nReasoning: a\nStep: Click Change.\n## Step 2\nReasoning: b\nStep: Click Next page.\n"
               "## Step 3\nReasoning: a\nStep: Click  change\n## Step 4\nReasoning: b\nStep: Click Next page.\n")
    assert [s.step for s in distinct_steps(parse_plan(looping)).steps] == ["Click Change.", "Click Next page."]
    assert repeats_a_step(looping) and not repeats_a_step(looping.split("## Step 3")[0])
    assert not repeats_a_step("## Step 1\nStep: Click Change.\n## Step 2\nStep: Click Change")  # not a whole line yet
