"""`eval` writes one JSONL record per episode and a re-run skips what is done, even after a kill."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from planact.agent import AgentConfig, PlanActAgent
from planact.bench.miniwob import MiniWoBSuite
from planact.bench.records import RecordLog
from planact.bench.runner import RunConfigMismatch, RunSettings, check_run_config, run_eval
from planact.llm.scripted import ScriptedLLM
from planact.web import BrowserOptions, ObservationOptions

pytestmark = pytest.mark.browser
TESTS = Path(__file__).parent

EVAL_SCRIPT = textwrap.dedent("""
    import sys
    sys.path.insert(0, {tests!r})
    from pathlib import Path
    from planact.agent import AgentConfig, PlanActAgent
    from planact.bench.miniwob import MiniWoBSuite
    from planact.bench.runner import RunSettings, run_eval
    from planact.llm.scripted import ScriptedLLM
    from planact.web import BrowserOptions, ObservationOptions
    from support.miniwob_solvers import responder

    def make_agent():
        return PlanActAgent(executor=ScriptedLLM(responder("click-button")), config=AgentConfig(use_planner=False))

    jobs = [("click-button", s) for s in range({n})]
    run_eval(MiniWoBSuite(), make_agent, jobs, Path({out!r}),
             RunSettings(BrowserOptions(), ObservationOptions(), screenshots=False), workers={workers})
""")


def _script(out: Path, n: int, workers: int) -> str:
    return EVAL_SCRIPT.format(tests=str(TESTS), out=str(out), n=n, workers=workers)


def test_killed_eval_resumes_without_loss_or_duplicates(tmp_path):
    out = tmp_path / "run"
    n = 8
    proc = subprocess.Popen([sys.executable, "-c", _script(out, n, 1)], start_new_session=True)
    log = out / "episodes.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline:
        if log.exists() and len(log.read_text().splitlines()) >= 2:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the run and its browser die at once
    proc.wait()
    before = RecordLog(log).read()
    assert 2 <= len(before) < n, "the kill should land in the middle of the run"

    result = subprocess.run([sys.executable, "-c", _script(out, n, 2)], timeout=300)
    assert result.returncode == 0
    records = RecordLog(log).read()
    keys = [r.key for r in records]
    assert len(keys) == len(set(keys)) == n, keys  # every episode once
    assert [r.seed for r in records[: len(before)]] == [r.seed for r in before]  # nothing rewritten
    assert all(r.success for r in records)
    for r in records:
        assert (out / r.trace).exists() and (out / r.report).exists()


def test_torn_last_line_is_ignored_and_rerun(tmp_path):
    from support.miniwob_solvers import responder

    out = tmp_path / "run"
    settings = RunSettings(BrowserOptions(), ObservationOptions(), screenshots=False)
    make = lambda: PlanActAgent(executor=ScriptedLLM(responder("click-button")), config=AgentConfig(use_planner=False))
    run_eval(MiniWoBSuite(), make, [("click-button", 0)], out, settings)
    with (out / "episodes.jsonl").open("a") as f:
        f.write('{"suite": "miniwob", "task_id": "click-but')  # killed mid-write
    done = run_eval(MiniWoBSuite(), make, [("click-button", 0), ("click-button", 1)], out, settings)
    assert [r.seed for r in done] == [1]
    lines = (out / "episodes.jsonl").read_text().splitlines()
    assert len(lines) == 3 and json.loads(lines[-1])["seed"] == 1


def test_output_folder_is_tied_to_its_configuration(tmp_path):
    check_run_config(tmp_path, {"models": "a"})
    check_run_config(tmp_path, {"models": "a"})
    with pytest.raises(RunConfigMismatch):
        check_run_config(tmp_path, {"models": "b"})


def test_resuming_after_a_new_model_ships_under_the_same_name_is_refused(tmp_path):
    """`local:planact-miniwob` names other adapters once a new round ships: an eval resumed across that
    change would mix two models' episodes, so the folder is tied to the weights of the models it runs."""
    from planact.cli.main import _fingerprint
    from planact.config import PlanActConfig

    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text('{"base_model_name_or_path": "local:smollm2-135m"}')
    (adapter / "adapter_model.safetensors").write_bytes(b"round 9")
    cfg = PlanActConfig().with_overrides(models={"executor": f"local:{adapter}", "planner": "local:smollm2-135m"},
                                         agent={"no_planner": True})
    out = tmp_path / "run"
    check_run_config(out, _fingerprint("miniwob", cfg))
    check_run_config(out, _fingerprint("miniwob", cfg))
    (adapter / "adapter_model.safetensors").write_bytes(b"round 10")
    with pytest.raises(RunConfigMismatch):
        check_run_config(out, _fingerprint("miniwob", cfg))
    # a base model's name is its identity, and a role that does not run does not count
    base = cfg.with_overrides(models={"executor": "local:smollm2-135m", "planner": f"local:{adapter}"})
    assert "weights" not in _fingerprint("miniwob", base)


def test_a_bundles_planner_eval_resumes_when_only_its_executor_was_retrained(tmp_path):
    """With a bundle in both roles, each role counts only the adapter it loads: a new executor refuses
    a trained-executor cell, while a base-executor cell that runs only the bundle's planner resumes."""
    import shutil

    from planact.cli.main import _fingerprint
    from planact.config import PlanActConfig

    bundle = tmp_path / "bundle"
    for role in ("executor", "planner"):
        (bundle / role).mkdir(parents=True)
        (bundle / role / "adapter_config.json").write_text('{"base_model_name_or_path": "local:smollm2-135m"}')
        (bundle / role / "adapter_model.safetensors").write_bytes(f"{role} round 10".encode())
    (bundle / "bundle.json").write_text('{"base": "local:smollm2-135m", "prompt_version": "v2", '
                                        '"roles": {"executor": "executor", "planner": "planner", "replanner": "planner"}}')
    trained = PlanActConfig().with_overrides(models={"executor": f"local:{bundle}", "planner": f"local:{bundle}"})
    base_exec = trained.with_overrides(models={"executor": "local:smollm2-135m"})
    check_run_config(tmp_path / "both", _fingerprint("miniwob", trained))
    check_run_config(tmp_path / "planner", _fingerprint("miniwob", base_exec))
    (bundle / "executor" / "adapter_model.safetensors").write_bytes(b"executor round 12")
    with pytest.raises(RunConfigMismatch):
        check_run_config(tmp_path / "both", _fingerprint("miniwob", trained))
    check_run_config(tmp_path / "planner", _fingerprint("miniwob", base_exec))  # the same planner
    shutil.copy(bundle / "executor" / "adapter_model.safetensors", bundle / "planner" / "adapter_model.safetensors")
    with pytest.raises(RunConfigMismatch):
        check_run_config(tmp_path / "planner", _fingerprint("miniwob", base_exec))


def test_an_eval_folder_is_tied_to_what_episodes_depend_on_not_to_the_training_settings(tmp_path):
    """A new setting of the learning loop (or synth, train) does not orphan an eval folder, one written when
    the fingerprint held every section included; the agent's settings still do."""
    import json

    from planact.cli.main import _fingerprint
    from planact.config import PlanActConfig

    cfg = PlanActConfig().with_overrides(agent={"no_planner": True})
    fp = _fingerprint("miniwob", cfg)
    assert set(fp) - {"weights"} == {"suite", "models", "agent", "browser", "eval"}  # weights: the shipped bundle
    out = tmp_path / "run"
    old = {"suite": "miniwob", **cfg.model_dump(), **({"weights": fp["weights"]} if "weights" in fp else {})}
    old["learn"]["select"].pop("replay", None)  # how folders were tied before: every section, that day's settings
    out.mkdir()
    (out / "run.json").write_text(json.dumps({"digest": "0123456789ab", "config": old, "tags": {}}))
    check_run_config(out, fp)
    check_run_config(out, _fingerprint("miniwob", cfg.with_overrides(learn={"rounds": 3})))
    with pytest.raises(RunConfigMismatch):
        check_run_config(out, _fingerprint("miniwob", cfg.with_overrides(agent={"max_steps": 3})))
