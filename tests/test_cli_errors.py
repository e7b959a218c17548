"""Bad input as a user types it: one line on stderr naming what is wrong, exit code 2, no traceback
and nothing written; an output folder in use is refused; a model server that dies mid-run stops
the run fast with exit code 1; episodes that ended in error make `eval` exit 1 unless allowed."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from support.fake_openai import FakeServer

from planact.outdir import OutputLock

BASE = ["eval", "--suite", "miniwob", "--tasks", "click-button", "--no-planner", "--max-steps", "2"]


def planact(*args, cwd, env=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "planact.cli.main", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout, env=env)


@pytest.fixture
def workdir(tmp_path):
    (tmp_path / "broken.yaml").write_text("agent: [1\n")
    (tmp_path / "unknown.yaml").write_text("agent:\n  nope: 1\n")
    (tmp_path / "wrongtype.yaml").write_text("agent:\n  max_steps: abc\n")
    (tmp_path / "alist.yaml").write_text("- 1\n- 2\n")
    (tmp_path / "afile").write_text("x")
    return tmp_path


BAD = [
    (["--config", "broken.yaml"], "not valid YAML at line 2"),
    (["--config", "unknown.yaml"], "agent.nope: unknown key"),
    (["--config", "wrongtype.yaml"], "agent.max_steps"),
    (["--config", "alist.yaml"], "not a list"),
    (["--config", "missing.yaml"], "missing.yaml not found"),
    (["--seeds", "x"], "'x' is not a seed"),
    (["--seeds", "-3"], "'-3' is not a seed"),
    (["--seeds", "5-1"], "runs backwards"),
    (["--seeds", ","], "at least one seed"),
    (["--max-steps", "-1"], "agent.max_steps"),
    (["--max-steps", "0"], "agent.max_steps"),
    (["--executor", "foo:bar"], "bad model spec 'foo:bar'"),
    (["--executor", "local:/no/such/model"], "no local model at '/no/such/model'"),
    (["--executor", "openai:gpt-4o"], "needs an API key: set $OPENAI_API_KEY"),
    (["--executor", "openai-compatible:http://127.0.0.1:9/v1#m"], "cannot reach the model server"),
    (["--output", "afile/run"], "afile is a file"),
    (["--output", "/proc/planact-run"], "cannot create the output folder"),
]


@pytest.mark.parametrize("args,message", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_is_one_line_exit_2_and_nothing_written(workdir, args, message):
    env = {k: v for k, v in __import__("os").environ.items() if k != "OPENAI_API_KEY"}
    before = sorted(p.name for p in workdir.iterdir())
    out = [] if "--output" in args else ["--output", "out"]
    r = planact(*BASE, *out, *args, cwd=workdir, env=env)
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("planact: error: ") and message in lines[0], r.stderr
    assert "Traceback" not in r.stdout + r.stderr
    assert sorted(p.name for p in workdir.iterdir()) == before  # no output folder, no records


def test_an_output_folder_in_use_is_refused(tmp_path):
    with OutputLock(tmp_path / "busy", "eval"):
        r = planact(*BASE, "--output", "busy", cwd=tmp_path)
        assert r.returncode == 2 and "in use by another eval" in r.stderr, r.stderr
    assert not (tmp_path / "busy" / "episodes.jsonl").exists()
    with OutputLock(tmp_path / "busy"):  # released: it can be taken again
        pass


@pytest.mark.browser
def test_a_model_server_that_dies_mid_run_stops_the_run_fast(tmp_path):
    server = FakeServer(stop_after=3)  # answers 3 calls, then goes away
    try:
        spec = f"openai-compatible:{server.url}#m?retries=1&retry_s=2"
        r = planact(*BASE, "--seeds", "0-19", "--executor", spec, "--output", "ev", cwd=tmp_path, timeout=240)
    finally:
        server.close()
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "episodes in a row ended in error" in r.stderr and "Traceback" not in r.stderr
    recs = [json.loads(x) for x in (tmp_path / "ev" / "episodes.jsonl").read_text().splitlines()]
    assert [x["status"] for x in recs[-5:]] == ["error"] * 5 and len(recs) < 12  # stopped, not 20 episodes
    assert any(x["status"] != "error" for x in recs)  # the episodes before the crash are kept


@pytest.mark.browser
def test_eval_exits_1_when_an_episode_ended_in_error_unless_allowed(tmp_path):
    server = FakeServer()
    server.statuses = [400] * 50  # every call rejected: each episode ends in error
    try:
        spec = f"openai-compatible:{server.url}#m"
        r = planact(*BASE, "--seeds", "0-1", "--executor", spec, "--output", "ev", cwd=tmp_path)
        assert r.returncode == 1 and "2 of 2 episodes ended in error" in r.stdout.replace("\n", " "), r.stdout
        ok = planact(*BASE, "--seeds", "0-1", "--executor", spec, "--output", "ev", "--allow-errors", cwd=tmp_path)
        assert ok.returncode == 0, ok.stdout
    finally:
        server.close()


@pytest.mark.browser
def test_resuming_with_another_configuration_is_one_line_and_exit_2(tmp_path):
    first = planact(*BASE, "--output", "run", "--max-steps", "1", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    before = (tmp_path / "run" / "episodes.jsonl").read_bytes()
    r = planact(*BASE, "--output", "run", "--max-steps", "3", cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "holds a run with another configuration" in r.stderr
    assert "Traceback" not in r.stderr and (tmp_path / "run" / "episodes.jsonl").read_bytes() == before
