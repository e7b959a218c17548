"""MiniWoB tasks solved in a real Chromium by scripted model outputs that go through the real
action parser, executor and browser: the reward comes from the task page itself."""

from __future__ import annotations

import pytest
from support.miniwob_solvers import responder

from planact.agent import AgentConfig, PlanActAgent
from planact.bench.runner import RunSettings, run_episode
from planact.llm.scripted import ScriptedLLM
from planact.web import BrowserOptions, ObservationOptions

PLAN = "## Step 1\nReasoning: The page shows what to do.\nStep: Do what the task asks.\n"

# (task, seed): seeds chosen to cover each task's main variants
CASES = [
    ("click-button", 3), ("click-link", 0), ("enter-text", 1), ("focus-text", 0), ("click-dialog", 0),
    ("choose-list", 2), ("click-checkboxes", 4), ("login-user", 3), ("login-user", 7),
    ("click-tab-2-hard", 0), ("click-tab-2-hard", 5), ("search-engine", 0), ("search-engine", 3),
    ("social-media", 0), ("social-media", 2), ("email-inbox", 0), ("email-inbox", 1), ("email-inbox", 4),
    ("book-flight", 0), ("book-flight", 3),
]


@pytest.mark.browser
@pytest.mark.parametrize("task_id,seed", CASES)
def test_scripted_policy_solves_task(task_id, seed, miniwob, session, tmp_path):
    executor = ScriptedLLM(responder(task_id), name="scripted-executor")
    planner = ScriptedLLM([PLAN], name="scripted-planner")
    agent = PlanActAgent(executor=executor, planner=planner, config=AgentConfig(replan="never", max_steps=15))
    settings = RunSettings(BrowserOptions(), ObservationOptions(), screenshots=False)
    rec = run_episode(miniwob, session, agent, task_id, seed, tmp_path, settings)
    assert rec.error is None, rec.error
    assert rec.status == "env_done", (rec.status, (tmp_path / rec.trace).read_text()[-3000:])
    assert rec.success and rec.reward > 0, rec
    assert rec.llm_calls == rec.steps + 1  # one plan + one executor call per step
