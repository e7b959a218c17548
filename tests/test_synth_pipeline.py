"""`planact synth run --config pipeline.yaml` end to end with scripted models on MiniWoB in a real
browser (rollouts scored by the env ORM), then the same stages spread over a local Ray instance."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from planact.synth.records import RecordStore

TESTS = Path(__file__).parent
R = "scripted:support.synth_responders:respond"

PIPELINE = f"""
models: {{planner: "{R}", executor: "{R}"}}
agent: {{max_steps: 6}}
synth:
  out: OUT
  model: "{R}"
  concurrency: 2
  queries: {{suite: miniwob, tasks: [click-button, enter-text], suite_seeds: "0-2", calls: 2, new_per_call: 4,
            seeds_per_call: 3, include_seeds: true}}
  expand: {{target: 6, new_per_call: 3}}
  augment: {{target: 3, val_fraction: 0.5}}
"""


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}


def _synth(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "planact.cli.main", "synth", *args], env=_env(),
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def test_whole_pipeline_runs_and_a_rerun_repeats_nothing(tmp_path):
    out = tmp_path / "synth"
    cfg = tmp_path / "pipeline.yaml"
    cfg.write_text(PIPELINE.replace("OUT", str(out)))
    _synth("run", "--config", str(cfg))
    kept = {p.stem: len(RecordStore(p).read(kept_only=True)) for p in out.glob("*.jsonl") if p.stem != "synth_runs"}
    for stage in ("queries", "trajectories", "plans", "expand", "augment.eval", "augment.classes", "augment",
                  "replan", "cot"):
        assert kept.get(stage, 0) > 0, (stage, kept)
    trajs = RecordStore(out / "trajectories.jsonl").read()
    # the suite's own seeds are solved by the scripted policy and judged by MiniWoB's reward
    solved = [t for t in trajs if t.kept]
    assert all(t.data["orm"]["kind"] == "env" and t.data["orm"]["raw_reward"] == 1.0 for t in solved)
    assert all(t.reason.startswith(("orm_failure", "rollout_error")) for t in trajs if not t.kept)
    assert all(t.data["trajectory"]["steps"][0]["observation"] for t in solved)
    plans = RecordStore(out / "plans.jsonl").read(kept_only=True)
    assert {p.data["trajectory_id"] for p in plans} <= {t.id for t in solved}
    stats = json.loads((out / "export" / "stats.json").read_text())
    for role in ("planner", "executor", "replanner"):
        assert stats["roles"][role]["examples"] > 0
    ex = [json.loads(x) for x in (out / "export" / "chat" / "executor.jsonl").read_text().splitlines()]
    # executor examples show the grounded plan and end in the action that was taken
    assert all("## Plan\n## Step 1" in e["messages"][1]["content"] for e in ex)
    assert all(e["messages"][2]["content"].splitlines()[-1].startswith("do(") for e in ex)

    sizes = {p.name: p.stat().st_size for p in out.glob("*.jsonl") if p.stem != "synth_runs"}
    _synth("run", "--config", str(cfg))
    assert {p.name: p.stat().st_size for p in out.glob("*.jsonl") if p.stem != "synth_runs"} == sizes
    last = json.loads((out / "synth_runs.jsonl").read_text().splitlines()[-1])
    assert all(s["processed"] == 0 for s in last["stages"] if s["stage"] != "export")


def test_stages_spread_over_a_local_ray_instance(tmp_path):
    pytest.importorskip("ray")
    out = tmp_path / "synth"
    cfg = tmp_path / "pipeline.yaml"
    cfg.write_text(PIPELINE.replace("OUT", str(out)))
    _synth("run", "--config", str(cfg), "--stages", "queries", "--stages", "trajectories", "--ray", "local",
           "--workers", "2", timeout=400)
    for name in ("queries.generated", "queries", "trajectories"):
        recs = RecordStore(out / f"{name}.jsonl").read()
        assert recs
        # (the seeds themselves are copied into queries.jsonl by the driver, not by a worker)
        workers = {r.provenance.extra.get("worker", "") for r in recs if r.provenance.extra.get("source") != "seed"}
        assert all(w.startswith("ray:") for w in workers), workers
    # rollouts ran in two actor processes, each with its own browser
    trajs = RecordStore(out / "trajectories.jsonl").read()
    assert len({r.provenance.extra["worker"] for r in trajs}) == 2
    assert any(t.kept for t in trajs)
