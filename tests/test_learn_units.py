"""The learning loop's parts without a model: the offline annotator, the curriculum, the outcome
filter, the seed rules, the keep-or-discard decision, model bundles and prompt versions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import planact
from planact.agent.prompts import concrete_version, load_prompt
from planact.config import LearnCurriculum, LearnRollouts, PlanActConfig
from planact.learn.curriculum import TaskRecord, allocate, why
from planact.learn.loop import LearnError, Learner, check_seeds
from planact.learn.select import select
from planact.learn.state import LearnState
from planact.llm.base import LLMError
from planact.llm.registry import load_model, role_spec
from planact.synth.annotator import annotate, describe_action, element_line, remaining_plan, task_span
from planact.synth.plans import validate_grounding
from planact.synth.records import Provenance, RecordStore, new_record

LOGIN = """<div id="1">Enter the username "ann" and the password "x1" into the text fields and press login.</div>
<p id="4">
<label id="5">Username</label>
<input id="6" type="text"></p>
<p id="7">
<label id="8">Password</label>
<input id="9" type="password"></p>
<button id="10">Login</button>"""
BOXES = """<div id="1">Select tB, Cun and click Submit.</div>
<label id="2">
<input id="3" type="checkbox">tB</label>
<label id="4">
<input id="5" type="checkbox">Cun</label>
<button id="6">Submit</button>
<span id="7" class="retweet"></span>"""
LOGIN_TASK = 'Enter the username "ann" and the password "x1" into the text fields and press login.'


def _acts(page: str, calls: list[str]):
    return [describe_action(c, page, i + 1) for i, c in enumerate(calls)]


def test_annotator_writes_grounded_steps_from_elements():
    acts = _acts(LOGIN, ['do(action="Type", argument="ann", element="6")',
                         'do(action="Type", argument="x1", element="9")', 'do(action="Click", element="10")'])
    plan = annotate(LOGIN_TASK, acts)
    assert [s.step for s in plan.steps] == ['Type "ann" into the "Username" field.',
                                            'Type "x1" into the "Password" field.', 'Click the "Login" button.']
    assert [s.actions for s in plan.steps] == [[1], [2], [3]]
    assert validate_grounding(plan, 3) is None
    # each value's reasoning quotes the task's own words for it, so a planner copies the span that names it
    assert [s.reasoning for s in plan.steps[:2]] == ['The task says: the username "ann".',
                                                      'The task says: the password "x1".']
    assert task_span("Book the flight from: SHV to: Myrtle Beach, SC.", "SHV") == "flight from: SHV"
    assert task_span('Enter "Kasie" into the text field', "kasie") == 'Enter "Kasie"'
    rest = remaining_plan(LOGIN_TASK, acts, 2)
    assert [(s.step, s.actions) for s in rest.steps] == [('Click the "Login" button.', [1])]


def test_annotator_names_checkboxes_icons_and_element_lines():
    acts = _acts(BOXES, ['do(action="Click", element="3")', 'do(action="Click", element="5")',
                         'do(action="Click", element="6")', 'do(action="Click", element="7")'])
    plan = annotate("Select tB, Cun and click Submit.", acts)
    assert [s.step for s in plan.steps] == ['Click the "tB" and "Cun" checkboxes.', 'Click the "Submit" button.',
                                            "Click the retweet icon."]
    assert element_line('do(action="Click", element="6")', BOXES) == '# Element: the "Submit" button'
    assert element_line('do(action="Scroll Down")', BOXES) == ""
    # an element without text of its own is named by the first text inside it (quoted: it grounds the id)
    assert element_line('do(action="Click", element="2")', BOXES) == '# Element: "tB"'
    tree = '<ul id="1">\n<li id="2">\n<span id="3">Marcella</span>\n<ul id="4">\n<li id="5">Annis</li></ul></li></ul>'
    assert element_line('do(action="Click", element="2")', tree) == '# Element: "Marcella"'
    assert element_line('do(action="Click", element="4")', tree) == '# Element: "Annis"'


def test_curriculum_allocates_by_the_policys_record():
    cur, ro = LearnCurriculum(), LearnRollouts(per_task=8, per_seed=2)
    records = {"new": None, "learning": TaskRecord(8, 2, 8, 2), "mastered": TaskRecord(16, 15, 8, 8),
               "exploring": TaskRecord(16, 0, 8, 0), "capped": TaskRecord(48, 0, 8, 0),
               "almost": TaskRecord(45, 0, 8, 0)}
    alloc = allocate({k: v for k, v in records.items() if v}, list(records), cur, ro)
    assert alloc == {"new": 8, "learning": 16, "mastered": 4, "exploring": 8, "capped": 2, "almost": 4}
    assert all(n % 2 == 0 for n in alloc.values())
    assert [why(records[k], cur) for k in ("new", "learning", "mastered", "exploring", "capped")] == \
        ["new", "learning", "mastered", "exploring", "capped"]


def _rollout(store: RecordStore, key: str, task: str, seed: int, actions: list[str], success: bool,
             noop: int | None = None) -> None:
    """Each action changes the page, except action `noop` (its next page is the same)."""
    pages, page = [], BOXES
    for i in range(len(actions)):
        pages.append(page)
        if i != noop:
            page = page + f"\n<p id=\"{90 + i}\">changed</p>"
    steps = [{"index": i + 1, "url": "file:///t.html", "observation": pages[i], "observation_tokens": 10,
              "raw_html_chars": 10, "raw_output": "noise " + a, "action": a, "note": "junk"}
             for i, a in enumerate(actions)]
    data = {"query": "q", "site": f"miniwob/{task}", "suite": "miniwob", "task_id": task, "env_seed": seed,
            "trajectory": {"task": f"task {task} {seed}", "steps": steps}}
    store.append_batch([new_record("trajectories", key, 0, Provenance(stage="trajectories"), data, [],
                                   "kept" if success else "dropped", None if success else "orm_failure: 0")], key)


def test_outcome_filter_keeps_the_shortest_success_per_instance_and_balances(tmp_path):
    cfg = PlanActConfig.model_validate({"learn": {"out": str(tmp_path), "select": {"per_task_cap": 2}}})
    store = RecordStore(tmp_path / "rounds" / "1" / "rollouts.jsonl")
    c3, c5, c6 = ('do(action="Click", element="%s")' % i for i in (3, 5, 6))
    _rollout(store, "a", "easy", 10000, [c3, c5, c6], True)
    _rollout(store, "b", "easy", 10000, [c5, c6], True)  # shorter: wins for this instance
    _rollout(store, "c", "easy", 10000, [c5, c6], True)  # duplicate
    _rollout(store, "d", "easy", 10000, [c6], False)  # failure
    for s in range(10001, 10006):
        _rollout(store, f"e{s}", "easy", s, [c6], True)
    _rollout(store, "f", "hard", 10000, [c3, c6], True)
    _rollout(store, "g", "noop", 10000, ['do(action="Click", element="1")', c3, c6], True, noop=0)
    chosen, counts = select(cfg, tmp_path, 1)
    assert counts == {"easy": 2, "hard": 1, "noop": 1}
    inst = {(r.data["task_id"], r.data["env_seed"]): r for r in chosen}
    if ("easy", 10000) in inst:
        assert [s["action"] for s in inst[("easy", 10000)].data["trajectory"]["steps"]] == [c5, c6]
    step = inst[("hard", 10000)].data["trajectory"]["steps"][0]
    assert step["raw_output"] == '# Element: the "tB" checkbox\n' + c3 and step["note"] is None
    # the click on the instruction text changed nothing: it is not taught
    pruned = inst[("noop", 10000)]
    assert [s["action"] for s in pruned.data["trajectory"]["steps"]] == [c3, c6] and pruned.data["pruned_steps"] == 1
    assert [s["index"] for s in pruned.data["trajectory"]["steps"]] == [1, 2]


def test_outcome_filter_drops_overwritten_values_but_not_invisible_ones(tmp_path):
    """A value typed again into the same field is taught once; a password typed into a field whose value
    the page text did not show (observations before masked values) is still taught."""
    cfg = PlanActConfig.model_validate({"learn": {"out": str(tmp_path)}})
    store = RecordStore(tmp_path / "rounds" / "1" / "rollouts.jsonl")
    user, pw, login = ('do(action="Type", argument="ann", element="6")', 'do(action="Type", argument="x1", element="9")',
                       'do(action="Click", element="10")')
    wrong = 'do(action="Type", argument="x", element="6")'
    pages = [LOGIN, LOGIN] + [LOGIN.replace('type="text"', f'type="text" value="{v}"') for v in ("x", "ann", "ann")]
    steps = [{"index": i + 1, "url": "file:///login.html", "action": a, "raw_output": a, "observation": pages[i]}
             for i, a in enumerate([pw, wrong, user, pw, login])]
    data = {"query": "q", "site": "miniwob/login-user", "suite": "miniwob", "task_id": "login-user", "env_seed": 10000,
            "trajectory": {"task": LOGIN_TASK, "steps": steps}}
    store.append_batch([new_record("trajectories", "a", 0, Provenance(stage="trajectories"), data, [], "kept")], "a")
    (chosen,), _ = select(cfg, tmp_path, 1)
    assert [s["action"] for s in chosen.data["trajectory"]["steps"]] == [user, pw, login]


def test_outcome_filter_drops_a_click_that_only_drew_the_same_content_again(tmp_path):
    """A second click on Search draws the same results with new element ids: the page's content did
    not change, so the click is not taught (the trained executor clicked Search to the step limit)."""
    from planact.web.observation import page_content

    cfg = PlanActConfig.model_validate({"learn": {"out": str(tmp_path)}})
    store = RecordStore(tmp_path / "rounds" / "1" / "rollouts.jsonl")
    form = '<input id="4" type="text" value="Tula">\n<button id="5">Search</button>'
    results = lambda first: "\n".join(f'<a id="{first + i}">{name}</a>' for i, name in enumerate(("Ann", "Bo")))  # noqa: E731
    pages = ['<input id="4" type="text">\n<button id="5">Search</button>', form, form + "\n" + results(6),
             form + "\n" + results(8)]
    assert page_content(pages[2]) == page_content(pages[3]) and page_content(pages[1]) != page_content(pages[2])
    assert page_content('<span dom-id="7" id="9">') == '<span dom-id="7" id="1">'
    acts = ['do(action="Type", argument="Tula", element="4")', 'do(action="Click", element="5")',
            'do(action="Click", element="5")', 'do(action="Click", element="9")']
    steps = [{"index": i + 1, "url": "file:///s.html", "action": a, "raw_output": a, "observation": pages[i]}
             for i, a in enumerate(acts)]
    data = {"query": "q", "site": "miniwob/search-engine", "suite": "miniwob", "task_id": "search-engine",
            "env_seed": 10000, "trajectory": {"task": 'Enter "Tula", press Search, click the 2nd result.', "steps": steps}}
    store.append_batch([new_record("trajectories", "a", 0, Provenance(stage="trajectories"), data, [], "kept")], "a")
    (chosen,), _ = select(cfg, tmp_path, 1)
    assert [s["action"] for s in chosen.data["trajectory"]["steps"]] == [acts[0], acts[1], acts[3]]


def test_seeds_below_10000_and_overlaps_are_refused():
    with pytest.raises(LearnError, match="reserved"):
        check_seeds(PlanActConfig.model_validate({"learn": {"seed_start": 0}}))
    with pytest.raises(LearnError, match="reserved"):
        check_seeds(PlanActConfig.model_validate({"learn": {"validate": {"seeds": "5-7"}}}))
    with pytest.raises(LearnError, match="overlap"):
        check_seeds(PlanActConfig.model_validate({"learn": {"validate": {"seeds": "10003"}}}))
    check_seeds(PlanActConfig())


def _validation(folder: Path, successes: list[bool]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "episodes.jsonl").open("w") as f:
        for i, ok in enumerate(successes):
            f.write(json.dumps({"suite": "miniwob", "task_id": "t", "seed": 90000 + i, "success": ok, "reward": None,
                                "raw_reward": None, "steps": 1, "status": "env_done", "llm_calls": 1,
                                "prompt_tokens": 1, "completion_tokens": 1, "wall_s": 1.0}) + "\n")


def test_a_round_is_kept_only_when_validation_rises_and_a_plateau_stops(tmp_path):
    cfg = PlanActConfig.model_validate({"learn": {"out": str(tmp_path), "plateau": 2, "rounds": 9}})
    learner = Learner(cfg)
    for r, oks in enumerate([[True, False, False, False], [True, True, False, False], [True, True, False, False],
                             [True, False, False, False]]):
        learner.state.round = r
        _validation(learner.folder(r) / "validation" / "planner", oks)
        learner.bundle(r).mkdir(parents=True)
        (learner.bundle(r) / "bundle.json").write_text(json.dumps({"roles": {}, "trained": ["executor"]}))
        learner._decide()
    st = LearnState.load(tmp_path)
    assert [(x.round, x.kept) for x in st.rounds] == [(0, True), (1, True), (2, False), (3, False)]
    assert st.best_round == 1 and st.best_score == 0.5
    assert learner._stop_reason().startswith("plateau")
    assert learner.policy()["executor"] == f"local:{learner.bundle(1).resolve()}"
    assert (tmp_path / "report.html").exists() and "<svg" in (tmp_path / "success.svg").read_text()
    learner.state.round, learner.state.not_kept_in_a_row = 4, 0  # a round with no training data at all
    learner._decide()
    last = LearnState.load(tmp_path).rounds[-1]
    assert (last.round, last.kept, last.note) == (4, False, "no training data yet: nothing to validate")


def test_the_best_validated_configuration_decides_and_is_recorded(tmp_path):
    """With the executor alone validated beside planner + executor, a round is kept when its best
    configuration beats the best score so far, whichever configuration that is."""
    agents = {"planner": {"no_planner": False, "replan": "never"}, "alone": {"no_planner": True}}
    cfg = PlanActConfig.model_validate({"learn": {"out": str(tmp_path), "validate": {"agents": agents}}})
    learner = Learner(cfg)
    for r, (plan, alone) in enumerate([([True, False], [False, False]), ([True, False], [True, True]),
                                       ([True, True], [True, False])]):
        learner.state.round = r
        _validation(learner.folder(r) / "validation" / "planner", plan)
        _validation(learner.folder(r) / "validation" / "alone", alone)
        learner.bundle(r).mkdir(parents=True)
        (learner.bundle(r) / "bundle.json").write_text(json.dumps({"roles": {}, "trained": ["executor"]}))
        learner._decide()
    st = LearnState.load(tmp_path)
    assert [(x.round, x.kept, x.agent, x.validation) for x in st.rounds] == \
        [(0, True, "planner", 0.5), (1, True, "alone", 1.0), (2, False, "planner", 1.0)]
    assert st.rounds[1].validation_agents == {"planner": 0.5, "alone": 1.0}
    assert (st.best_round, st.best_agent) == (1, "alone")
    assert "alone 100.0%" in (tmp_path / "report.html").read_text()
    # a loop from before named configurations reads `agent:` as the one named "planner"
    old = PlanActConfig.model_validate({"learn": {"validate": {"agent": {"no_planner": True}}}})
    assert old.learn.validate_.agents == {"planner": {"no_planner": True}}
    with pytest.raises(ValueError, match="folder names"):
        PlanActConfig.model_validate({"learn": {"validate": {"agents": {"a/b": {}}}}})


def _decided(learner: Learner, outcomes: list[list[bool]]) -> None:
    """Rounds 0.. validated with these episode outcomes, each with a trained bundle, and decided."""
    for r, oks in enumerate(outcomes):
        learner.state.round = r
        _validation(learner.folder(r) / "validation" / "planner", oks)
        learner.bundle(r).mkdir(parents=True)
        (learner.bundle(r) / "bundle.json").write_text(json.dumps({"roles": {}, "trained": ["executor"]}))
        learner._decide()


def test_a_changed_validation_protocol_validates_the_best_round_again(tmp_path, monkeypatch):
    """A new agent default must not let a round be
    compared with a best score measured another way: the best round is validated again first."""
    import planact.learn.loop as loop_mod

    cfg = PlanActConfig.model_validate({"learn": {"out": str(tmp_path), "rounds": 9}})
    learner = Learner(cfg)
    _decided(learner, [[True, False, False, False], [True, True, False, False]])
    st = learner.state
    assert st.protocol == loop_mod.validation_protocol(cfg) or st.protocol is None
    st.round, st.phase, st.protocol = 2, "validate", "0ld"  # round 2 was being validated under the old protocol
    _validation(learner.folder(2) / "validation" / "planner", [True])
    runs = []

    def validate(cfg, folder, policy, models, progress):  # noqa: ANN001 - stands in for the eval run
        runs.append((folder, policy["executor"]))
        _validation(folder / "planner", [True, True, True, False])

    monkeypatch.setattr(loop_mod, "run_validation", validate)
    learner._rebaseline()
    proto = loop_mod.validation_protocol(cfg)
    assert runs == [(learner.folder(1) / f"validation-{proto}", f"local:{learner.bundle(1).resolve()}")]
    again = LearnState.load(tmp_path)
    assert (again.best_round, again.best_score, again.protocol) == (1, 0.75, proto)
    assert again.baselines[0]["previous_score"] == 0.5 and again.baselines[0]["score"] == 0.75
    # round 2's partial validation is set aside: it reruns under the new protocol
    assert not (learner.folder(2) / "validation").exists() and (learner.folder(2) / "validation-0ld").exists()
    assert "validated again, 50.0% before, 75.0%" in (tmp_path / "report.html").read_text()
    learner._rebaseline()  # same protocol: nothing is run again
    assert len(runs) == 1
    tuned = PlanActConfig.model_validate({"learn": {"out": str(tmp_path)}, "agent": {"avoid_futile": True}})
    assert loop_mod.validation_protocol(tuned) != proto


def test_a_changed_protocol_decides_the_newest_round_not_kept_again(tmp_path, monkeypatch):
    """A fix to the mechanics (grammar, grounding) changes the protocol: the best round is validated again,
    and so is the newest round after it that was not kept; it becomes the best round when it now scores
    higher, and stays not kept otherwise."""
    import planact.learn.loop as loop_mod

    for later, best in (([True, True, True, False], 2), ([True, True, False, False], 1)):
        out = tmp_path / str(best)
        learner = Learner(PlanActConfig.model_validate({"learn": {"out": str(out), "rounds": 9}}))
        _decided(learner, [[True, False, False, False], [True, True, False, False], [True, False, False, False]])
        st = learner.state
        assert [(x.round, x.kept) for x in st.rounds] == [(0, True), (1, True), (2, False)]
        st.round, st.phase, st.protocol = 3, "rollouts", "0ld"
        runs = []

        def validate(cfg, folder, policy, models, progress, later=later):  # noqa: ANN001
            runs.append(folder.parent.name)
            _validation(folder / "planner", later if folder.parent.name == "2" else [True, True, False, False])

        monkeypatch.setattr(loop_mod, "run_validation", validate)
        learner._rebaseline()
        assert runs == ["1", "2"]
        again = LearnState.load(out)
        assert again.best_round == best and again.best_score == max(0.5, sum(later) / 4)
        assert again.not_kept_in_a_row == (0 if best == 2 else 1)
        assert again.baselines[-1]["round"] == 2 and again.baselines[-1]["decided_again"] == (
            "kept" if best == 2 else "not kept")
        assert learner.policy()["executor"] == f"local:{learner.bundle(best).resolve()}"
        learner._rebaseline()  # the same protocol now: nothing runs again
        assert runs == ["1", "2"]


def test_dropping_a_configuration_that_was_not_the_best_keeps_the_best_score_without_validating_again(
        tmp_path, monkeypatch):
    """Validating fewer configurations (say, the executor alone once the planner is no longer trained)
    leaves the best one's score as measured; dropping or changing the best one validates again."""
    import planact.learn.loop as loop_mod

    both = {"planner": {"no_planner": False}, "alone": {"no_planner": True}}
    cfg = PlanActConfig.model_validate({"learn": {"out": str(tmp_path), "validate": {"agents": both}}})
    learner = Learner(cfg)
    st = learner.state
    st.best_round, st.best_score, st.best_agent, st.round = 0, 0.5, "alone", 1
    learner._rebaseline()  # the first time: the digests are recorded
    assert set(LearnState.load(tmp_path).agent_protocols) == {"planner", "alone"}
    runs = []
    monkeypatch.setattr(loop_mod, "run_validation", lambda cfg, folder, *a: (
        runs.append(folder), _validation(folder / next(iter(cfg.learn.validate_.agents)), [True, False, False, False])))

    def resume(agents: dict) -> LearnState:
        c = PlanActConfig.model_validate({"learn": {"out": str(tmp_path), "validate": {"agents": agents}}})
        Learner(c)._rebaseline()
        return LearnState.load(tmp_path)

    alone = resume({"alone": both["alone"]})  # the planner configuration dropped: nothing runs
    assert runs == [] and (alone.best_score, alone.best_agent) == (0.5, "alone")
    assert alone.protocol == loop_mod.validation_protocol(PlanActConfig.model_validate(
        {"learn": {"out": str(tmp_path), "validate": {"agents": {"alone": both["alone"]}}}}))
    changed = resume({"alone": {**both["alone"], "avoid_futile": True}})  # the best one changed: validated again
    assert len(runs) == 1 and (changed.best_score, changed.best_agent) == (0.25, "alone")
    resume({"planner": both["planner"], "alone": {**both["alone"], "avoid_futile": True}})  # one added: again
    assert len(runs) == 2


def test_a_bundle_gives_each_role_its_adapter_and_prompt_version(tmp_path):
    for role in ("executor", "planner"):
        (tmp_path / role).mkdir()
    (tmp_path / "bundle.json").write_text(json.dumps({
        "base": "local:smollm2-135m", "prompt_version": "v2",
        "roles": {"executor": "executor", "planner": "planner", "replanner": "local:smollm2-135m"}}))
    assert role_spec(f"local:{tmp_path}", "executor") == f"local:{tmp_path / 'executor'}?prompt=v2"
    assert role_spec(f"local:{tmp_path}", "replanner") == "local:smollm2-135m?prompt=v2"
    assert role_spec("local:smollm2-135m", "planner") == "local:smollm2-135m"
    assert role_spec("openai:gpt-4o", "planner") == "openai:gpt-4o"
    with pytest.raises(LLMError, match="is a model bundle"):  # not a model itself: a clear error, not a crash
        load_model(f"local:{tmp_path}")

    class Trained:
        prompt_version = "v2"

    assert concrete_version("auto", Trained()) == "v2" and concrete_version("auto", object()) == "v4"
    assert concrete_version("v1", Trained()) == "v1"
    assert load_prompt("executor", "v2").id == "executor.v2"


def test_a_bundles_recommended_agent_settings_apply_unless_the_config_says_otherwise(tmp_path):
    from planact.agent.factory import agent_config

    (tmp_path / "executor").mkdir()
    (tmp_path / "bundle.json").write_text(json.dumps({
        "base": "local:smollm2-135m", "prompt_version": "v2", "roles": {"executor": "executor"},
        "agent": {"ground_element": True, "avoid_futile": True}}))

    def settings(executor: str, **agent) -> tuple[bool, bool, bool]:
        ac = agent_config(PlanActConfig.model_validate({"models": {"executor": executor}, "agent": agent}))
        return ac.ground_element, ac.avoid_futile, ac.type_from_task

    assert settings(f"local:{tmp_path}") == (True, True, False)  # what the bundle does not name stays off
    assert settings(f"local:{tmp_path}", ground_element=False, type_from_task=True) == (False, True, True)
    assert settings("local:smollm2-135m") == (False, False, False)  # the untrained base recommends nothing
    shipped = json.loads((Path(planact.__file__).parent / "models" / "planact-miniwob" / "bundle.json").read_text())
    assert settings("local:planact-miniwob") == tuple(  # the shipped bundle: as validated
        bool(shipped["agent"].get(k)) for k in ("ground_element", "avoid_futile", "type_from_task"))
    assert settings("local:planact-miniwob")[:2] == (True, True)


def test_compact_prompts_render_what_v1_renders_in_fewer_words():
    vars_ = {"task": "Click OK", "plan": "## Step 1\nStep: Click OK", "notes": [], "history": "", "feedback": None,
             "url": "file:///x.html", "html": '<button id="2">OK</button>', "cot": False, "has_plan": True}
    s1, u1 = load_prompt("executor", "v1").render(**vars_)
    s2, u2 = load_prompt("executor", "v2").render(**vars_)
    assert '<button id="2">OK</button>' in u2 and "Click OK" in u2 and "file:" not in u2
    assert len(s2 + u2) < 0.6 * len(s1 + u1)


def test_training_resumes_from_the_last_complete_checkpoint(tmp_path):
    from planact.train.sft import _last_checkpoint

    for n in (1, 2, 3):
        (tmp_path / f"checkpoint-{n}").mkdir()
    for n in (1, 2):
        (tmp_path / f"checkpoint-{n}" / "trainer_state.json").write_text("{}")
    assert _last_checkpoint(tmp_path) == str(tmp_path / "checkpoint-2")  # 3 was cut short by a kill
    assert not (tmp_path / "checkpoint-3").exists()
    assert _last_checkpoint(tmp_path / "missing") is None


def _obs(html: str):
    """An Observation of a simplified page, as observe.js reports it (tags, parents, interactivity)."""
    from planact.web.replay import from_simplified_html

    return from_simplified_html(html, "file:///t.html", "t")


def test_exploration_takes_random_afforded_actions_with_the_tasks_words():
    import random

    from planact.agent.explore import draw, phrases, text_fields

    obs = _obs(LOGIN)
    assert text_fields(obs) == [6, 9]  # the two fields, not the button
    assert phrases(LOGIN_TASK) == ["ann", "x1"]  # quoted strings first
    assert "press login" in phrases("Log in and press login now")  # else runs of words
    rng = random.Random(0)
    assert all(draw(obs, LOGIN_TASK, 0.0, rng) is None for _ in range(50))  # rate 0: always the policy
    acts = [draw(obs, LOGIN_TASK, 1.0, rng) for _ in range(300)]
    kinds = {a.name for a in acts}
    assert kinds == {"Click", "Type"}  # no <select> on the page: no Select Dropdown Option
    typed = {(a.element, a.argument) for a in acts if a.name == "Type"}
    assert typed == {(6, "ann"), (6, "x1"), (9, "ann"), (9, "x1")}
    assert {a.element for a in acts if a.name == "Click"} <= {6, 9, 10}  # interactive elements only
    # novelty first: after "ann" went into field 6, a Type goes to field 9 with "x1"
    from planact.web.actions import Action

    after = {(a.element, a.argument) for a in (draw(obs, LOGIN_TASK, 1.0, rng, [Action("Type", 6, "ann")])
                                                for _ in range(100)) if a.name == "Type"}
    assert after == {(9, "x1")}
    clicks = {a.element for a in (draw(obs, LOGIN_TASK, 1.0, rng, [Action("Click", 10)]) for _ in range(100))
              if a.name == "Click"}
    assert clicks == {6, 9}
    lists = _obs('<div id="1">Select Bo from the list.</div>\n<select id="2">\n<option id="3">Al</option>\n'
                 '<option id="4">Bo</option></select>\n<button id="5">Submit</button>')
    picks = {(a.name, a.element, a.argument) for a in (draw(lists, "Select Bo", 1.0, rng) for _ in range(200))}
    assert ("Select Dropdown Option", 2, "Bo") in picks and ("Select Dropdown Option", 2, "Al") in picks
    assert ("Click", 5, None) in picks and not any(n == "Click" and e in (2, 3, 4) for n, e, _ in picks)


def test_the_curriculum_explores_harder_where_the_policy_never_succeeded():
    from planact.learn.curriculum import explore_rates

    cur = LearnCurriculum(explore_rate=0.8)
    ro = LearnRollouts(explore=[0.0, 0.3])
    recs = {"a": TaskRecord(attempts=8, successes=0, last_attempts=8), "b": TaskRecord(10, 3, 10, 3),
            "c": TaskRecord(10, 3, 8, 0)}  # c: succeeded once, then lost it
    rates = explore_rates(recs, ["a", "b", "c", "new"], cur, ro)
    assert rates == {"a": [0.8], "b": [0.0, 0.56], "c": [0.8], "new": [0.0, 0.3]}
    mastered = explore_rates({"m": TaskRecord(10, 10, 10, 10)}, ["m"], cur, ro)
    assert mastered == {"m": [0.0, 0.3]}  # never below rollouts.explore; on-policy rollouts stay
    assert explore_rates(recs, ["a"], LearnCurriculum(), ro) == {"a": [0.0, 0.3]}  # no explore_rate: as configured


def test_a_resume_may_retune_rollouts_and_training_but_not_tasks_or_seeds(tmp_path):
    base = {"out": str(tmp_path), "tasks": ["click-button"]}
    Learner(PlanActConfig.model_validate({"learn": base})).prepare()
    tuned = {**base, "rollouts": {"explore": 0.5}, "curriculum": {"explore_rate": 0.9}}
    Learner(PlanActConfig.model_validate({"learn": tuned})).prepare()
    changes = json.loads((tmp_path / "learn.json").read_text())["changes"]
    assert [c["changed"] for c in changes] == [[], ["curriculum", "rollouts"]]
    assert changes[-1]["settings"]["rollouts"]["explore"] == 0.5
    Learner(PlanActConfig.model_validate({"learn": tuned})).prepare()  # unchanged: nothing new recorded
    assert len(json.loads((tmp_path / "learn.json").read_text())["changes"]) == 2
    with pytest.raises(LearnError, match="other settings"):
        Learner(PlanActConfig.model_validate({"learn": {**tuned, "tasks": ["click-link"]}})).prepare()
    with pytest.raises(LearnError, match="other settings"):
        Learner(PlanActConfig.model_validate({"learn": {**tuned, "seed_start": 20000}})).prepare()


def test_a_task_with_few_examples_is_repeated_up_to_the_minimum():
    from planact.learn.data import _upsampled

    rows = [{"source": {"site": "a"}, "i": i} for i in range(10)] + [{"source": {"site": "b"}, "i": i} for i in range(3)]
    out = _upsampled(rows, 8)
    assert sum(r["source"]["site"] == "a" for r in out) == 10  # already enough: untouched
    assert [r["i"] for r in out if r["source"]["site"] == "b"] == [0, 1, 2, 0, 1, 2, 0, 1]
    assert _upsampled(rows, 0) == rows


def test_a_rare_action_type_is_repeated_up_to_the_minimum():
    from planact.learn.data import _upsampled, action_name

    def row(call):
        return {"source": {"site": "t"}, "messages": [{"role": "user", "content": "page"},
                                                      {"role": "assistant", "content": f"# Element: x\n{call}"}]}

    rows = [row('do(action="Click", element="3")')] * 20 + [row('do(action="Type", argument="ann", element="4")')] * 2
    assert action_name(rows[-1]) == "Type" and action_name(row('exit(message="done")')) == "exit"
    out = _upsampled(rows, 8, action_name)
    assert sum(action_name(r) == "Type" for r in out) == 8 and sum(action_name(r) == "Click" for r in out) == 20


def test_renumbered_examples_keep_the_element_and_change_the_number():
    import random
    import re

    from planact.learn.augment import renumber_rows, renumbered

    user = ('Task: Enter "ann" and press login.\nDone so far:\nStep 1: do(action="Type", argument="ann", element="6")\n'
            f'  on: <input id="6" type="text">\nPage:\n{LOGIN}\n<iframe id="1000001"></iframe>')
    row = {"source": {"id": "r1", "site": "t"},
           "messages": [{"role": "system", "content": "Use an id from the page."}, {"role": "user", "content": user},
                        {"role": "assistant", "content": '# Element: the "Login" button\ndo(action="Click", element="10")'}]}
    maps = set()
    for seed in range(20):
        new = renumbered(row, random.Random(seed))
        page = new["messages"][1]["content"]
        answer = re.search(r'element="(\d+)"', new["messages"][2]["content"]).group(1)
        assert f'<button id="{answer}">Login</button>' in page  # the answer still names the Login button
        typed = re.search(r'element="(\d+)"', page).group(1)
        assert f'<input id="{typed}" type="text">' in page  # the history too
        ids = [int(i) for i in re.findall(r'id="(\d+)"', page.split("Page:")[1])]
        assert ids[:-1] == sorted(ids[:-1]) and ids[-1] == 1000001  # order kept; frame ids untouched
        assert re.sub(r'\d+', 'N', page) == re.sub(r'\d+', 'N', user)  # nothing else changed
        maps.add(answer)
    assert len(maps) > 5  # the number to copy varies
    rows, changed = renumber_rows([row, row, row], 0.0, 0)
    assert changed == 0 and rows[1] is row
    rows, changed = renumber_rows([row, row, row], 1e-9, 0)
    assert rows[0] is row and changed == 2  # the repeats, not the first


def test_grounding_allows_every_id_again_once_clicking_what_it_named_changed_nothing():
    """The executor names the "Login" button; while clicking it has not been tried the action may only
    use its id. Once that click left this very page unchanged (avoid_futile), keeping the narrowing would
    leave only Type or Select on a button: every id is allowed again."""
    import re

    from planact.agent.roles import ExecutorRole, RoleSettings
    from planact.llm.scripted import ScriptedLLM

    obs = _obs(LOGIN)
    llm = ScriptedLLM(['# Element: the "Login" button\n', 'do(action="Click", element="10")',
                       '# Element: the "Login" button\n', 'do(action="Click", element="6")'])
    role = ExecutorRole(llm, RoleSettings(max_tokens=64, ground_element=True), "v2")
    variables = {"task": LOGIN_TASK, "plan": "", "notes": [], "history": "", "feedback": None, "url": obs.url,
                 "html": obs.html}

    def click_ids(grammar: str) -> set[int]:
        rule = re.search(r'^a0 ::= .*element=\\"" (\w+)', grammar, re.M).group(1)
        return {int(i) for i in re.findall(r'"(\d+)"', re.search(rf"^{rule} ::= (.*)$", grammar, re.M).group(1))}

    action, out, _ = role.next_action(variables, obs, 1, None)
    assert action.element == 10 and click_ids(llm.calls[1][1].grammar) == {10}
    action, out, _ = role.next_action(variables, obs, 2, None, avoid={("Click", 10)})
    assert click_ids(llm.calls[3][1].grammar) == set(obs.elements) - {10}
    assert "changed nothing here: every id allowed" in " ".join(out.calls[0].notes)


def test_grounding_takes_the_field_a_text_right_before_it_names():
    """Fields labelled by a plain text element instead of a <label> (MiniWoB's multi-layouts, many real
    forms): "the "Year" field" allows the text and the field right after it, not a field further on."""
    from planact.agent.grounding import candidates

    obs = _obs('<div id="1">Search for movies from year <b id="2">2010</b>.</div>\n<div id="5">Director Name</div>\n'
               '<input id="6" type="text">\n<div id="7">Year</div>\n<input id="8" type="text">\n'
               '<button id="11">Search</button>')
    assert candidates('# Element: the "Year" field', obs) == [7, 8]
    assert candidates('# Element: the "2010" text', obs) == [2]  # the next element is no field: the text alone


def _file(path: Path, text: str = "x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_a_packed_loop_unpacks_to_resume_elsewhere(tmp_path):
    """`planact learn pack` keeps what resuming needs (state, records, the unfinished round's newest
    checkpoint) and leaves out traces and unused adapters; `unpack` puts it back and restores the best
    round's adapters from the shipped bundle; an existing loop is not written over."""
    from typer.testing import CliRunner

    from planact.cli.main import app

    out = tmp_path / "runs" / "loop"
    LearnState(round=3, phase="train", best_round=2, best_score=0.4).save(out)
    _file(out / "learn.json", "{}")
    _file(out / ".planact.lock")
    r2, r3 = out / "rounds" / "2", out / "rounds" / "3"
    _file(r2 / "rollouts.jsonl", '{"id": "a"}\n')
    _file(r2 / "validation" / "alone" / "episodes.jsonl", '{"task_id": "t"}\n')
    _file(r2 / "validation" / "alone" / "episodes" / "t-seed1" / "trace.json", "{}")
    _file(r2 / "adapters" / "executor" / "adapter_model.safetensors")
    _file(r3 / "synth" / "data" / "executor.jsonl", "{}\n")
    _file(r3 / "adapters" / "executor" / "adapter_model.safetensors")   # trained: kept, checkpoints not
    _file(r3 / "adapters" / "executor" / "planact_train.json", "{}")
    _file(r3 / "adapters" / "executor" / "checkpoint-10" / "adapter_model.safetensors")
    _file(r3 / "adapters" / "planner" / "checkpoint-10" / "optimizer.pt")  # cut off: newest checkpoint only
    _file(r3 / "adapters" / "planner" / "checkpoint-20" / "optimizer.pt")
    shipped = tmp_path / "shipped"
    _file(shipped / "bundle.json", json.dumps({"round": 2, "roles": {"executor": "executor"}}))
    _file(shipped / "executor" / "adapter.gguf", "shipped")

    from planact.learn.pack import pack, unpack

    s = pack(out, tmp_path / "state.tar.gz", shipped)
    import tarfile

    names = {Path(n).relative_to("loop").as_posix() for n in tarfile.open(s.archive).getnames()}
    assert {"state.json", "learn.json", "rounds/2/rollouts.jsonl", "rounds/2/validation/alone/episodes.jsonl",
            "rounds/3/synth/data/executor.jsonl", "rounds/3/adapters/executor/adapter_model.safetensors",
            "rounds/3/adapters/planner/checkpoint-20/optimizer.pt"} <= names
    assert not any("episodes/" in n or "lock" in n or "checkpoint-10" in n or n.startswith("rounds/2/adapters")
                   for n in names), names
    assert s.adapters == ["round 3: the round in progress"]

    # the best round is not the shipped one: its adapters travel
    _file(shipped / "bundle.json", json.dumps({"round": 1}))
    assert any(n.endswith("rounds/2/adapters/executor/adapter_model.safetensors")
               for n in tarfile.open(pack(out, tmp_path / "b.tar.gz", shipped).archive).getnames())
    _file(shipped / "bundle.json", json.dumps({"round": 2, "roles": {"executor": "executor"}}))

    elsewhere = tmp_path / "elsewhere" / "loop"
    st = unpack(s.archive, elsewhere, shipped)
    assert (st.round, st.phase, st.best_round) == (3, "train", 2)
    assert (elsewhere / "rounds/2/adapters/executor/adapter.gguf").read_text() == "shipped"
    assert (elsewhere / "rounds/3/adapters/planner/checkpoint-20/optimizer.pt").exists()
    with pytest.raises(FileExistsError):
        unpack(s.archive, elsewhere, shipped)

    # the command line: an existing loop is a one-line error, --force writes over it
    cfg = _file(tmp_path / "learn.yaml", f"learn: {{out: {elsewhere}}}\n")
    r = CliRunner().invoke(app, ["learn", "unpack", str(s.archive), "--config", str(cfg)])
    assert r.exit_code == 2 and "already holds a loop" in r.output
    r = CliRunner().invoke(app, ["learn", "pack", "--config", str(cfg), "--to", str(tmp_path / "c.tar.gz")])
    assert r.exit_code == 0 and "packed" in r.output, r.output



def test_typing_goes_into_the_field_the_executor_named_not_its_label():
    """With type_into_fields, "the "Password" field" names the label and its field; Type may only use the
    field, while Click keeps both. Named nothing typable (the "Login" button): Type may use the page's fields.
    A list is what an option is selected in."""
    import re

    from planact.agent.grounding import field_targets
    from planact.agent.roles import ExecutorRole, RoleSettings
    from planact.llm.scripted import ScriptedLLM

    obs = _obs(LOGIN)
    assert field_targets([8, 9], obs) == {"Type": [9], "Search": [9]}
    assert field_targets([10], obs) == {"Type": [6, 9], "Search": [6, 9]}
    listed = _obs('<div id="1">Select Ann</div>\n<select id="2">\n<option id="3">Ann</option></select>\n'
                  '<div id="4" contenteditable="true">notes</div>\n<input id="5" type="checkbox">')
    assert field_targets([1], listed) == {"Type": [4], "Search": [4], "Select Dropdown Option": [2]}

    def ids_of(grammar: str, name: str) -> set[int]:
        index = next(i for i, line in enumerate(grammar.splitlines()) if f'\\"{name}\\"' in line
                     and line.startswith("a"))
        rule = re.search(r'element=\\"" (\w+)', grammar.splitlines()[index]).group(1)
        return {int(i) for i in re.findall(r'"(\d+)"', re.search(rf"^{rule} ::= (.*)$", grammar, re.M).group(1))}

    variables = {"task": LOGIN_TASK, "plan": "", "notes": [], "history": "", "feedback": None, "url": obs.url,
                 "html": obs.html}
    for fields, typed in ((True, {9}), (False, {8, 9})):
        llm = ScriptedLLM(['# Element: the "Password" field\n', 'do(action="Type", argument="x1", element="9")'])
        role = ExecutorRole(llm, RoleSettings(max_tokens=64, ground_element=True, type_into_fields=fields), "v2")
        action, _, error = role.next_action(variables, obs, 1, None)
        grammar = llm.calls[1][1].grammar
        assert action.element == 9 and error is None
        assert ids_of(grammar, "Type") == typed and ids_of(grammar, "Click") == {8, 9}
    # named the one button of a page with one field: Type may only go into the field (as many ids as the
    # button's, and still others: round 12's executor typed enter-text's word into its Submit button)
    form = _obs('<div id="1">Enter "Annis" into the text field and press Submit.</div>\n'
                '<input id="3" type="text">\n<button id="4">Submit</button>')
    llm = ScriptedLLM(['# Element: the "Submit" button\n', 'do(action="Type", argument="Annis", element="3")'])
    role = ExecutorRole(llm, RoleSettings(max_tokens=64, ground_element=True, type_into_fields=True), "v2")
    action, _, error = role.next_action({**variables, "task": 'Enter "Annis" into the text field and press Submit.',
                                         "html": form.html}, form, 1, None)
    grammar = llm.calls[1][1].grammar
    assert ids_of(grammar, "Type") == {3} and ids_of(grammar, "Click") == {4}
    assert action.element == 3 and error is None


OPTIONS = """<div id="1">Select iVS and click Submit.</div>
<label id="2">
<input id="3" type="radio" name="radio">iVS</label>
<label id="4">
<input id="5" type="radio" name="radio">PxcE</label>
<button id="6">Submit</button>"""


def _ended(store: RecordStore, key: str, task: str, text: str, calls: list[str], status: str = "env_done",
           success: bool = False, error_last: bool = False, explored: bool = False) -> None:
    pages = [OPTIONS + "".join(f'\n<p id="{90 + k}">changed</p>' for k in range(i)) for i in range(len(calls))]
    steps = [{"index": i + 1, "url": "file:///t.html", "observation": pages[i], "observation_tokens": 10,
              "raw_html_chars": 10, "raw_output": "noise " + c, "action": c,
              "action_error": "no such element" if error_last and i == len(calls) - 1 else None,
              "explored": "Click" if explored else None} for i, c in enumerate(calls)]
    data = {"site": f"miniwob/{task}", "task_id": task, "env_seed": 10000,
            "trajectory": {"task": text, "steps": steps, "status": status, "success": success},
            "orm": {"success": success, "reward": 1.0 if success else -1.0}}
    store.append_batch([new_record("trajectories", key, 0, Provenance(stage="trajectories", model="m"), data, [],
                                   "kept" if success else "dropped", None if success else "orm_failure: -1")], key)


def test_the_action_that_ended_a_rollout_in_failure_is_an_undesirable_example(tmp_path):
    from planact.config import LearnPrefer
    from planact.learn.prefer import build_preferences, failure_endings

    cfg = PlanActConfig.model_validate({"learn": {"out": str(tmp_path), "prompt_version": "v2"}})
    store = RecordStore(tmp_path / "rounds" / "1" / "rollouts.jsonl")
    submit, option = 'do(action="Click", element="6")', 'do(action="Click", element="3")'
    _ended(store, "a", "click-option", "Select iVS and click Submit.", [submit])
    _ended(store, "b", "click-option", "Select iVS and click Submit.", [submit])  # the same example again
    _ended(store, "c", "click-option", "Select PxcE and click Submit.", [option, submit], status="max_steps")
    _ended(store, "d", "click-option", "Select iVS and click Submit.", [option, submit], success=True)
    _ended(store, "e", "click-option", "Select QQ and click Submit.", [submit], error_last=True)
    _ended(store, "f", "click-option", "Select PxcE and click Submit.", [option, submit], explored=True)
    _ended(store, "g", "other", "Select ZZ and click Submit.", [submit])
    rows = failure_endings(cfg, tmp_path, 1, LearnPrefer(per_task=5))
    assert [(r["source"]["task"], r["source"]["position"]) for r in rows] == [
        ("click-option", 0), ("click-option", 1), ("other", 0)]
    first = rows[0]
    assert first["label"] is False and first["messages"][-1]["content"] == '# Element: the "Submit" button\n' + submit
    assert "Select iVS and click Submit." in first["messages"][1]["content"]
    # the second one was two steps in: its prompt shows the step before, as the executor saw it
    assert 'Click' in rows[1]["messages"][1]["content"].split("Page:")[0] and rows[1]["source"]["explored"]
    assert len(failure_endings(cfg, tmp_path, 1, LearnPrefer(per_task=1))) == 2
    assert len(failure_endings(cfg, tmp_path, 1, LearnPrefer(per_task=5, explored=False))) == 2
    capped = failure_endings(cfg, tmp_path, 1, LearnPrefer(per_task=5, max_undesirable=2))
    assert sorted(r["source"]["task"] for r in capped) == ["click-option", "other"]  # the cap is spread over tasks

    data = tmp_path / "data"
    data.mkdir()
    cfg = cfg.with_overrides(**{"learn.train": {"prefer": {"per_task": 5, "desirable_ratio": 1.0}}})
    assert build_preferences(cfg, tmp_path, 1, data)["desirable"] == 0  # no SFT set: nothing to weigh them against
    assert not (data / "executor-kto.jsonl").exists()
    good = {"id": "s1", "messages": [{"role": "user", "content": "u"}, {"role": "assistant", "content": option}],
            "source": {"site": "miniwob/click-option"}}
    (data / "executor.jsonl").write_text("\n".join(json.dumps({**good, "id": f"s{i}"}) for i in range(5)) + "\n")
    stats = build_preferences(cfg, tmp_path, 1, data)
    written = [json.loads(x) for x in (data / "executor-kto.jsonl").read_text().splitlines()]
    assert stats["undesirable"] == 3 and stats["desirable"] == 3
    assert sorted(r["label"] for r in written) == [False, False, False, True, True, True]


def test_a_plan_written_from_a_failed_rollout_is_an_undesirable_plan(tmp_path):
    from planact.config import LearnPrefer
    from planact.learn.prefer import failed_plans

    cfg = PlanActConfig.model_validate({"learn": {"out": str(tmp_path), "prompt_version": "v2"}})
    store = RecordStore(tmp_path / "rounds" / "1" / "rollouts.jsonl")
    submit, option = 'do(action="Click", element="6")', 'do(action="Click", element="3")'
    _ended(store, "a", "click-option", "Select PxcE and click Submit.", [submit])
    _ended(store, "b", "click-option", "Select iVS and click Submit.", [option, submit], success=True)
    _ended(store, "c", "click-option", "Select QQ and click Submit.", [submit], status="max_steps")
    _ended(store, "d", "click-option", "Select ZZ and click Submit.", [option, submit], explored=True)
    rows = failed_plans(cfg, tmp_path, 1, LearnPrefer())
    assert [r["source"]["record_id"] for r in rows] == [store.read()[0].id, store.read()[3].id]
    plan = rows[0]["messages"][-1]["content"]
    assert plan.startswith("## Step 1") and 'Click the "Submit" button' in plan and "Actions:" not in plan
    assert "Select PxcE and click Submit." in rows[0]["messages"][1]["content"] and rows[0]["label"] is False
    assert '"iVS"' in rows[1]["messages"][-1]["content"] and "## Step 2" in rows[1]["messages"][-1]["content"]
    assert len(failed_plans(cfg, tmp_path, 1, LearnPrefer(explored=False))) == 1


def test_a_failed_rollouts_last_move_becomes_the_rejected_answer_on_a_successes_page(tmp_path):
    """DPO pairs: a success's step (chosen) against the move that ended a failed rollout of the same task at
    the same step, found on the success's own page by what it acted on (rejected)."""
    from planact.config import LearnPrefer
    from planact.learn.prefer import failed_plan_pairs, failure_pairs

    cfg = PlanActConfig.model_validate({"learn": {"out": str(tmp_path), "prompt_version": "v2"}})
    store = RecordStore(tmp_path / "rounds" / "1" / "rollouts.jsonl")
    submit, option = 'do(action="Click", element="6")', 'do(action="Click", element="3")'
    _ended(store, "a", "click-option", "Select PxcE and click Submit.", [submit])  # Submit first: failed
    _ended(store, "b", "click-option", "Select QQ and click Submit.", ['do(action="Type", argument="QQ", element="3")'])
    _ended(store, "c", "click-option", "Select iVS and click Submit.", [option, submit], success=True)
    _ended(store, "d", "other", "Select iVS and click Submit.", [option, submit], success=True)
    # the success's page numbers its elements differently: the move is found by what it acted on
    moved = RecordStore(tmp_path / "moved.jsonl")
    _ended(moved, "e", "click-option", "Select iVS and click Submit.", [option, submit], success=True)
    success = moved.read()[0]
    for st in success.data["trajectory"]["steps"]:
        st["observation"] = st["observation"].replace('<button id="6">', '<button id="7">')
    st0 = success.data["trajectory"]["steps"][1]
    st0["action"] = 'do(action="Click", element="7")'
    successes = [r for r in store.read() if r.kept] + [success]
    pairs = failure_pairs(cfg, tmp_path, 1, LearnPrefer(), successes)
    assert [(p["source"]["record_id"], p["source"]["position"]) for p in pairs] == [
        (store.read()[2].id, 0), (success.id, 0)]  # no failure of "other"; Submit is the chosen answer at step 1
    first = pairs[0]
    assert first["chosen"][0]["content"] == '# Element: the "iVS" radio button\n' + option
    assert first["rejected"][0]["content"] == '# Element: the "Submit" button\n' + submit
    assert pairs[1]["rejected"][0]["content"].endswith('element="7")')
    assert "Select iVS and click Submit." in first["prompt"][1]["content"]
    plans = {r.id: "## Step 1\nReasoning: r\nStep: Click \"iVS\".\n## Step 2\nReasoning: r\nStep: Click Submit."
             for r in successes}
    plan_pairs = failed_plan_pairs(cfg, tmp_path, 1, LearnPrefer(), successes, plans)
    assert len(plan_pairs) == 2 and plan_pairs[0]["chosen"][0]["content"] == plans[store.read()[2].id]
    assert 'Step: Click the "Submit" button.' in plan_pairs[0]["rejected"][0]["content"]
    assert "## Step 2" not in plan_pairs[0]["rejected"][0]["content"]
    assert len(failure_pairs(cfg, tmp_path, 1, LearnPrefer(per_task=1), successes)) == 1


def test_the_policys_own_differing_answer_on_a_successes_step_is_rejected(tmp_path):
    """Self-play pairs: the executor replayed (greedy, its grammar) on each recorded step of a success;
    where it answers otherwise, the success's answer is chosen and its own rejected."""
    from planact.config import LearnPrefer
    from planact.learn.prefer import policy_pairs
    from planact.llm.scripted import ScriptedLLM

    cfg = PlanActConfig.model_validate({"learn": {"out": str(tmp_path), "prompt_version": "v2"}})
    store = RecordStore(tmp_path / "rollouts.jsonl")
    submit, option = 'do(action="Click", element="6")', 'do(action="Click", element="3")'
    _ended(store, "c", "click-option", "Select iVS and click Submit.", [option, submit], success=True)
    llm = ScriptedLLM([submit, submit])  # Submit first (wrong), then Submit (as the success did)
    seen = []
    pairs = policy_pairs(cfg, store.read(), llm, LearnPrefer(), lambda n, total: seen.append((n, total)))
    assert len(llm.calls) == 2 and seen[-1] == (2, 2) and llm.calls[0][1].grammar  # with its grammar
    assert len(pairs) == 1 and pairs[0]["source"]["position"] == 0
    assert pairs[0]["chosen"][0]["content"] == '# Element: the "iVS" radio button\n' + option
    assert pairs[0]["rejected"][0]["content"] == '# Element: the "Submit" button\n' + submit
    assert "Select iVS and click Submit." in pairs[0]["prompt"][1]["content"]


def test_a_label_that_wraps_its_control_grounds_to_that_control_not_the_next_one():
    """click-option: `<label><input type="radio">iVS</label>` then Submit. Naming "iVS" narrows the ids to the
    label and its radio; through session 8 it gave the label and the next control after the label: Submit."""
    from planact.agent.grounding import candidates

    page = OPTIONS.replace("iVS and", "PxcE and")  # the task's text names the other option
    obs = _obs(page)
    assert obs.elements[2].end == page.index("</label>") + len("</label>")  # spans as observe.js reports them
    assert candidates('the "iVS" radio button', obs) == [2, 3]
    assert candidates('the "Username" field', _obs(LOGIN)) == [5, 6]  # a label before its field: the field after


def test_shipping_a_round_copies_in_the_roles_it_carried_over_from_an_earlier_round(tmp_path):
    """A round that trains the executor only names round 1's planner by its path in the loop's folder;
    the shipped bundle holds that adapter too (PEFT + llama.cpp), so it runs from a fresh clone."""
    import shutil

    from planact.learn.ship import ship
    from planact.learn.state import RoundResult

    shipped = Path(planact.__file__).parent / "models" / "planact-miniwob" / "executor"
    out = tmp_path / "loop"
    for folder in (out / "rounds/2/adapters/executor", out / "rounds/1/adapters/planner-dpo"):
        shutil.copytree(shipped, folder)
    planner = out / "rounds/1/adapters/planner-dpo"
    (out / "rounds/2/adapters/bundle.json").write_text(json.dumps({
        "base": "local:smollm2-135m", "prompt_version": "v2", "round": 2,
        "roles": {"executor": "executor", "planner": f"local:{planner.resolve()}?prompt=v2",
                  "replanner": "local:smollm2-135m?prompt=v2"}}))
    (out / "learn.json").write_text(json.dumps({"config": {"learn": {
        "out": str(out), "suite": "miniwob", "tasks": ["click-button"], "seed_start": 10000, "teacher": None,
        "validate": {"seeds": "90000-90002", "agents": {"alone": {"no_planner": True, "ground_element": True}}}}}}))
    (out / "success.svg").write_text("<svg/>")
    LearnState(round=3, phase="rollouts", best_round=2, best_score=0.5, best_agent="alone", rounds=[
        RoundResult(0, True, 0.0),
        RoundResult(1, True, 0.3, examples={"planner": {"examples": 7}, "planner-dpo": {"examples": 5}},
                    train={"planner-dpo": {"steps": 3}}),
        RoundResult(2, False, 0.5, examples={"executor": {"examples": 9}}, agent="alone",
                    validation_agents={"alone": 0.5})]).save(out)
    dest = ship(out, tmp_path / "planact-x", name="planact-x")
    bundle = json.loads((dest / "bundle.json").read_text())
    assert bundle["roles"] == {"executor": "executor", "planner": "planner", "replanner": "local:smollm2-135m?prompt=v2"}
    assert bundle["from_round"] == {"planner": 1} and bundle["agent"] == {"ground_element": True}
    assert str(out) not in (dest / "bundle.json").read_text()  # nothing points back into the loop's folder
    for role in ("executor", "planner"):
        assert (dest / role / "adapter.gguf").stat().st_size > 0
        assert (dest / role / "adapter_model.safetensors").stat().st_size > 0
    assert role_spec(f"local:{dest}", "planner") == f"local:{dest / 'planner'}?prompt=v2"
    card = (dest / "MODEL_CARD.md").read_text()
    assert "the planner is round 1's" in card and "| planner-dpo (round 1) | 5 |" in card
    # round 1 carried that planner over in turn (say, from a shipped bundle unpacked there): its origin is kept
    (out / "rounds/1/adapters/bundle.json").write_text(json.dumps({"from_round": {"planner-dpo": 0}}))
    again = json.loads((ship(out, tmp_path / "planact-y", name="planact-y") / "bundle.json").read_text())
    assert again["from_round"] == {"planner": 0}


def test_an_executor_that_starts_from_the_best_round_is_preference_tuned_from_its_adapter(tmp_path, monkeypatch):
    """learn.train.executor.start: best with DPO: no SFT from the base again; the policy pairs are mined
    with the best round's adapter and the DPO stage starts from it (iterated DPO)."""
    import shutil

    import planact.train.sft as sft

    shipped = Path(planact.__file__).parent / "models" / "planact-miniwob" / "executor"
    best = tmp_path / "rounds/1/adapters/executor-dpo-policy"
    shutil.copytree(shipped, best)
    (tmp_path / "rounds/1/adapters/bundle.json").write_text(json.dumps({
        "base": "local:smollm2-135m", "prompt_version": "v2", "round": 1,
        "roles": {"executor": "executor-dpo-policy", "planner": "local:smollm2-135m?prompt=v2"}}))
    data = tmp_path / "rounds/2/synth/data"
    data.mkdir(parents=True)
    for name in ("executor.jsonl", "executor-dpo.jsonl"):
        (data / name).write_text('{"x": 1}\n')
    settings = {"out": str(tmp_path), "train": {
        "roles": ["executor"], "executor": {"start": "best"},
        "prefer": {"objective": "dpo", "roles": ["executor"], "policy_pairs": True, "failure_stage": False}}}
    learner = Learner(PlanActConfig.model_validate({"learn": settings}))
    learner.state.round, learner.state.best_round = 2, 1
    assert learner.start_adapter("executor") == best.resolve() and learner.start_adapter("planner") is None

    def no_sft(*a, **k):
        raise AssertionError("SFT from the base ran")

    mined, tuned = [], []

    def mine(self, path, first, adapter):
        mined.append(adapter)
        path.write_text('{"pair": 1}\n')

    def tune(self, role, data, output, init):
        tuned.append((data.name, output.name, init))
        output.mkdir(parents=True, exist_ok=True)
        return output

    monkeypatch.setattr(sft, "train", no_sft)
    monkeypatch.setattr(Learner, "_write_policy_pairs", mine)
    monkeypatch.setattr(Learner, "_tune", tune)
    learner._train()
    assert mined == [best.resolve()]
    assert tuned == [("executor-dpo-policy.jsonl", "executor-dpo-policy", best.resolve())]
    bundle = json.loads((learner.bundle(2) / "bundle.json").read_text())
    assert bundle["roles"]["executor"] == "executor-dpo-policy" and bundle["trained"] == ["executor"]
    assert bundle["started_from"] == {"executor": str(best.resolve())}
    assert bundle["roles"]["planner"] == "local:smollm2-135m?prompt=v2"  # not trained: carried over
    default = Learner(PlanActConfig.model_validate({"learn": {"out": str(tmp_path)}}))
    default.state.best_round = 1
    assert default.start_adapter("executor") is None  # start: base, the default, trains from the base


def test_a_round_that_did_not_rise_is_validated_again_averaged_with_the_best_round(tmp_path, monkeypatch):
    """learn.train.mix: round 2 validates below round 1, so its executor averaged with round 1's is validated
    too; the mix scores higher and becomes the round's (kept) policy; a mix that scores lower changes nothing."""
    import shutil

    import planact.learn.loop as loop_mod

    shipped = Path(planact.__file__).parent / "models" / "planact-miniwob" / "executor"
    mix_scores = iter([[True, True, True, False], [False, False, False, False]])
    validated = []

    def fake_validation(cfg, folder, policy, models, progress):  # noqa: ANN001
        validated.append((folder.name, policy["executor"]))
        _validation(folder / "planner", next(mix_scores))

    monkeypatch.setattr(loop_mod, "run_validation", fake_validation)
    cfg = PlanActConfig.model_validate({"learn": {"out": str(tmp_path), "rounds": 9, "train": {"mix": 0.5}}})
    learner = Learner(cfg)
    for r, oks in enumerate([[True, False, False, False], [True, True, False, False], [True, False, False, False],
                             [True, False, False, False]]):
        learner.state.round = r
        _validation(learner.folder(r) / "validation" / "planner", oks)
        if r:
            shutil.copytree(shipped, learner.bundle(r) / "executor-dpo")
        learner.bundle(r).mkdir(parents=True, exist_ok=True)
        (learner.bundle(r) / "bundle.json").write_text(json.dumps({
            "base": "local:smollm2-135m", "prompt_version": "v2", "trained": ["executor"] if r else [],
            "roles": {"executor": "executor-dpo", "planner": "local:smollm2-135m?prompt=v2"}}))
        learner._mix()
        learner._decide()
    mixed = learner.bundle(2) / "executor-mix"
    assert validated == [("validation-mix", f"local:{mixed.resolve()}?prompt=v2"),
                         ("validation-mix", f"local:{(learner.bundle(3) / 'executor-mix').resolve()}?prompt=v2")]
    meta = json.loads((mixed / "planact_mix.json").read_text())
    assert meta["weights"] == [0.5, 0.5] and meta["adapters"] == [
        str((learner.bundle(1) / "executor-dpo").resolve()), str((learner.bundle(2) / "executor-dpo").resolve())]
    st = LearnState.load(tmp_path)
    r2, r3 = st.result(2), st.result(3)
    assert (r2.kept, r2.validation, r2.mix["chosen"], r2.mix["unmixed_validation"]) == (True, 0.75, True, 0.25)
    assert st.best_round == 2 and st.best_score == 0.75
    bundle2 = json.loads((learner.bundle(2) / "bundle.json").read_text())
    assert bundle2["roles"]["executor"] == "executor-mix" and bundle2["mixed"]["unmixed"] == {"executor": "executor-dpo"}
    assert role_spec(learner.policy()["executor"], "executor") == f"local:{mixed.resolve()}?prompt=v2"
    # round 3 (25%) mixed with round 2's (now mixed) executor scores 0%: round 3 stays unmixed and not kept
    assert (r3.kept, r3.validation, r3.mix["chosen"], r3.mix["with_round"]) == (False, 0.25, False, 2)
    assert json.loads((learner.bundle(3) / "bundle.json").read_text())["roles"]["executor"] == "executor-dpo"
    assert "0.5 x this round + 0.5 x round 1: 75.0%; this round alone: 25.0%" in (tmp_path / "report.html").read_text()
    learner._mix()  # a resumed mix phase after the decision: nothing is mixed or validated again
    assert len(validated) == 2
