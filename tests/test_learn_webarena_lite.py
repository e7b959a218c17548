"""The learning loop's WebArena-Lite config, offline: the same loop with a teacher endpoint's roles
played by scripted models (actor, LLM outcome judge, grounded-plan and replanning teacher) on
WebRL's training intents, whose sites are fixture pages served on loopback. Held-out intents are
never rolled out and decide, through the judge, whether a round is kept."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from planact.config import PlanActConfig
from planact.synth.records import RecordStore
from support.wa_site import FixtureSites

ROOT = Path(__file__).parent.parent
CONFIG = ROOT / "configs" / "learn" / "webarena-lite.yaml"
INTENTS = ROOT.parent / "shared" / "data" / "webarena_lite" / "WebArena-Lite_info.webrl.json"
pytestmark = pytest.mark.skipif(not INTENTS.exists(), reason="needs ../shared/data (WebArena-Lite intents)")
MODEL = "scripted:support.synth_responders:respond"


def test_the_config_describes_the_papers_setting():
    ls = PlanActConfig.load(CONFIG).learn
    assert ls.queries.endswith("WebArena-Lite_info.webrl.json") and ls.rollouts.orm == "llm"
    assert ls.teacher.startswith("openai-compatible:") and ls.actor["executor"].startswith("openai-compatible:")
    assert ls.validate_.holdout > 0 and ls.train.roles == ["executor", "planner", "replanner"]


def test_the_loop_runs_unchanged_with_scripted_teacher_models(tmp_path):
    intents = [x for x in json.loads(INTENTS.read_text()) if x["sites"] in (["shopping"], ["gitlab"], ["reddit"])][:6]
    (tmp_path / "intents.json").write_text(json.dumps(intents))
    data = yaml.safe_load(CONFIG.read_text())
    ls = data["learn"]
    ls.update({"out": "out", "queries": "intents.json", "base": "local:smollm2-135m", "teacher": MODEL,
               "actor": {"executor": MODEL, "planner": MODEL}, "rounds": 1})
    ls["rollouts"].update({"judge": MODEL, "workers": 1, "max_steps": 3})
    ls["train"]["roles"] = []  # training itself is covered by the MiniWoB loop test; here: the data side
    ls["validate"].update({"holdout": 0.34, "workers": 1, "max_steps": 3})
    data["agent"]["max_steps"] = 3
    (tmp_path / "learn.yaml").write_text(yaml.safe_dump(data))
    with FixtureSites() as sites:
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("WA_")}, **sites.env,
               "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])}
        proc = subprocess.run([sys.executable, "-m", "planact.cli.main", "learn", "run", "--config", "learn.yaml"],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    out = tmp_path / "out"
    state = json.loads((out / "state.json").read_text())
    assert [r["round"] for r in state["rounds"]] == [0, 1]
    rollouts = RecordStore(out / "rounds" / "1" / "rollouts.jsonl").read()
    validation = RecordStore(out / "rounds" / "0" / "validation" / "planner" / "validation.jsonl").read()
    rolled = {r.data["task_key"] for r in rollouts}
    held = {r.data["task_key"] for r in validation}
    assert rolled and held and not rolled & held and len(rolled | held) == 6
    assert all(r.data["orm"]["kind"] == "llm" and r.data["orm"]["judge"] == MODEL for r in rollouts + validation)
    assert all(r.data["start_url"].startswith(sites.base) or "127.0.0.1" in r.data["start_url"] for r in rollouts)
    plans = RecordStore(out / "rounds" / "1" / "synth" / "plans.jsonl").read(kept_only=True)
    assert plans and all(p.provenance.model == MODEL for p in plans)
    exported = (out / "rounds" / "1" / "synth" / "export" / "chat" / "planner.jsonl").read_text().splitlines()
    assert len(exported) == len(plans)
    assert not (out / "rounds" / "1" / "synth" / "data" / "planner.jsonl").exists()  # no role is trained here ...
    assert json.loads((out / "rounds" / "1" / "adapters" / "bundle.json").read_text())["roles"]["executor"] \
        .startswith("scripted:")  # ... so the round's policy is the actor's
    assert set(state["rounds"][0]["validation_tasks"]) == held  # the actor validated on the held-out intents
    assert not state["rounds"][1]["kept"] and state["rounds"][1]["note"]  # nothing trained: nothing new to keep
