"""The WebArena-Lite pipeline config, offline: stage 1 on the real 1,123 training intents with a
scripted model, and stage 2 refusing (not crashing) while the sites are not configured."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from planact.config import PlanActConfig
from planact.synth.records import RecordStore
from planact.synth.sources import UnresolvedSite, load_seeds, resolve_start_url

ROOT = Path(__file__).parent.parent
CONFIG = ROOT / "configs" / "synth" / "webarena-lite.yaml"
SEEDS = ROOT.parent / "shared" / "data" / "webarena_lite" / "WebArena-Lite_info.webrl.json"
pytestmark = pytest.mark.skipif(not SEEDS.exists(), reason="needs ../shared/data (WebArena-Lite intents)")


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WA_")}
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])
    return env


def test_seed_intents_load_with_their_sites():
    seeds = load_seeds(SEEDS)
    assert len(seeds) == 1123
    sites = {s["site"] for s in seeds}
    assert {"shopping", "shopping_admin", "gitlab", "reddit", "map"} <= sites
    assert all(s["start_url"].startswith("__") for s in seeds)
    assert resolve_start_url("__GITLAB__/a/b", {"WA_GITLAB": "http://gl.test:8023/"}) == "http://gl.test:8023/a/b"
    with pytest.raises(UnresolvedSite, match="set WA_REDDIT"):
        resolve_start_url("__REDDIT__/f/news", {})


def test_pipeline_config_runs_stage_one_offline_and_stage_two_reports_missing_sites(tmp_path):
    cfg = PlanActConfig.load(CONFIG)
    assert cfg.synth.queries.target == 10000 and cfg.synth.expand.target == 10000 and cfg.synth.augment.target == 5000
    out = tmp_path / "wal"
    model = "scripted:support.synth_responders:respond"
    common = ["--config", str(CONFIG), "--out", str(out), "--model", model, "--concurrency", "4"]
    proc = subprocess.run([sys.executable, "-m", "planact.cli.main", "synth", "queries", *common, "--seeds", str(SEEDS),
                           "--calls", "10"], env=_env(), capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    kept = RecordStore(out / "queries.jsonl").read(kept_only=True)
    assert kept and all(r.data["start_url"].startswith("__") for r in kept)
    proc = subprocess.run([sys.executable, "-m", "planact.cli.main", "synth", "trajectories", *common, "--limit", "3",
                           "--planner", model, "--executor", model], env=_env(), capture_output=True, text=True,
                          timeout=300, cwd=ROOT)
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "not configured" in proc.stdout and "set WA_" in proc.stdout
    assert not (out / "trajectories.jsonl").exists()  # nothing recorded: a run with the sites set does them all
