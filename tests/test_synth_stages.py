"""Each pipeline stage with scripted models: what it keeps, what it drops and why, what it records."""

from __future__ import annotations

import json

import pytest
from synth_helpers import make_ctx, write_plans

from planact.agent.plan import Plan, PlanStep, parse_plan
from planact.llm.scripted import ScriptedLLM
from planact.synth import augment, cot, expand, export, queries
from planact.synth.dedupe import Deduper, normalize, rouge_l
from planact.synth.engine import ModelCache, Unit
from planact.synth.plans import GroundWorker, validate_grounding
from planact.synth.records import Provenance, RecordStore, load_records, new_record
from planact.synth.replan import answer_leak


def test_dedupe_normalizes_and_uses_rouge_l():
    assert normalize("  Find the PRICE, of 'kettle'! ") == "find the price of kettle"
    assert rouge_l("find the price of the red kettle", "find the price of the red kettle") == 1.0
    assert rouge_l("show my orders", "list all reviews of the lamp") < 0.3
    d = Deduper(0.7)
    assert d.check_and_add("Find the price of the red kettle", "a") is None
    assert d.check_and_add("find the price of the red kettle!", "b") == ("a", 1.0)  # same once normalized
    dup = d.check_and_add("Find the price of the red kettle today", "c")  # near duplicate
    assert dup is not None and dup[0] == "a" and dup[1] >= 0.7
    assert d.check_and_add("Cancel my last order from March", "d") is None


def test_queries_drop_duplicates_and_record_filter_reasons(tmp_path):
    seeds = [{"intent": f"Find the price of the {x} in the store", "sites": ["shopping"], "start_url": "__SHOPPING__"}
             for x in ("oak chair", "tin can", "gold ring")]
    (tmp_path / "seeds.json").write_text(json.dumps(seeds))
    ctx = make_ctx(tmp_path / "out", queries={"seeds": str(tmp_path / "seeds.json"), "calls": 3, "new_per_call": 5,
                                              "seeds_per_call": 3})
    stats = queries.run(ctx)
    gen = RecordStore(tmp_path / "out" / "queries.generated.jsonl").read()
    assert len(gen) == 15
    dups = [r for r in gen if r.reason and r.reason.startswith("duplicate")]
    # each call repeats one seed verbatim: it must be dropped, naming the seed it copies
    seed_dups = [r for r in dups if r.data["intent"] in {s["intent"] for s in seeds}]
    assert len(seed_dups) == 3
    assert all("of " in r.reason and "ROUGE-L" in r.reason for r in dups)
    final = RecordStore(tmp_path / "out" / "queries.jsonl").read()
    infeasible = [r for r in final if not r.kept]
    assert infeasible and all(r.reason.startswith("infeasible: sending email") for r in infeasible)
    assert all("email" in r.data["intent"] for r in infeasible)
    assert all("email" not in r.data["intent"] for r in final if r.kept)
    # provenance, ids, parents
    for r in final:
        assert r.provenance.stage == "queries" and r.provenance.model.startswith("scripted:")
        assert r.provenance.prompt == "synth.query_filter.v1"
        assert r.parent_ids and r.data["filter"]["reason"]
    assert len({r.id for r in gen + final}) == len(gen) + len(final)
    assert stats[0].dropped["duplicate"] == len(dups) and stats[1].dropped["infeasible"] == len(infeasible)
    # the new queries keep the seeds' site and start page
    assert all(r.data["site"] == "shopping" and r.data["start_url"] == "__SHOPPING__" for r in final)


def test_grounding_validation():
    def plan(*groups):
        return Plan([PlanStep(step=f"s{i}", actions=list(g) if g is not None else None) for i, g in enumerate(groups)])

    assert validate_grounding(plan([1, 2], [3]), 3) is None
    assert "not covered" in validate_grounding(plan([1], [3]), 3)
    assert "twice or out of order" in validate_grounding(plan([1, 2], [2, 3]), 3)
    assert "not covered by any step" in validate_grounding(plan([1]), 3)
    assert "numbered 1 to 2" in validate_grounding(plan([1, 2, 3]), 2)
    assert "no 'Actions:' line" in validate_grounding(plan([1], None), 2)
    assert "not covered" in validate_grounding(plan([2, 1]), 2)  # out of order: 1 comes too late


def _traj_record():
    steps = [{"index": i + 1, "url": "http://x.test/", "observation": f'<button id="{i + 1}">B{i}</button>',
              "observation_tokens": 5, "raw_html_chars": 50, "raw_output": f'do(action="Click", element="{i + 1}")',
              "action": f'do(action="Click", element="{i + 1}")', "element": i + 1, "snippet": f"<button>B{i}</button>"}
             for i in range(3)]
    return {"id": "trajA", "data": {"site": "x", "trajectory": {"task": "Press the three buttons", "steps": steps,
                                                                  "answer": None}}}


def test_grounded_plans_are_retried_with_feedback_then_dropped():
    bad = "## Step 1\nReasoning: r\nStep: press\nActions: 1, 3\n"
    good = "## Step 1\nReasoning: r\nStep: press two\nActions: 1, 2\n## Step 2\nReasoning: r\nStep: last\nActions: 3\n"
    models = ModelCache()
    models.put("teacher", ScriptedLLM([bad, good]))
    w = GroundWorker("teacher", 3, 256, None)(models)
    [rec] = w.process(Unit("trajA", {"trajectory": _traj_record()}))
    assert rec.kept and rec.data["attempts"] == 2
    assert [s["actions"] for s in rec.data["plan"]] == [[1, 2], [3]]
    assert "Actions:" not in rec.data["plan_text"]  # the planner's target has no grounding lines
    second_prompt = models.get("teacher").calls[1][0][-1].content
    assert "action 2 is not covered" in second_prompt  # the error went back to the model

    models.put("bad", ScriptedLLM([bad]))
    [rec] = GroundWorker("bad", 3, 256, None)(models).process(Unit("trajA", {"trajectory": _traj_record()}))
    assert not rec.kept and rec.reason.startswith("invalid_grounding: action 2 is not covered")
    assert len(models.get("bad").calls) == 3


def test_expand_stops_exactly_at_target_and_points_to_a_seed(tmp_path):
    out = tmp_path / "out"
    seed_ids = write_plans(out, 4)
    ctx = make_ctx(out, expand={"target": 7, "new_per_call": 3, "seeds_per_call": 2})
    expand.run(ctx)
    recs = load_records(out / "expand.jsonl", kept_only=False)
    kept = [r for r in recs if r.kept]
    assert len(kept) == 7
    assert all(r.data["seed_id"] in seed_ids and r.data["seed_id"] in r.parent_ids for r in kept)
    assert all(r.data["initial_observation"] and parse_plan(r.data["plan_text"]).steps for r in kept)
    # a second run finds the target reached and does nothing
    expand.run(ctx)
    assert len(load_records(out / "expand.jsonl")) == 7


def test_augment_finds_failures_names_classes_and_writes_targeted_plans(tmp_path):
    out = tmp_path / "out"
    write_plans(out, 12)
    ctx = make_ctx(out, augment={"val_fraction": 0.5, "target": 4})
    ctx.config.models.planner = "scripted:support.synth_responders:respond"
    augment.run(ctx)
    evals = load_records(out / "augment.eval.jsonl")
    assert evals and all(r.data["reason"] for r in evals)
    assert any(not r.data["correct"] for r in evals)
    classes = load_records(out / "augment.classes.jsonl")
    assert {c.data["name"] for c in classes} == {"Search Query Optimization", "Result Navigation"}
    assigned = load_records(out / "augment.assign.jsonl")
    val_ids = {r.data["point_id"] for r in evals}
    assert assigned and not ({a.data["point_id"] for a in assigned} & val_ids)  # validation points stay out
    new = load_records(out / "augment.jsonl")
    assert 1 <= len(new) <= 4
    assert all(r.data["failure_class"] == "Search Query Optimization" for r in new)
    assert all(r.data["seed_id"] not in val_ids for r in new)


def test_cot_leak_check():
    answer = 'do(action="Click", element="12")'
    assert cot.leak("I look at the page and the Submit button is what the task wants.", answer) is None
    assert "refers to the answer" in cot.leak("The given plan says to search first, so I search.", "x")
    assert "action call" in cot.leak('So I will do(action="Click", element="12").', answer)
    plan = "Search for the blue kettle in the search box then open the first result and read its price"
    assert "word for word" in cot.leak("My idea: " + plan + ".", plan)


def test_replan_answer_leak():
    assert answer_leak("Step: Answer that the price is $12.99", "$12.99", "<div>Search results</div>")
    assert not answer_leak("Step: Answer that the price is $12.99", "$12.99", "<span>$12.99</span>")
    assert not answer_leak("Step: Find the price", "$12.99", "<div>nothing</div>")
    assert not answer_leak("Step: Report done", "done", "")


def test_export_formats_load_in_datasets(tmp_path):
    datasets = pytest.importorskip("datasets")
    out = tmp_path / "out"
    write_plans(out, 3)
    ctx = make_ctx(out)
    export.run(ctx)
    chat = out / "export" / "chat" / "planner.jsonl"
    ds = datasets.load_dataset("json", data_files=str(chat), split="train")
    assert len(ds) == 3
    msgs = ds[0]["messages"]
    assert [m["role"] for m in msgs] == ["system", "user", "assistant"]
    assert "You are the Planner" in msgs[0]["content"] and "## Initial page" in msgs[1]["content"]
    assert msgs[2]["content"].startswith("## Step 1") and "Actions:" not in msgs[2]["content"]
    share = datasets.load_dataset("json", data_files=str(out / "export" / "sharegpt" / "planner.json"), split="train")
    assert share[0]["conversations"][1]["from"] == "gpt" and share[0]["system"] == msgs[0]["content"]
    info = json.loads((out / "export" / "sharegpt" / "dataset_info.json").read_text())
    assert info["planact_planner"]["formatting"] == "sharegpt"
    tune = datasets.load_dataset("json", data_files=str(out / "export" / "torchtune" / "planner.jsonl"), split="train")
    assert tune[0]["messages"] == msgs  # the system prompt stays the system message the agent sends
    card = (out / "export" / "README.md").read_text()
    assert "| planner | 3 | plans 3 | shopping 3 | teacher 3 |" in card


def test_cot_stage_annotates_plans_offline(tmp_path):
    out = tmp_path / "out"
    ids = write_plans(out, 3)
    ctx = make_ctx(out, cot={"roles": ["planner"]})
    cot.run(ctx)
    recs = load_records(out / "cot.jsonl")
    assert sorted(r.data["source_id"] for r in recs) == sorted(ids)
    assert all(r.data["role"] == "planner" and len(r.data["reasoning"].split()) >= 5 for r in recs)
    assert all(r.provenance.prompt == "synth.cot_planner.v1" for r in recs)
    # exported with --cot, the answer starts with the reasoning in <think> tags
    ctx.config.synth.export.cot = True
    export.run(ctx)
    row = json.loads((out / "export" / "chat" / "planner.jsonl").read_text().splitlines()[0])
    assert row["messages"][2]["content"].startswith("<think>\nI read the task")
    assert "</think>\n## Step 1" in row["messages"][2]["content"]


def test_role_files_load_together(tmp_path):
    """Planner and executor examples carry the same source fields, so one load_dataset call takes both."""
    datasets = pytest.importorskip("datasets")
    out = tmp_path / "out"
    write_plans(out, 2)
    page = '<input id="1" placeholder="Search"><button id="2">Go</button>'
    steps = [{"index": i + 1, "url": "http://shop.test/", "observation": page, "observation_tokens": 9,
              "raw_html_chars": 60, "raw_output": a, "action": a}
             for i, a in enumerate(['do(action="Type", argument="kettle", element="1")', 'do(action="Click", element="2")'])]
    RecordStore(out / "trajectories.jsonl").append_batch([new_record(
        "trajectories", "q1", 0, Provenance(stage="trajectories", model="actor"),
        {"query": "q", "site": "shopping", "trajectory": {"task": "Find the kettle", "steps": steps}}, [], "kept")], "q1")
    export.run(make_ctx(out))
    chat = out / "export" / "chat"
    ds = datasets.load_dataset("json", data_files=[str(chat / "planner.jsonl"), str(chat / "executor.jsonl")],
                               split="train")
    assert len(ds) == 4 and {r["source"]["stage"] for r in ds} == {"plans", "trajectories"}
