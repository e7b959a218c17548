"""`planact learn` as a user runs it, with the real embedded model in real Chromium: two short
rounds on two tasks, killed with SIGKILL mid-rollouts and mid-training and resumed by the same
command, every phase's records on disk, the keep-or-discard rule applied, the tables, the plot and
`learn status`; then the shipped bundle `local:planact-miniwob` on llama.cpp with grammars."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from planact.synth.records import RecordStore

pytest.importorskip("trl")

CONFIG = """
learn:
  out: {out}
  suite: miniwob
  tasks: [focus-text, click-button]
  rounds: 2
  plateau: 5
  prompt_version: v2
  rollouts:
    per_task: 4
    per_seed: 2
    max_steps: 3
    explore: [0.0, 1.0]   # every other rollout takes random afforded actions only
    agent: {{no_planner: true, grammar_notes: false, grammar_exit: false}}
  train:
    max_steps: 2
    # then DPO: each success's step against the move that ended a failed rollout there
    # then pairs from the executor's own answers on the successes' steps (a second stage)
    prefer: {{per_task: 4, roles: [executor], objective: dpo, policy_pairs: true}}
    settings: {{batch_size: 2, per_device_batch_size: 2, learning_rate: 0.0003, max_length: 1024, save_steps: 1,
               eval_fraction: 0.0, lora_r: 4, lora_alpha: 8}}
  validate: {{seeds: "90000", max_steps: 3}}
"""


def _start(work: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "planact.cli.main", "learn", "run", "--config", "learn.yaml"],
                            cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)


def _kill_when(proc: subprocess.Popen, ready, timeout: float = 400) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        assert proc.poll() is None, "the loop ended before the kill point:\n" + (proc.stdout.read() or "")[-3000:]
        assert time.monotonic() < deadline, "the kill point was never reached"
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _lines(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    work = tmp_path_factory.mktemp("learn")
    (work / "learn.yaml").write_text(CONFIG.format(out="out"))
    out = work / "out"
    # kill 1: in round 1's rollouts, once two rollouts are on disk
    _kill_when(_start(work), lambda: _lines(out / "rounds" / "1" / "rollouts.jsonl") >= 2)
    state = json.loads((out / "state.json").read_text())
    assert (state["round"], state["phase"]) == (1, "rollouts")
    # kill 2: in the first training run, once it has saved a checkpoint
    _kill_when(_start(work), lambda: any((out / "rounds").glob("*/adapters/*/checkpoint-1/trainer_state.json")))
    proc = subprocess.run([sys.executable, "-m", "planact.cli.main", "learn", "run", "--config", "learn.yaml"],
                          cwd=work, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return work, out, proc.stdout


def test_each_phase_wrote_its_records_once(loop):
    work, out, stdout = loop
    state = json.loads((out / "state.json").read_text())
    assert state["finished"] == "all 2 rounds done" and [r["round"] for r in state["rounds"]] == [0, 1, 2]
    for r in (1, 2):
        folder = out / "rounds" / str(r)
        alloc = json.loads((folder / "curriculum.json").read_text())
        store = RecordStore(folder / "rollouts.jsonl")
        rollouts = store.read()
        assert len(rollouts) == sum(a["rollouts"] for a in alloc.values())  # nothing lost ...
        assert len({x.unit for x in rollouts}) == len(rollouts)  # ... nothing twice
        assert all(x.data["env_seed"] >= 10000 for x in rollouts)
        assert all(x.provenance.stage == "trajectories" and x.provenance.model for x in rollouts)
        for x in rollouts:  # exploration acted where (and only where) the unit asked for it
            explored = [s.get("explored") for s in x.data["trajectory"]["steps"]]
            rate = x.provenance.extra["actor"]["agent"]["explore"]
            assert all(explored) if rate == 1.0 else not any(explored), (rate, explored)
        selected = RecordStore(folder / "synth" / "trajectories.jsonl").read()
        assert len(selected) == sum(json.loads((folder / "selected.json").read_text()).values())
        assert all(s["raw_output"].endswith(s["action"]) for t in selected
                   for s in t.data["trajectory"]["steps"] if s.get("action"))
        if not selected:  # nothing to learn from yet: no training, no validation, not kept
            assert not (folder / "validation").exists() and state["rounds"][r]["note"]
            continue
        if selected:
            plans = RecordStore(folder / "synth" / "plans.jsonl").read(kept_only=True)
            assert len(plans) == len(selected) and all(p.provenance.model == "offline" for p in plans)
            for role in ("executor", "planner"):
                rows = (folder / "synth" / "data" / f"{role}.jsonl").read_text().splitlines()
                assert rows and all(json.loads(x)["messages"][0]["content"] for x in rows)
            examples = json.loads((folder / "examples.json").read_text())
            assert 0 < examples["executor"]["tokens_median"] < 800
            bundle = json.loads((folder / "adapters" / "bundle.json").read_text())
            assert bundle["prompt_version"] == "v2"
            data = folder / "synth" / "data"
            mined = data / "executor-dpo-policy.jsonl"
            assert mined.exists()  # the executor replayed on every success step, after its first stage
            for role in ("executor",):
                stages = [role] + [f"{role}-{kind}" for kind in ("dpo", "dpo-policy")
                                   if (data / f"{role}-{kind}.jsonl").exists()
                                   and (data / f"{role}-{kind}.jsonl").read_text().strip()]
                assert bundle["roles"][role] == stages[-1]  # the last stage that had data is the one used
                for before, stage in zip(stages, stages[1:]):  # each from the one before, its reference
                    assert (folder / "adapters" / stage / "adapter.gguf").exists()
                    rows = [json.loads(x) for x in (data / f"{stage}.jsonl").read_text().splitlines()]
                    assert {x["source"]["record_id"] for x in rows} <= {t.id for t in selected}
                    assert all(x["chosen"] != x["rejected"] for x in rows)
                    tuned = json.loads((folder / "adapters" / stage / "planact_train.json").read_text())
                    assert tuned["settings"]["objective"] == "dpo"
                    assert tuned["settings"]["init_adapter"].endswith(f"adapters/{before}")
        assert _lines(folder / "validation" / "planner" / "episodes.jsonl") == 2


def test_a_killed_training_resumed_from_its_checkpoint(loop):
    _, out, _ = loop
    resumed = [json.loads(p.read_text())["result"]["resumed_from"]
               for p in (out / "rounds").glob("*/adapters/*/planact_train.json")]
    assert any(r and r.endswith("checkpoint-1") for r in resumed)


def test_rounds_are_kept_only_when_validation_rose(loop):
    _, out, stdout = loop
    state = json.loads((out / "state.json").read_text())
    best = None
    for r in state["rounds"]:
        assert r["kept"] == (best is None or (r["validation"] > best and not r["note"]))
        if r["kept"]:
            best = r["validation"]
    assert state["best_score"] == best
    assert "rounds" in stdout and "by task" in stdout
    assert "<svg" in (out / "success.svg").read_text() and "Round 2 by task" in (out / "report.html").read_text()


def test_status_says_where_the_loop_stands(loop):
    work, _, _ = loop
    proc = subprocess.run([sys.executable, "-m", "planact.cli.main", "learn", "status", "--config", "learn.yaml"],
                          cwd=work, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "finished: all 2 rounds done" in proc.stdout


def test_the_shipped_bundle_runs_each_role_on_llamacpp_with_grammars():
    from planact.agent.grammars import action_grammar, plan_grammar
    from planact.agent.plan import parse_plan
    from planact.agent.prompts import load_prompt
    from planact.llm.base import ChatMessage, GenerationOptions
    from planact.llm.llamacpp_backend import LlamaCppBackend
    from planact.llm.registry import load_model, role_spec
    from planact.web.actions import parse_action

    page = '<div id="1">Click on the "Submit" button.</div>\n<button id="2">Submit</button>\n<input id="3" type="text">'
    for role in ("executor", "planner", "replanner"):
        llm = load_model(role_spec("local:planact-miniwob", role))
        assert isinstance(llm, LlamaCppBackend) and llm.prompt_version == "v2"
        prompt = load_prompt(role, llm.prompt_version)
        system, user = prompt.render(task='Click on the "Submit" button.', plan="", notes=[], history="nothing",
                                     feedback=None, url="file:///x.html", html=page, cot=False, has_plan=False)
        grammar = action_grammar([1, 2, 3]) if role == "executor" else plan_grammar()
        out = llm.generate([ChatMessage("system", system), ChatMessage("user", user)],
                           GenerationOptions(max_tokens=120, grammar=grammar))
        if role == "executor":
            assert parse_action(out.text).element in (1, 2, 3)
        else:
            assert parse_plan(out.text).steps
