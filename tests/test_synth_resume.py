"""A stage killed at any moment resumes without losing or duplicating a record."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from planact.synth.records import Provenance, RecordStore, new_record

TESTS = Path(__file__).parent


def _rec(unit: str, i: int):
    return new_record("s", unit, i, Provenance(stage="s"), {"i": i})


def test_torn_writes_are_ignored_and_redone(tmp_path):
    store = RecordStore(tmp_path / "s.jsonl")
    store.append_batch([_rec("u1", 0), _rec("u1", 1)], "u1")
    # a kill in the middle of the next batch: one whole line of three, then half a line
    lines = [_rec("u2", i) for i in range(3)]
    for r in lines:
        r.unit, r.batch, r.batch_size = "u2", "dead", 3
    with store.path.open("a") as f:
        f.write(lines[0].model_dump_json() + "\n" + lines[1].model_dump_json()[:40])
    assert store.done_units() == {"u1"}
    assert [r.data["i"] for r in store.read()] == [0, 1]
    store.append_batch([_rec("u2", i) for i in range(3)], "u2")  # the redo
    assert store.done_units() == {"u1", "u2"}
    recs = store.read()
    assert len(recs) == 5 and len({r.id for r in recs}) == 5
    # 2 + the dead batch's whole line + its half line, closed off rather than glued to the redo + 3
    assert store.path.read_text().count("\n") == 7
    store.append_batch([], "u3")  # a unit with no output is still done
    assert "u3" in store.done_units() and len(store.read()) == 5


def _cmd(out: Path, seeds: Path) -> list[str]:
    return [sys.executable, "-m", "planact.cli.main", "synth", "queries", "--out", str(out), "--seeds", str(seeds),
            "--model", "scripted:support.synth_responders:slow_respond", "--calls", "12", "--new-per-call", "4",
            "--seeds-per-call", "2", "--concurrency", "3"]


def test_queries_stage_killed_mid_run_resumes(tmp_path):
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text("".join(json.dumps({"intent": f"Open the page of order {n}", "sites": ["shopping_admin"]}) + "\n"
                             for n in (101, 202, 303)))
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen(_cmd(out, seeds), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    gen = out / "queries.generated.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline:
        if gen.exists() and gen.read_text().count("\n") >= 12:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    store = RecordStore(gen)
    done_at_kill = store.done_units()
    assert 0 < len(done_at_kill) < 12, "the kill should land in the middle of the generation step"
    ids_at_kill = {r.id for r in store.read()}

    done = subprocess.run(_cmd(out, seeds), env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    run_log = json.loads((out / "synth_runs.jsonl").read_text().splitlines()[-1])
    assert run_log["stages"][0]["skipped"] == len(done_at_kill)  # finished units were not redone
    recs = store.read()
    units = Counter(r.unit for r in recs)
    assert set(units) == {f"gen-0-{i}" for i in range(12)}  # nothing lost
    assert all(n == 4 for n in units.values())  # nothing written twice
    assert len({r.id for r in recs}) == len(recs) == 48
    assert ids_at_kill <= {r.id for r in recs}  # what was written before the kill is kept as it was
    final = RecordStore(out / "queries.jsonl").read()
    kept_gen = [r for r in recs if r.kept]
    assert Counter(r.unit for r in final) == Counter(r.id for r in kept_gen)  # each candidate filtered once


class _DeadAfter:
    """A worker whose infrastructure dies after `ok` units (a model server that went away)."""

    def __init__(self, ok: int) -> None:
        self.ok = ok

    def __call__(self, models):  # noqa: ANN001 - the factory protocol
        return self

    def process(self, unit):  # noqa: ANN001
        from planact.synth.engine import UnitFailed
        from planact.synth.records import Provenance, new_record

        if self.ok <= 0:
            raise UnitFailed(f"{unit.key}: connection refused")
        self.ok -= 1
        return [new_record("s", unit.key, 0, Provenance(stage="s"), {"n": unit.key})]

    def close(self) -> None:
        pass


def test_a_stage_stops_after_repeated_unit_failures_keeping_what_finished(tmp_path):
    from planact.errors import InfrastructureError
    from planact.synth.engine import Execution, Unit, run_stage
    from planact.synth.records import RecordStore

    store = RecordStore(tmp_path / "s.jsonl")
    units = [Unit(f"u{i}") for i in range(40)]
    with pytest.raises(InfrastructureError, match="stopped after 5 units in a row failed .*connection refused"):
        run_stage("s", store, units, _DeadAfter(3), Execution(workers=1), uses_browser=True)
    assert sorted(store.done_units()) == ["u0", "u1", "u2"]  # kept; the rest is redone next run
    stats = run_stage("s", store, units, _DeadAfter(99), Execution(workers=1), uses_browser=True)
    assert stats.skipped == 3 and stats.processed == 37
