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


def test_an_untagged_runs_fine_tuned_models_count_as_trained(tmp_path):
    """Table 1's rows and columns: the shipped bundle (or any adapter planact trained) is "trained" without
    a --tag; the untrained base stays "base"; a tag still wins."""
    specs = {"none-trained": ("local:planact-miniwob", True, {}),
             "base-base": ("local:smollm2-135m", False, {}),
             "tagged": ("local:planact-miniwob", False, {"planner": "base"})}
    for name, (spec, no_planner, tags) in specs.items():
        run = tmp_path / name
        run.mkdir()
        config = {"models": {"planner": spec, "executor": spec}, "agent": {"no_planner": no_planner, "replan": "never"}}
        (run / "run.json").write_text(json.dumps({"digest": name, "config": config, "tags": tags}))
        (run / "episodes.jsonl").write_text(json.dumps({
            "suite": "miniwob", "task_id": "click-button", "seed": 0, "success": True, "reward": 1.0, "raw_reward": 1.0,
            "steps": 1, "status": "env_done", "llm_calls": 1, "prompt_tokens": 10, "completion_tokens": 5,
            "wall_s": 1.0}) + "\n")
    out = CliRunner().invoke(app, ["report", *(str(tmp_path / n) for n in specs), "--format", "markdown"])
    assert out.exit_code == 0, out.output
    assert "| none-trained | miniwob | none | trained |" in out.output
    assert "| base-base | miniwob | base | base |" in out.output
    assert "| tagged | miniwob | base | trained |" in out.output


def test_a_table1_cell_still_running_says_how_many_episodes_it_rests_on(tmp_path):
    def run(name: str, no_planner: bool, spec: str, oks: list[bool]) -> str:
        folder = tmp_path / name
        folder.mkdir()
        config = {"models": {"planner": spec, "executor": spec}, "agent": {"no_planner": no_planner, "replan": "never"}}
        (folder / "run.json").write_text(json.dumps({"digest": name, "config": config, "tags": {}}))
        with (folder / "episodes.jsonl").open("w") as f:
            for seed, ok in enumerate(oks):
                f.write(json.dumps({"suite": "miniwob", "task_id": "click-button", "seed": seed, "success": ok,
                                    "reward": float(ok), "raw_reward": float(ok), "steps": 1, "status": "env_done",
                                    "llm_calls": 1, "prompt_tokens": 10, "completion_tokens": 5, "wall_s": 1.0}) + "\n")
        return str(folder)

    done = run("none-base", True, "local:smollm2-135m", [True, False, False, False])
    partial = run("none-trained", True, "local:planact-miniwob", [True, True, False])
    out = CliRunner().invoke(app, ["report", done, partial, "--format", "markdown"])
    assert out.exit_code == 0, out.output
    assert "| none | 25.0 | 66.7 (3 of 4 episodes) |" in out.output


def test_a_partly_rewarded_success_is_counted_as_the_suite_says_and_shown_apart(tmp_path):
    """MiniWoB's rule (raw reward > 0, as BrowserGym's) counts click-checkboxes with three boxes of five right
    (raw 0.2) a success; the report says so, with the success rate at the full reward beside it."""
    run = tmp_path / "none-trained"
    run.mkdir()
    rows = [("click-checkboxes", 0, 0.2), ("click-checkboxes", 1, 1.0), ("click-button", 0, 1.0), ("click-button", 1, -1.0)]
    with (run / "episodes.jsonl").open("w") as f:
        for task, seed, raw in rows:
            f.write(json.dumps({"suite": "miniwob", "task_id": task, "seed": seed, "success": raw > 0, "reward": raw,
                                "raw_reward": raw, "steps": 1, "status": "env_done", "llm_calls": 1,
                                "prompt_tokens": 10, "completion_tokens": 5, "wall_s": 1.0}) + "\n")
    out = CliRunner().invoke(app, ["report", str(run), "--format", "markdown"])
    assert out.exit_code == 0, out.output
    assert "partly rewarded | success % (full reward) |" in out.output
    lines = out.output.splitlines()
    boxes = next(line for line in lines if line.startswith("| click-checkboxes | 2 | 100.0 |"))
    button = next(line for line in lines if line.startswith("| click-button | 2 | 50.0 |"))
    total = next(line for line in lines if line.startswith("| all | 4 | 75.0 |"))
    assert boxes.endswith("| 1 | 50.0 |") and button.endswith("| 0 | 50.0 |") and total.endswith("| 1 | 50.0 |")
    assert "| 75.0 | 50.0 |" in out.output  # the runs table: the suite's rule, then the full reward
