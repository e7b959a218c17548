"""`planact eval --ray`: episodes spread over Ray actors on a local cluster, each with its own browser;
the driver alone writes the records and the episodes' files, so a driver killed mid-run resumes without
losing or repeating an episode, and the records match a local run's."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser
TESTS = Path(__file__).parent
MODEL = "scripted:support.synth_responders:slow_respond"
TASKS = "click-button,click-link,focus-text,enter-text"


def _eval(out: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen([sys.executable, "-m", "planact.cli.main", "eval", "--suite", "miniwob", "--tasks", TASKS,
                             "--seeds", "0-1", "--no-planner", "--executor", MODEL, "--output", str(out), *extra],
                            env=env, cwd=TESTS.parent, start_new_session=True, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def _records(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "episodes.jsonl").read_text().splitlines() if line.strip()]


def _content(rec: dict) -> tuple:
    return rec["task_id"], rec["seed"], rec["success"], rec["reward"] is not None, rec["steps"], rec["status"]


def test_a_ray_eval_resumes_after_the_driver_is_killed_and_matches_a_local_run(tmp_path):
    pytest.importorskip("ray")
    out = tmp_path / "ray"
    proc = _eval(out, "--ray", "local", "--workers", "2")
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if (out / "episodes.jsonl").exists() and len(_records(out)) >= 2:
            break
        time.sleep(0.2)
    assert proc.poll() is None, proc.stdout.read()[-3000:]
    os.killpg(proc.pid, signal.SIGKILL)  # the driver dies (and the local cluster it started with it)
    proc.wait()
    first = len(_records(out))
    assert 2 <= first < 8
    again = _eval(out, "--ray", "local", "--workers", "2")
    output, _ = again.communicate(timeout=600)
    assert again.returncode == 0, output[-3000:]
    assert f"resuming: {first} of 8" in output
    recs = _records(out)
    assert sorted((r["task_id"], r["seed"]) for r in recs) == sorted(
        (t, s) for t in TASKS.split(",") for s in (0, 1))  # every episode exactly once
    for r in recs:  # the actors' traces and reports were written by the driver, where the record says
        assert (out / r["trace"]).exists() and (out / r["report"]).exists()
    local = tmp_path / "local"
    plain = _eval(local, "--workers", "2")
    output, _ = plain.communicate(timeout=600)
    assert plain.returncode == 0, output[-3000:]
    assert sorted(map(_content, _records(local))) == sorted(map(_content, recs))
