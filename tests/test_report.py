"""`planact report` breaks a run down by site where the suite has sites, else by task (MiniWoB)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from planact.cli.main import app


def test_a_suite_without_sites_is_broken_down_by_task(tmp_path):
    run = tmp_path / "none-trained"
    run.mkdir()
    rows = [("click-button", 0, True), ("click-button", 1, False), ("enter-text", 0, True), ("enter-text", 1, True)]
    with (run / "episodes.jsonl").open("w") as f:
        for task, seed, ok in rows:
            f.write(json.dumps({"suite": "miniwob", "task_id": task, "seed": seed, "success": ok, "reward": float(ok),
                                "raw_reward": float(ok), "steps": 1, "status": "env_done", "llm_calls": 1,
                                "prompt_tokens": 10, "completion_tokens": 5, "wall_s": 1.0}) + "\n")
    out = CliRunner().invoke(app, ["report", str(run), "--format", "markdown"])
    assert out.exit_code == 0, out.output
    assert "success and steps by task" in out.output
    assert "| click-button | 2 | 50.0 |" in out.output and "| enter-text | 2 | 100.0 |" in out.output
    assert out.output.count("| all | 4 | 75.0 |") == 1  # the overall row once, not once per missing site
