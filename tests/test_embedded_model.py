"""The real embedded model (SmolLM2-135M) through whole episodes, and the CLI as a user runs it.
The model is not expected to solve tasks; episodes must complete cleanly with every output kept."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from planact.agent import AgentConfig, PlanActAgent
from planact.bench.runner import RunSettings, run_episode
from planact.web import BrowserOptions, ObservationOptions

pytestmark = [pytest.mark.model, pytest.mark.browser]


def test_embedded_model_runs_a_whole_plan_and_act_episode(embedded_model, miniwob, session, tmp_path):
    agent = PlanActAgent(executor=embedded_model, planner=embedded_model,
                         config=AgentConfig(replan="every-step", max_steps=3, planner_max_tokens=200,
                                            executor_max_tokens=80))
    rec = run_episode(miniwob, session, agent, "click-button", 3, tmp_path,
                      RunSettings(BrowserOptions(), ObservationOptions(token_budget=3000)))
    trace = json.loads((tmp_path / rec.trace).read_text())
    assert rec.error is None and rec.status in {"exit", "max_steps", "loop", "env_done"}
    assert rec.reward is not None  # scored by the page
    assert trace["plans"] and all(p["raw_output"] for p in trace["plans"])
    assert trace["steps"] and all(s["raw_output"] for s in trace["steps"])
    # with the grammar every action is well-formed and names an element on the page
    assert all(s["parse_error"] is None for s in trace["steps"])
    # the replanner ran after every action that was followed by another step
    followed = [s for s in trace["steps"][:-1] if s["action"] and not s["action"].startswith("exit")]
    roles = [c["role"] for c in trace["llm_calls"]]
    assert roles.count("executor") == len(trace["steps"]) and roles.count("planner") >= 1
    assert roles.count("replanner") >= len(followed) and len(trace["plans"]) == 1 + len(followed)
    assert all(c["prompt_tokens"] > 0 and c["completion_tokens"] > 0 for c in trace["llm_calls"])
    assert (tmp_path / rec.report).read_text().count("raw model output") == len(trace["steps"])


def _cached_share(trace: dict, role: str) -> float:
    calls = [c for c in trace["llm_calls"] if c["role"] == role][1:]  # the first call has nothing cached
    return sum(c["cached_tokens"] for c in calls) / max(1, sum(c["prompt_tokens"] for c in calls))


def test_each_role_keeps_its_prompt_prefix_cached(session, tmp_path, fixtures_dir):
    """The base model in every role: with a context per role, an executor or replanner prompt reuses most
    of the same role's previous prompt; sharing one context, the roles evict each other's prefix."""
    from planact.agent.factory import build_agent
    from planact.bench.adhoc import AdHocSuite
    from planact.config import PlanActConfig

    suite = AdHocSuite((fixtures_dir / "shop.html").as_uri(), "Search for a kettle, sort by price, note free shipping")
    shares = {}
    for cache in (True, False):
        cfg = PlanActConfig.model_validate({
            "models": {"planner": "local:smollm2-135m", "executor": "local:smollm2-135m"},
            "agent": {"replan": "every-step", "max_steps": 3, "planner_max_tokens": 60, "executor_max_tokens": 40,
                      "prefix_cache": cache, "max_repeats": 9, "grammar_exit": False}})
        agent = build_agent(cfg)
        roles = {agent.executor.llm is agent.planner.llm, agent.planner.llm is agent.replanner.llm}
        assert roles == ({False} if cache else {True})
        rec = run_episode(suite, session, agent, "adhoc", None, tmp_path / str(cache),
                          RunSettings(BrowserOptions(), ObservationOptions(token_budget=3000)))
        trace = json.loads((tmp_path / str(cache) / rec.trace).read_text())
        assert len([c for c in trace["llm_calls"] if c["role"] == "executor"]) == 3
        shares[cache] = {role: _cached_share(trace, role) for role in ("executor", "replanner")}
        assert rec.usage["executor"]["cached_tokens"] == sum(
            c["cached_tokens"] for c in trace["llm_calls"] if c["role"] == "executor")
    assert shares[True]["executor"] > 0.3 and shares[True]["executor"] > 2 * shares[False]["executor"]
    assert shares[True]["replanner"] > shares[False]["replanner"]


def planact(*args, cwd):
    return subprocess.run([sys.executable, "-m", "planact.cli.main", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=600)


def test_cli_run_on_a_miniwob_task(tmp_path):
    out = tmp_path / "run"
    r = planact("run", "--suite", "miniwob", "--task", "click-button", "--seed", "3", "--max-steps", "6",  # as quickstart.sh
                "--output", str(out), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "Initial plan" in r.stdout and "step 1" in r.stdout and "reward" in r.stdout
    assert "planact-miniwob/executor?prompt=v2" in r.stdout  # the default: the trained bundle ...
    assert "success" in r.stdout  # ... solves the quickstart's task
    assert (out / "episodes" / "click-button-seed3" / "report.html").exists()
    assert "report:" in r.stdout


def test_cli_run_on_any_page(tmp_path, fixtures_dir):
    r = planact("run", "--task", "Search for a kettle", "--url", (fixtures_dir / "shop.html").as_uri(),
                "--no-planner", "--max-steps", "2", "--output", str(tmp_path / "adhoc"), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "not scored" in r.stdout and (tmp_path / "adhoc" / "episodes" / "adhoc" / "trace.json").exists()


def test_cli_eval_writes_records_and_resumes(tmp_path):
    args = ["eval", "--suite", "miniwob", "--tasks", "click-button,focus-text", "--seeds", "0-1", "--workers", "2",
            "--no-planner", "--max-steps", "2", "--output", str(tmp_path / "ev")]
    r = planact(*args, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    lines = (tmp_path / "ev" / "episodes.jsonl").read_text().splitlines()
    assert len(lines) == 4
    rec = json.loads(lines[0])
    for key in ("task_id", "seed", "success", "reward", "steps", "llm_calls", "prompt_tokens",
                "completion_tokens", "wall_s", "error"):
        assert key in rec
    assert "click-button" in r.stdout and "focus-text" in r.stdout and "all" in r.stdout
    again = planact(*args, cwd=tmp_path)
    assert again.returncode == 0 and "resuming: 4 of 4" in again.stdout
    assert len((tmp_path / "ev" / "episodes.jsonl").read_text().splitlines()) == 4


def test_cli_lists_tasks_and_models(tmp_path):
    r = planact("tasks", "--suite", "miniwob", cwd=tmp_path)
    assert r.returncode == 0 and "book-flight" in r.stdout and "130 tasks" in r.stdout
    r = planact("models", cwd=tmp_path)
    assert r.returncode == 0 and "local:smollm2-135m" in r.stdout and "openai-compatible" in r.stdout
    r = planact("run", "--suite", "miniwob", "--task", "click-buton", cwd=tmp_path)
    assert r.returncode != 0 and "did you mean click-button" in (r.stdout + r.stderr)


def test_llama_cpp_grammar_never_offers_an_avoided_action(embedded_model):
    """What keeps the agent from repeating an action that left the page unchanged: the embedded
    model, asked for exactly that action and sampling hot, still cannot produce it."""
    from planact.agent.grammars import action_grammar
    from planact.llm.base import ChatMessage, GenerationOptions
    from planact.web.actions import parse_action

    avoid = {("Click", 1), ("Click", 2), ("Scroll Down", None)}
    grammar = action_grammar([1, 2, 3], notes=False, exit_=False, avoid=avoid)
    messages = [ChatMessage("user", 'Answer with do(action="Click", element="1") and nothing else.')]
    actions = []
    for seed in range(6):
        gen = embedded_model.generate(messages, GenerationOptions(max_tokens=240, temperature=1.5, seed=seed,
                                                                  grammar=grammar))
        actions.append(parse_action(gen.text))
    assert all((a.name, a.element) not in avoid for a in actions), [a.call() for a in actions]


def test_llama_cpp_grammar_types_only_whole_words_of_the_task(embedded_model):
    """With type_from_task, what the embedded model types is made of the task's words, each copied
    whole: sampling hot, it cannot write "4" for "41nu" or a word the task does not have."""
    from planact.agent.grammars import action_grammar, task_words
    from planact.llm.base import ChatMessage, GenerationOptions
    from planact.web.actions import parse_action

    task = 'Enter the password "41nu" into both text fields and press submit.'
    words = task_words(task)
    assert "41nu" in words and "submit" in words and "submit." in words and '"41nu"' not in words
    grammar = action_grammar([4, 5, 7], notes=False, exit_=False, words=words)
    messages = [ChatMessage("user", f'{task}\nAnswer with do(action="Type", argument="4", element="5").')]
    typed = []
    for seed in range(6):
        gen = embedded_model.generate(messages, GenerationOptions(max_tokens=120, temperature=1.5, seed=seed,
                                                                  grammar=grammar))
        action = parse_action(gen.text)
        if action.name in ("Type", "Search"):
            typed.append(action.argument)
    assert typed, "the model typed nothing in 6 hot samples"
    assert all(t.split(" ") and all(w in words for w in t.split(" ")) for t in typed), typed


def test_llama_cpp_grammar_types_only_into_the_fields_it_is_given(embedded_model):
    """With type_into_fields the grammar lets Type use only the field's id while Click keeps every id:
    asked to type into the label and sampling hot, the embedded model still types only into the field."""
    from planact.agent.grammars import action_grammar
    from planact.llm.base import ChatMessage, GenerationOptions
    from planact.web.actions import parse_action

    grammar = action_grammar([7, 8, 9], notes=False, exit_=False, targets={"Type": [8], "Search": [8]})
    messages = [ChatMessage("user", 'Answer with do(action="Type", argument="41nu", element="7").')]
    actions = []
    for seed in range(6):
        gen = embedded_model.generate(messages, GenerationOptions(max_tokens=120, temperature=1.5, seed=seed,
                                                                  grammar=grammar))
        actions.append(parse_action(gen.text))
    assert any(a.name == "Type" for a in actions), [a.call() for a in actions]
    assert all(a.element == 8 for a in actions if a.name in ("Type", "Search")), [a.call() for a in actions]


def test_llama_cpp_loads_weights_into_plain_cpu_buffers(embedded_model):
    """On a CPU that reports AMX in a virtual machine that does not let a process use it, a model in
    ggml's AMX buffers crashed the process on its first prompt of more than one token. planact loads
    with extra buffer types off, and llama-cpp-python's own defaults are left as they were."""
    import llama_cpp

    from planact.llm.base import ChatMessage, GenerationOptions
    from planact.llm.llamacpp_backend import _plain_cpu_buffers

    default = llama_cpp.llama_cpp.llama_model_default_params
    with _plain_cpu_buffers(llama_cpp):
        assert llama_cpp.llama_cpp.llama_model_default_params().use_extra_bufts is False
    assert llama_cpp.llama_cpp.llama_model_default_params is default
    gen = embedded_model.generate([ChatMessage("user", "Name three colours of the rainbow, please.")],
                                  GenerationOptions(max_tokens=8))
    assert gen.usage.prompt_tokens > 8 and gen.usage.completion_tokens > 0
