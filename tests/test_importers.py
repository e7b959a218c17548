"""Other projects' training files into planact's pipeline: WebArena-Lite / WebRL conversations and
Plan-and-Act's plan records become trajectories, then grounded plans, replanning data and the three
training sets, through `planact synth import` and the usual stages."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from synth_helpers import make_ctx

from planact.synth import export, plans, replan
from planact.synth.importers import ImportError_, import_file
from planact.synth.records import RecordStore, load_records

H = "<|eot_id|><|start_header_id|>user<|end_header_id|>\n"
A = "\n\n<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
TASK = "Find the issues assigned to Byte Blaze"
PAGES = ['<html>\n<a id="3">Projects</a>\n<a id="5">Issues</a>\n</html>',
         '<html>\n<input id="8" placeholder="Search issues">\n<button id="9">Search</button>\n</html>',
         '<html>\n<div id="12">3 issues assigned to Byte Blaze</div>\n</html>']
ACTS = ["# Element: the 'Issues' link\ndo(action=\"click\", element=\"5\")",  # WebRL's own lowercase spelling
        '# Element: the search box\ndo(action="Search", argument="assignee:byteblaze", element="8")',
        'exit(message="3")']


def webrl_item(n: int) -> dict:
    """Step n as WebRL's training files hold it: the history of rounds, then the page, in one human turn."""
    history = "".join(f"Round {i}\n\n{H}{PAGES[i]}{A}{ACTS[i]}\n\n" for i in range(n))
    human = f"Task Instruction: {TASK}\n\n{history}Round {n}\n\n{H}{PAGES[n]}{A}"
    return {"conversations": [{"from": "human", "value": human}, {"from": "gpt", "value": ACTS[n]}]}


def multi_turn_item() -> dict:
    """The same trajectory with one turn per round."""
    turns = []
    for i in range(3):
        head = f"Task Instruction: {TASK}\n\n" if i == 0 else ""
        turns += [{"from": "human", "value": f"{head}Round {i}\n\n{H}{PAGES[i]}{A}"}, {"from": "gpt", "value": ACTS[i]}]
    return {"conversations": turns}


def test_webrl_items_become_one_trajectory_each_and_train_all_three_roles(tmp_path):
    src = tmp_path / "webrl.json"
    src.write_text(json.dumps([webrl_item(0), webrl_item(1), webrl_item(2), {"conversations": [{"from": "human", "value": "hi"}]}]))
    out = tmp_path / "out"
    store = RecordStore(out / "trajectories.jsonl")
    counts = import_file(src, "webrl", store, site="gitlab")
    assert counts == {"items": 4, "not_in_format": 1, "steps_of_others": 2, "added": 1, "already": 0}
    assert import_file(src, "webrl", store)["added"] == 0  # again: nothing twice
    rec = load_records(out / "trajectories.jsonl")[0]
    steps = rec.data["trajectory"]["steps"]
    assert [s["action"] for s in steps] == ['do(action="Click", element="5")',
                                            'do(action="Search", argument="assignee:byteblaze", element="8")',
                                            'exit(message="3")']
    assert steps[1]["observation"] == PAGES[1] and steps[0]["snippet"] == '<a id="5">Issues</a>'
    assert rec.kept and rec.provenance.model == "imported:webrl" and rec.provenance.extra["item"] == 2
    ctx = make_ctx(out, plans={"teacher": "offline"}, replan={"teacher": "offline"})
    plans.run(ctx)
    replan.run(ctx)
    export.run(ctx)
    chat = out / "export" / "chat"
    planner = json.loads((chat / "planner.jsonl").read_text().splitlines()[0])["messages"]
    assert TASK in planner[1]["content"] and PAGES[0] in planner[1]["content"]
    assert 'Click the "Issues" link' in planner[2]["content"] and 'Answer "3"' in planner[2]["content"]
    executor = [json.loads(line)["messages"][-1]["content"] for line in (chat / "executor.jsonl").read_text().splitlines()]
    assert executor[0].startswith("# Element: the 'Issues' link") and 'exit(message="3")' in executor[-1]
    assert (chat / "replanner.jsonl").read_text().strip()


def test_one_turn_per_round_reads_the_same(tmp_path):
    src = tmp_path / "multi.jsonl"
    src.write_text(json.dumps(multi_turn_item()) + "\n")
    store = RecordStore(tmp_path / "trajectories.jsonl")
    assert import_file(src, "webrl", store)["added"] == 1
    steps = store.read()[0].data["trajectory"]["steps"]
    assert [s["observation"] for s in steps] == PAGES and steps[2]["action"] == 'exit(message="3")'


def test_a_grounded_plan_from_plan_and_act_records_is_used_as_the_teachers(tmp_path):
    plan = ('## Step 1\nReasoning: The issues are listed under Issues.\nStep: Open the issues.\nActions: 1\n'
            '## Step 2\nReasoning: Filter by the assignee.\nStep: Search for Byte Blaze\'s issues and answer.\nActions: 2, 3')
    item = {"intent": TASK, "initial_plan": plan, "plan_history": [plan], "replan_steps": [],
            "trajectory": [{"html": p, "action": a, "url": "http://gitlab.test/"} for p, a in zip(PAGES, ACTS)]}
    ungrounded = {**item, "intent": "Another task", "initial_plan": "## Step 1\nReasoning: r\nStep: Do it."}
    src = tmp_path / "pa.jsonl"
    src.write_text("\n".join(json.dumps(x) for x in (item, ungrounded)))
    out = tmp_path / "out"
    assert import_file(src, "plan-and-act", RecordStore(out / "trajectories.jsonl"))["added"] == 2
    plans.run(make_ctx(out, plans={"teacher": "offline"}))
    got = {r.data["task"]: r for r in load_records(out / "plans.jsonl")}
    assert got[TASK].provenance.prompt == "imported" and "Search for Byte Blaze's issues" in got[TASK].data["plan_text"]
    assert got["Another task"].provenance.prompt.startswith("synth.annotator")  # not grounded: the teacher's


def test_files_in_another_format_are_refused_in_one_line(tmp_path):
    src = tmp_path / "bad.json"
    src.write_text(json.dumps([{"messages": []}]))
    with pytest.raises(ImportError_, match="no item in the webrl format"):
        import_file(src, "webrl", RecordStore(tmp_path / "t.jsonl"))
    done = subprocess.run([sys.executable, "-m", "planact.cli.main", "synth", "import", str(src), "--out",
                           str(tmp_path / "o")], capture_output=True, text=True)
    assert done.returncode == 2 and "no item in the webrl format" in done.stdout


def test_plan_and_act_replans_become_replanning_examples(tmp_path):
    first = "## Step 1\nReasoning: Issues are under Issues.\nStep: Open the issues.\n## Step 2\nReasoning: r\nStep: Search."
    later = ("## Step 1\nReasoning: The issues page has a search box.\nStep: Search for assignee:byteblaze.\n"
             "## Step 2\nReasoning: The count answers the task.\nStep: Answer with the number of issues.")
    item = {"task": TASK, "initial_plan": first, "plan_history": [first, later], "replan_steps": [1],
            "steps": [{"observation": p, "response": a} for p, a in zip(PAGES, ACTS)]}
    src = tmp_path / "pa.json"
    src.write_text(json.dumps([item]))
    out = tmp_path / "out"
    import_file(src, "plan-and-act", RecordStore(out / "trajectories.jsonl"))
    ctx = make_ctx(out, plans={"teacher": "offline"}, replan={"teacher": "offline"})
    plans.run(ctx)
    replan.run(ctx)
    recs = load_records(out / "replan.jsonl")
    assert len(recs) == 1 and recs[0].provenance.prompt == "imported"  # the run's own replan, not the teacher's
    assert recs[0].data["after_action"] == 1 and recs[0].data["html"] == PAGES[1]
    assert "Search for assignee:byteblaze" in recs[0].data["target_text"] and "Open the issues" in recs[0].data["plan"]
    export.run(ctx)
    row = json.loads((out / "export" / "chat" / "replanner.jsonl").read_text().splitlines()[0])["messages"]
    assert "Answer with the number of issues" in row[-1]["content"] and PAGES[1] in row[1]["content"]
