"""The Plan-and-Act loop in a real browser with scripted models: planning, replanning after every
action (or never), executor-only, chain of thought, feedback on bad output, loop detection."""

from __future__ import annotations

import pytest
from support.pages import prompt_parts

from planact.agent import AgentConfig, PlanActAgent
from planact.bench.adhoc import AdHocSuite
from planact.bench.runner import RunSettings, run_episode
from planact.llm.scripted import ScriptedLLM
from planact.web import BrowserOptions, BrowserSession, ObservationOptions

pytestmark = pytest.mark.browser

PLAN = "## Step 1\nReasoning: The box is on top.\nStep: Search for kettle.\n## Step 2\nReasoning: r\nStep: Answer."


@pytest.fixture(scope="module")
def browser():
    with BrowserSession(BrowserOptions()) as s:
        yield s


@pytest.fixture
def suite(fixtures_dir):
    return AdHocSuite((fixtures_dir / "shop.html").as_uri(), "Search for kettle and report the status line")


def by_text(messages, text):
    _, page, _ = prompt_parts(messages)
    return next(e for e in page.elements if e.own_text == text or e.get("placeholder") == text).id


def shopper(messages):
    """Type, search, then answer from the page."""
    _, page, user = prompt_parts(messages)
    history = user.split("## Previous actions", 1)[1]
    if "Type" not in history:
        return f'do(action="Type", argument="kettle", element="{by_text(messages, "Search products")}")'
    if 'do(action="Click"' not in history:
        return f'# Note: typed the query\ndo(action="Click", element="{by_text(messages, "Search")}")'
    if "Hover" not in history:
        return f'do(action="Hover", element="{by_text(messages, "Kettle $12")}")'
    status = next(e.own_text for e in page.elements if e.own_text.startswith("Searched:"))
    return f'exit(message="{status}")'


def run(suite, browser, tmp_path, executor, planner=None, replanner=None, **cfg):
    agent = PlanActAgent(executor=executor, planner=planner, replanner=replanner, config=AgentConfig(**cfg))
    rec = run_episode(suite, browser, agent, "adhoc", None, tmp_path, RunSettings(BrowserOptions(), ObservationOptions()))
    import json

    return rec, json.loads((tmp_path / rec.trace).read_text())


def test_replanner_runs_after_every_action(suite, browser, tmp_path):
    planner = ScriptedLLM([PLAN], name="planner")
    replanner = ScriptedLLM(["## Step 1\nReasoning: the query is typed\nStep: Click Search, then answer."],
                            name="replanner")
    executor = ScriptedLLM(shopper)
    rec, trace = run(suite, browser, tmp_path, executor, planner, replanner, replan="every-step")
    assert rec.status == "exit" and rec.answer == "Searched: kettle"
    acted = [s for s in trace["steps"] if s["action"] and not s["action"].startswith("exit")]
    assert len(acted) == 3 and len(replanner.calls) == 3 and len(planner.calls) == 1
    assert [p["after_step"] for p in trace["plans"]] == [0, 1, 2, 3]
    assert [p["role"] for p in trace["plans"]] == ["planner", "replanner", "replanner", "replanner"]
    # the replanner sees the actions so far and the current page; the executor sees the newest plan
    last_replan = replanner.calls[-1][0][-1].content
    assert "Step 1: do(action=\"Type\"" in last_replan and "Step 3: do(action=\"Hover\"" in last_replan
    assert "Searched: kettle" in last_replan
    assert "Search for kettle." in executor.calls[0][0][-1].content
    assert all("Click Search, then answer." in msgs[-1].content for msgs, _ in executor.calls[1:])
    assert trace["steps"][-1]["plan_version"] == 3
    by_role = {c["role"] for c in trace["llm_calls"]}
    assert by_role == {"planner", "executor", "replanner"}


def test_static_plan_never_replans(suite, browser, tmp_path):
    planner = ScriptedLLM([PLAN], name="planner")
    executor = ScriptedLLM(shopper)
    rec, trace = run(suite, browser, tmp_path, executor, planner, replan="never")
    assert rec.status == "exit" and len(trace["plans"]) == 1 and len(planner.calls) == 1
    assert all("## Plan\n## Step 1" in msgs[-1].content for msgs, _ in executor.calls)
    assert "replanner" not in {c["role"] for c in trace["llm_calls"]}


def test_executor_alone(suite, browser, tmp_path):
    executor = ScriptedLLM(shopper)
    rec, trace = run(suite, browser, tmp_path, executor, use_planner=False)
    assert rec.status == "exit" and trace["plans"] == []
    assert all("## Plan" not in msgs[-1].content for msgs, _ in executor.calls)
    assert {c["role"] for c in trace["llm_calls"]} == {"executor"}


def test_notes_are_kept_in_later_prompts(suite, browser, tmp_path):
    executor = ScriptedLLM(shopper)
    run(suite, browser, tmp_path, executor, use_planner=False)
    later = executor.calls[-1][0][-1].content
    assert "## Notes\n- typed the query" in later


def test_chain_of_thought_is_stripped_and_kept(suite, browser, tmp_path):
    def thinker(messages):
        return "<think>\nThe page has a search box; I will answer directly.\n</think>\nexit(message=\"no\")"

    planner = ScriptedLLM(["<think>\nplan it\n</think>\n" + PLAN], name="planner")
    executor = ScriptedLLM(thinker)
    rec, trace = run(suite, browser, tmp_path, executor, planner, cot=True, replan="never")
    assert rec.status == "exit" and rec.answer == "no"
    assert trace["steps"][0]["reasoning"].startswith("The page has a search box")
    assert trace["plans"][0]["reasoning"] == "plan it" and trace["plans"][0]["plan"][0]["step"] == "Search for kettle."
    assert executor.calls[0][1].prefill == "<think>\n" and "<think>" in executor.calls[0][0][0].content


def test_bad_output_goes_back_as_feedback_and_counts_as_a_step(suite, browser, tmp_path):
    outputs = ["I would click the search button.", 'do(action="Click", element="99999")', 'exit(message="gave up")']
    executor = ScriptedLLM(outputs)
    rec, trace = run(suite, browser, tmp_path, executor, use_planner=False)
    assert rec.status == "exit" and rec.steps == 3
    assert trace["steps"][0]["parse_error"].startswith("no action found")
    assert "no action found" in executor.calls[1][0][-1].content
    assert "99999" in trace["steps"][1]["parse_error"]
    assert "99999 is not on the current page" in executor.calls[2][0][-1].content


def test_step_limit(suite, browser, tmp_path):
    rec, _ = run(suite, browser, tmp_path, ScriptedLLM(["nonsense"]), use_planner=False, max_steps=4)
    assert rec.status == "max_steps" and rec.steps == 4


def test_repeated_action_without_page_change_is_a_loop(suite, browser, tmp_path):
    def stuck(messages):
        return f'do(action="Click", element="{by_text(messages, "Fixture Shop")}")'

    executor = ScriptedLLM(stuck)
    rec, trace = run(suite, browser, tmp_path, executor, use_planner=False, max_steps=20, avoid_futile=True)
    assert rec.status == "loop" and rec.steps == 3
    # with avoid_futile, after the click left the page unchanged, the grammar no longer offers it on that page (a model
    # that honours grammars picks something else; this scripted one ignores them, so the loop check ends it)
    shop = f'"{by_text(executor.calls[0][0], "Fixture Shop")}"'
    first, second = (rules(opts.grammar) for _, opts in executor.calls[:2])
    assert first["a0"].endswith('" id "\\"" ")"') and shop in first["id"].split(" | ")
    assert second["a0"].endswith('" id0 "\\"" ")"') and shop not in second["id0"].split(" | ")
    assert shop in second["id"].split(" | ")  # other actions (Hover, Type ...) may still use it
    plain = ScriptedLLM(stuck)
    run(suite, browser, tmp_path / "plain", plain, use_planner=False)  # off by default
    assert all("id0" not in rules(opts.grammar) for _, opts in plain.calls)


def rules(grammar):
    return dict(line.split(" ::= ", 1) for line in grammar.splitlines() if " ::= " in line)


REDRAW = """<!doctype html><title>Search</title><input placeholder="Query"><button id="go">Search</button><div id="out"></div>
<script>document.getElementById("go").onclick = () => {
  const out = document.getElementById("out"); out.innerHTML = "";
  for (const name of ["Ann", "Bo"]) { const a = document.createElement("a"); a.href = "#"; a.textContent = name; out.append(a); }
};</script>"""


def test_a_click_that_draws_the_same_content_again_changed_nothing(browser, tmp_path):
    """Search clicked again draws the same results as new nodes (new ids): the page did not change, so
    the click is left out of the grammar on that page, and repeating it is a loop."""
    page = tmp_path / "redraw.html"
    page.write_text(REDRAW)

    def clicker(messages):
        return f'do(action="Click", element="{by_text(messages, "Search")}")'

    executor = ScriptedLLM(clicker)
    rec, trace = run(AdHocSuite(page.as_uri(), "Search and open Bo"), browser, tmp_path / "run", executor,
                     use_planner=False, max_steps=8, avoid_futile=True)
    first, second, third = (s["observation"] for s in trace["steps"])
    assert first != second != third and "Bo" in second  # new ids for the same results on each click
    assert rec.status == "loop" and rec.steps == 3
    search = f'"{by_text(executor.calls[0][0], "Search")}"'
    assert search in rules(executor.calls[1][1].grammar)["id"].split(" | ")  # the first click changed the page
    assert search not in rules(executor.calls[2][1].grammar)["id0"].split(" | ")  # the second did not


def test_exploration_takes_random_afforded_actions_instead_of_asking_the_model(suite, browser, tmp_path):
    executor = ScriptedLLM(shopper)
    rec, trace = run(suite, browser, tmp_path, executor, use_planner=False, max_steps=6, explore=1.0, max_repeats=9)
    steps = trace["steps"]
    assert len(steps) == 6 and executor.calls == []  # every step explored: the model was never asked
    assert all(s["explored"] in ("Click", "Type", "Select Dropdown Option") for s in steps)
    assert all(s["action"].startswith(f'do(action="{s["explored"]}"') for s in steps)
    typed = [s["action"] for s in steps if s["explored"] == "Type"]
    words = "Search for kettle and report the status line".split()
    assert all(any(f'argument="{w}' in t for w in words) for t in typed)  # the task's words
    # the same seed explores the same way; rate 0 never explores
    _, again = run(suite, browser, tmp_path / "again", executor, use_planner=False, max_steps=6, explore=1.0,
                   max_repeats=9)
    assert [s["action"] for s in again["steps"]] == [s["action"] for s in steps]
    _, never = run(suite, browser, tmp_path / "never", ScriptedLLM(shopper), use_planner=False, explore=0.0)
    assert not any(s["explored"] for s in never["steps"])


def test_the_executors_own_description_narrows_the_ids_it_may_use(suite, browser, tmp_path):
    """With ground_element, the executor first writes what it acts on; when that quotes a text the page
    shows, the action's grammar allows only those elements' ids (and a label's field)."""
    from planact.agent.grounding import candidates

    seen: list = []

    def executor(messages):
        seen.append(messages)
        return '# Element: the "Search" button\n' if len(seen) % 2 else 'do(action="Click", element="1")'

    llm = ScriptedLLM(executor)
    agent = PlanActAgent(executor=llm, config=AgentConfig(use_planner=False, max_steps=1, ground_element=True))
    rec = run_episode(suite, browser, agent, "adhoc", None, tmp_path,
                      RunSettings(BrowserOptions(), ObservationOptions(), screenshots=False))
    first, second = llm.calls[0][1], llm.calls[1][1]
    assert "Element" in first.grammar and "do(action" not in first.grammar  # the description alone
    assert second.prefill == '# Element: the "Search" button\n'  # the second call continues it
    import re
    allowed = {int(i) for i in re.findall(r'"(\d+)"', re.search(r"^id ::= (.*)$", second.grammar, re.M).group(1))}
    button, field = by_text(seen[0], "Search"), by_text(seen[0], "Search products")
    assert allowed == {button, field}, allowed  # the button, and the field labelled "search"; not their form
    assert rec.llm_calls == 2
    assert candidates("# Element: the field", None) == []  # nothing quoted: no narrowing


def test_prompts_v4_keep_the_page_in_the_cached_prefix():
    """From one executor or replanner call to the next the actions so far grow, the plan may be rewritten
    and the page changes in one field. v4 puts the page before them, so the prefix the two prompts share
    (what a runtime serves from its cache) runs into the page up to that field; v3 stops before it."""
    import os

    from planact.agent.loop import executor_variables
    from planact.agent.prompts import load_prompt
    from planact.agent.trace import StepRecord

    rows = "\n".join(f'<div id="{i}">Row {i} with some text</div>' for i in range(1, 40))
    pages = [rows + '\n<input id="40" type="text">', rows + '\n<input id="40" type="text" value="kettle">']
    step = StepRecord(1, "http://shop", pages[0], 0, 0, "", action='do(action="Type", argument="kettle", element="40")',
                      element=40, snippet='<input id="40" type="text">')
    shared = {}
    for version in ("v3", "v4"):
        for role in ("executor", "replanner"):
            prompt = load_prompt(role, version)
            texts = []
            for n, (page, plan) in enumerate(zip(pages, ("## Step 1\nStep: Type kettle", "## Step 1\nStep: Click Search"))):
                v = executor_variables("Search for a kettle", plan, [step][:n], None, "http://shop", page)
                texts.append("\n".join(prompt.render(**v, has_plan=True, cot=False)))
            shared[version, role] = len(os.path.commonprefix(texts))
            if version == "v4":
                assert rows in texts[1][:shared[version, role]]
    for role in ("executor", "replanner"):
        assert shared["v4", role] > shared["v3", role] + len(rows)
