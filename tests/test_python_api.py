"""The Python API as the README shows it: its example runs with the embedded model in a real
browser, and failures raise unless the caller asks for the recording behaviour."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = [pytest.mark.model, pytest.mark.browser]
README = Path(__file__).parent.parent / "README.md"


def test_the_readme_example_runs(tmp_path, monkeypatch, capsys):
    text = README.read_text(encoding="utf-8")
    block = re.search(r"<!-- python-api-example[^>]*-->\s*```python\n(.*?)```", text, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    exec(compile(block, "README.md", "exec"), {})
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("env_done True")  # the trained model solves the quickstart's task
    assert list((tmp_path / "runs" / "api" / "episodes").glob("adhoc*/trace.json"))


def test_errors_raise_unless_recorded():
    from planact import Agent, AgentError

    with Agent(executor="scripted:support.synth_responders:respond", no_planner=True) as agent:
        with pytest.raises(ValueError, match="task and a url"):
            agent.run("no page given")
        with pytest.raises(AgentError):  # nothing listens there: the page cannot load
            agent.run("Read it", url="http://127.0.0.1:9/unreachable")
        traj = agent.run("Read it", url="http://127.0.0.1:9/unreachable", record_errors=True)
        assert traj.status == "error" and traj.error
