"""The BrowserGym bridge: BrowserGym's MiniWoB as a planact suite. BrowserGym (in its own virtual
environment, made on first use in .venv-browsergym) executes and scores; planact observes its page
with planact's own observation and sends its actions as BrowserGym's, on the elements' bids."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.miniwob_solvers import responder

from planact.agent import AgentConfig, PlanActAgent
from planact.bench.browsergym import BrowserGymSuite, to_browsergym
from planact.bench.browsergym.actions import Untranslatable
from planact.bench.runner import RunSettings, run_episode
from planact.config import BrowserGymSettings
from planact.llm.scripted import ScriptedLLM
from planact.web import BrowserOptions, ObservationOptions, parse_action
from planact.web.browser import find_chromium

ROOT = Path(__file__).resolve().parents[1]
PLAN = "## Step 1\nReasoning: The page shows what to do.\nStep: Do what the task asks.\n"


def test_planacts_actions_become_browsergyms_on_the_elements_bids():
    bids = {3: "17", 9: "a4"}
    cases = {
        'do(action="Click", element="3")': 'click("17")',
        'do(action="Right Click", element="3")': 'click("17", button="right")',
        'do(action="Hover", element="9")': 'hover("a4")',
        'do(action="Type", argument="say \\"hi\\"", element="3")': 'fill("17", "say \\"hi\\"")',
        'do(action="Search", argument="kettle", element="3")': 'fill("17", "kettle")\npress("17", "Enter")',
        'do(action="Select Dropdown Option", argument="Two", element="9")': 'select_option("a4", "Two")',
        'do(action="Press Enter")': 'keyboard_press("Enter")',
        'do(action="Scroll Down")': "scroll(0, 500)",
        'do(action="Scroll Up", element="9")': 'hover("a4")\nscroll(0, -500)',
        "go_backward()": "go_back()",
        'do(action="Goto", argument="http://x.test/")': 'goto("http://x.test/")',
        'do(action="Switch Tab", argument="1")': "tab_focus(1)",
        'do(action="Close Tab")': "tab_close()",
        'exit(message="42 items")': 'send_msg_to_user("42 items")',
    }
    for planact, browsergym in cases.items():
        assert to_browsergym(parse_action(planact), bids) == browsergym, planact
    with pytest.raises(Untranslatable, match="element 5 has no BrowserGym id"):
        to_browsergym(parse_action('do(action="Click", element="5")'), bids)


@pytest.fixture(scope="module")
def suite():
    s = BrowserGymSuite("miniwob", BrowserGymSettings(venv=str(ROOT / ".venv-browsergym")))
    yield s
    s.close()


@pytest.mark.browser
@pytest.mark.browsergym
def test_browsergym_lists_its_tasks_and_refuses_unknown_ones(suite):
    names = [t.id for t in suite.tasks()]
    assert "click-button" in names and "login-user" in names and len(names) > 100
    with pytest.raises(KeyError, match="did you mean click-button"):
        suite.check_task("click-buton")


@pytest.mark.browser
@pytest.mark.browsergym
@pytest.mark.parametrize("task_id,seed", [("click-button", 3), ("enter-text", 1), ("login-user", 3),
                                          ("choose-list", 2), ("click-checkboxes", 4)])
def test_scripted_outputs_solve_browsergyms_miniwob_through_the_bridge(suite, session, task_id, seed, tmp_path):
    executor = ScriptedLLM(responder(task_id), name="scripted-executor")
    agent = PlanActAgent(executor=executor, planner=ScriptedLLM([PLAN]), config=AgentConfig(replan="never", max_steps=8))
    rec = run_episode(suite, session, agent, task_id, seed, tmp_path, RunSettings(BrowserOptions(), ObservationOptions()))
    assert rec.error is None and rec.status == "env_done", (rec.status, rec.error)
    assert rec.success and rec.reward == 1.0  # BrowserGym's own reward
    prompt = executor.calls[0][0][-1].content
    assert 'id="' in prompt and "bid" not in prompt  # planact's observation, planact's ids


@pytest.mark.browser
@pytest.mark.browsergym
def test_a_wrong_id_is_feedback_and_the_episode_goes_on(suite, session, tmp_path):
    executor = ScriptedLLM(['do(action="Click", element="999")', 'do(action="Click", element="7")'])
    agent = PlanActAgent(executor=executor, config=AgentConfig(use_planner=False, max_steps=2))
    rec = run_episode(suite, session, agent, "click-button", 3, tmp_path, RunSettings(BrowserOptions(), ObservationOptions()))
    assert rec.error is None and rec.success  # the second answer clicks "submit"
    assert "element 999 is not on the current page" in executor.calls[1][0][-1].content


def eval_on_browsergym(tmp_path, *args: str) -> list[dict]:
    """`planact eval --suite browsergym/miniwob --tasks click-button ARGS`; the episode records."""
    config = tmp_path / "bg.yaml"
    config.write_text(f"eval:\n  browsergym: {{venv: {ROOT / '.venv-browsergym'}}}\n")
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "tests")}  # for scripted: model specs
    done = subprocess.run([sys.executable, "-m", "planact.cli.main", "eval", "--config", str(config),
                           "--suite", "browsergym/miniwob", "--tasks", "click-button", *args, "--output", str(out)],
                          capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return [json.loads(line) for line in (out / "episodes.jsonl").read_text().splitlines()]


@pytest.mark.browser
@pytest.mark.browsergym
def test_planact_eval_runs_browsergyms_miniwob_with_a_scripted_executor(tmp_path):
    recs = eval_on_browsergym(tmp_path, "--seeds", "3-4", "--no-planner",
                              "--executor", "scripted:support.miniwob_solvers:click_button_executor")
    assert [(r["seed"], r["success"], r["reward"]) for r in recs] == [(3, True, 1.0), (4, True, 1.0)]


@pytest.mark.browser
@pytest.mark.browsergym
@pytest.mark.model
def test_the_shipped_model_runs_on_browsergym_from_the_command_line(tmp_path):
    rec = eval_on_browsergym(tmp_path, "--seeds", "3", "--max-steps", "6")[-1]
    assert rec["suite"] == "browsergym/miniwob" and rec["seed"] == 3 and rec["status"] in ("env_done", "max_steps")
    assert rec["success"]  # the trained default solves the quickstart's task in BrowserGym too


def agentlab_loop(worker, agent, env_id: str, seed: int, steps: int = 8) -> dict:
    """AgentLab's episode loop (obs -> agent.get_action -> env.step) against BrowserGym in its worker."""
    obs = worker.request("open", env_id=env_id, seed=seed, chromium=find_chromium(None), bgobs=True,
                         observe_js="")["obs"]
    step: dict = {}
    for _ in range(steps):
        action, info = agent.get_action(agent.obs_preprocessor(obs))
        step = worker.request("step", action=action, bgobs=True)
        step["action"] = action
        obs = step["obs"]
        if step["terminated"] or step["truncated"]:
            break
    agent.close()
    return step


@pytest.mark.browser
@pytest.mark.browsergym
@pytest.mark.parametrize("task_id,seed", [("click-button", 3), ("login-user", 3), ("choose-list", 2)])
def test_planacts_agent_runs_as_an_agentlab_agent_on_browsergym_observations(suite, task_id, seed):
    from planact.bench.browsergym.agentlab import PlanActBrowserGymAgent

    executor = ScriptedLLM(responder(task_id), name="scripted-executor")
    agent = PlanActBrowserGymAgent(PlanActAgent(executor=executor, planner=ScriptedLLM([PLAN]),
                                                config=AgentConfig(replan="never", max_steps=8)))
    last = agentlab_loop(suite.worker(None), agent, f"browsergym/miniwob.{task_id}", seed)
    assert last["terminated"] and last["reward"] == 1.0, last.get("error")
    prompt = executor.calls[0][0][-1].content
    assert "<button id=" in prompt or "<input id=" in prompt or "<select id=" in prompt  # planact's HTML, bids as ids


@pytest.mark.browser
@pytest.mark.browsergym
@pytest.mark.model
def test_the_shipped_model_as_an_agentlab_agent_solves_the_quickstart_task(suite):
    from planact.bench.browsergym.agentlab import PlanActAgentArgs

    agent = PlanActAgentArgs(max_steps=6).make_agent()  # planact's defaults: the trained model, every role
    last = agentlab_loop(suite.worker(None), agent, "browsergym/miniwob.click-button", 3, steps=6)
    assert last["terminated"] and last["reward"] == 1.0
    assert last["action"].startswith("click(")


@pytest.mark.browser
@pytest.mark.browsergym
def test_the_agentlab_agent_answers_through_browsergyms_chat_and_marks_the_end(suite):
    from planact.bench.browsergym.agentlab import PlanActBrowserGymAgent

    executor = ScriptedLLM(['exit(message="done already")'])
    agent = PlanActBrowserGymAgent(PlanActAgent(executor=executor, config=AgentConfig(use_planner=False, max_steps=3)))
    obs = suite.worker(None).request("open", env_id="browsergym/miniwob.click-button", seed=3, bgobs=True,
                                     chromium=find_chromium(None), observe_js="")["obs"]
    action, _ = agent.get_action(obs)
    assert action == 'send_msg_to_user("done already")'
    assert agent.get_action(obs)[0] == "noop()"  # the episode is over for planact
