"""The plan parser on the paper's format and on the sloppy variants models produce."""

from __future__ import annotations

import pytest

from planact.agent.cot import split_reasoning
from planact.agent.plan import Plan, PlanParseError, PlanStep, parse_plan

CANONICAL = """## Step 1
Reasoning: The search box is on the home page.
Step: Search for "blue kettle".
## Step 2
Reasoning: Results are sorted by relevance.
Step: Open the cheapest result and read its price.
"""


def test_canonical_plan():
    plan = parse_plan(CANONICAL)
    assert [s.step for s in plan.steps] == ['Search for "blue kettle".', "Open the cheapest result and read its price."]
    assert plan.steps[0].reasoning == "The search box is on the home page."
    assert parse_plan(plan.render()).steps == plan.steps


@pytest.mark.parametrize("text,steps", [
    ("**Step 1:** Log in\n**Step 2:** Open orders", ["Log in", "Open orders"]),
    ("Step 1: Reasoning: need to log in. Step: Log in as admin\nStep 2: Open orders", None),
    ("Here is the plan:\n### Step 1\n**Reasoning:** x\n**Step:** Click Login\n\n### Step 2\nStep: Type the name",
     ["Click Login", "Type the name"]),
    ("1. Click the search box\n2. Type the query\n3. Press Enter",
     ["Click the search box", "Type the query", "Press Enter"]),
    # a step cut off before its "Step:" line is dropped, not guessed
    ("## Step 1\nReasoning: r\nStep: first\n## Step 2\nReasoning: cut off by max tokens", ["first"]),
])
def test_sloppy_plans(text, steps):
    plan = parse_plan(text)
    if steps is not None:
        assert [s.step for s in plan.steps] == steps
    else:
        assert len(plan.steps) == 2 and "Log in as admin" in plan.steps[0].step


def test_grounded_plan_action_indices():
    plan = parse_plan("## Step 1\nReasoning: r\nStep: Log in\nActions: 0, 1, 2\n## Step 2\nStep: Answer\nActions: [3]")
    assert [s.actions for s in plan.steps] == [[0, 1, 2], [3]]
    assert "Actions: 0, 1, 2" in Plan([PlanStep("Log in", "r", [0, 1, 2])]).render()


def test_no_plan_is_an_error():
    with pytest.raises(PlanParseError):
        parse_plan("I cannot help with that.")


def test_reasoning_is_split_off():
    assert split_reasoning("<think>look at the page</think>\n## Step 1\nStep: x") == ("look at the page", "## Step 1\nStep: x")
    assert split_reasoning("<think>\nstill thinking") == ("still thinking", "")
    assert split_reasoning("prefill not echoed</think>do(action=\"Scroll Down\")") == (
        "prefill not echoed", 'do(action="Scroll Down")')
    assert split_reasoning("plain") == (None, "plain")
