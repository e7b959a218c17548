"""The outcome filter teaches only what a success needed: partly rewarded answers are not learned, and a
chosen success replayed in its environment loses the actions its reward did not need (learn/prune.py)."""

from __future__ import annotations

import re

from planact.config import PlanActConfig
from planact.learn.prune import minimal, prune, prune_store
from planact.learn.select import select
from planact.synth.records import Provenance, RecordStore, new_record
from planact.web import BrowserEnv, BrowserOptions, BrowserSession
from planact.web.actions import parse_action


def _steps(actions: list[str]) -> list[dict]:
    return [{"index": i + 1, "action": a, "observation": f"<p>{i}</p>"} for i, a in enumerate(actions)]


def _toggles(steps: list[dict]) -> list[dict] | None:
    """A scripted environment: success needs "A" before "S", an even number of "T"s (a box ticked and
    unticked), and nothing after "S"."""
    names = [s["action"] for s in steps]
    ok = "A" in names and names[-1:] == ["S"] and names.index("A") < len(names) - 1 and names.count("T") % 2 == 0
    return [dict(s) for s in steps] if ok else None


def test_pruning_drops_detours_and_toggles_but_keeps_what_the_reward_needs():
    calls = []

    def replay(steps):
        calls.append([s["action"] for s in steps])
        return _toggles(steps)

    out = minimal(_steps(["X", "T", "A", "T", "Y", "S"]), replay)
    assert [s["action"] for s in out] == ["A", "S"]
    assert calls[0] == ["X", "T", "A", "T", "Y", "S"]  # first: does the success reproduce at all
    assert minimal(_steps(["A", "S"]), replay) is not None
    # a success that does not reproduce (a random page, a live site) is left as it was recorded
    assert minimal(_steps(["T", "A", "S"]), replay) is None


def _success(store: RecordStore, key: str, task: str, seed: int, actions: list[str], raw: float) -> None:
    page = '<div id="1">t</div><button id="2">Submit</button><input id="3" type="checkbox">'
    steps = [{"index": i + 1, "url": "file:///t.html", "observation": page + f"<p>{i}</p>", "action": a}
             for i, a in enumerate(actions)]
    data = {"query": "q", "site": f"miniwob/{task}", "suite": "miniwob", "task_id": task, "env_seed": seed,
            "orm": {"kind": "env", "success": True, "reward": raw * 0.99, "raw_reward": raw},
            "trajectory": {"task": f"task {seed}", "steps": steps}}
    store.append_batch([new_record("trajectories", key, 0, Provenance(stage="trajectories"), data, [], "kept")], key)


def test_a_partly_rewarded_success_is_not_learned_when_the_full_reward_is_asked(tmp_path):
    store = RecordStore(tmp_path / "rounds" / "1" / "rollouts.jsonl")
    submit, box = 'do(action="Click", element="2")', 'do(action="Click", element="3")'
    _success(store, "partial", "boxes", 10000, [submit], 0.2)  # MiniWoB's raw > 0 counts it a success
    _success(store, "full", "boxes", 10001, [box, submit], 1.0)
    loose = PlanActConfig.model_validate({"learn": {"out": str(tmp_path)}})
    strict = PlanActConfig.model_validate({"learn": {"out": str(tmp_path), "select": {"min_raw_reward": 1.0}}})
    assert select(loose, tmp_path, 1)[1] == {"boxes": 2}
    chosen, counts = select(strict, tmp_path, 1)
    assert counts == {"boxes": 1} and chosen[0].data["env_seed"] == 10001


def _ids(html: str) -> dict[str, int]:
    """The ids of click-option's radio labels and its button, by their text."""
    return {m.group(2): int(m.group(1)) for m in re.finditer(r'<(?:label|button) id="(\d+)">(?:\s*<input[^>]*>)?([^<]+)<',
                                                              html)}


def test_a_real_success_replayed_in_miniwob_loses_its_detours_and_is_replayed_once(tmp_path, miniwob):
    """click-option, seed 10001: a success that clicked two wrong options before the right one is taught as
    the right option and Submit, on the pages the shorter episode showed; a second pass replays nothing."""
    seed = 10001
    with BrowserSession(miniwob.browser_options(BrowserOptions())) as session:  # closed before prune opens its own
        inst = miniwob.reset(session, "click-option", seed)
        ids = _ids(BrowserEnv(session, screenshots=False).observe().html)
    target = inst.goal.split("Select ", 1)[1].split(" and click", 1)[0]
    wrong = [i for name, i in ids.items() if name not in (target, "Submit")][:2]
    click = 'do(action="Click", element="{}")'.format
    actions = [click(wrong[0]), click(wrong[1]), click(ids[target]), click(ids["Submit"])]
    store = RecordStore(tmp_path / "rounds" / "1" / "rollouts.jsonl")
    _success(store, "r", "click-option", seed, actions, 1.0)
    cfg = PlanActConfig.model_validate({"learn": {"out": str(tmp_path), "select": {"min_raw_reward": 1.0,
                                                                                    "replay": True}}})
    chosen, _ = select(cfg, tmp_path, 1)
    pruned, stats = prune(cfg, tmp_path, chosen)
    steps = pruned[0].data["trajectory"]["steps"]
    assert [s["action"] for s in steps] == [click(ids[target]), click(ids["Submit"])]
    assert stats == {"replayed": 1, "shortened": 1, "actions_removed": 2, "not_reproducible": 0}
    assert f">{target}</label>" in steps[0]["observation"] and steps[0]["index"] == 1
    assert steps[0]["raw_output"].startswith("# Element: ") and target in steps[0]["raw_output"]
    assert parse_action(steps[1]["action"]).element == ids["Submit"] and " checked" in steps[1]["observation"]
    assert pruned[0].data["pruned_by_replay"] == 2
    # resumable and done once: the result is on disk, a second pass (a resumed phase) replays nothing
    rows = prune_store(tmp_path).read()
    assert len(rows) == 1 and rows[0].provenance.stage == "learn-prune"
    again, stats2 = prune(cfg, tmp_path, chosen)
    assert [s["action"] for s in again[0].data["trajectory"]["steps"]] == [s["action"] for s in steps]
    assert len(prune_store(tmp_path).read()) == 1 and stats2["shortened"] == 1
