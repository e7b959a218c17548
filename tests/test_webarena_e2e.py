"""End to end, as a user runs it: WebArena-Lite-format tasks (written for this test) whose
placeholders point at fixture sites on loopback; the suite logs in once per site and reuses the
storage state; a scripted agent acts in a real Chromium; every evaluator type decides a score;
`planact report` prints the tables."""

from __future__ import annotations

import json

import pytest
from support.wa_site import FixtureSites
from typer.testing import CliRunner

from planact.cli.main import app

pytestmark = pytest.mark.browser


def task(task_id, site, intent, start, ev, login=True):
    state = {"shopping": "./.auth/shopping_state.json", "gitlab": "./.auth/gitlab_state.json",
             "reddit": "./.auth/reddit_state.json"}[site]
    base = {"eval_types": [], "reference_answers": None, "reference_url": "", "program_html": [],
            "string_note": ""}
    return {"sites": [site], "task_id": task_id, "require_login": login, "storage_state": state if login else None,
            "start_url": start, "geolocation": None, "intent_template": intent, "instantiation_dict": {},
            "intent": intent, "require_reset": task_id == 0, "eval": {**base, **ev}, "intent_template_id": 0}


TASKS = [
    task(0, "shopping", "What is the number of my most recent order?", "__SHOPPING__",
         {"eval_types": ["string_match"], "reference_answers": {"must_include": ["000000189"]}}),
    task(1, "shopping", "Open the page of my most recent order", "__SHOPPING__/sales/order/history/",
         {"eval_types": ["url_match", "program_html"], "url_note": "GOLD in PRED",
          "reference_url": "__SHOPPING__/sales/order/view/order_id/189",
          "program_html": [{"url": "func:shopping_get_latest_order_url()",
                            "locator": "document.querySelector('.order-details-items.ordered').outerText",
                            "required_contents": {"must_include": ["24-WG082-blue"]}}]}),
    task(2, "shopping", "Subscribe me to the General Subscription newsletter", "__SHOPPING__/customer/account/",
         {"eval_types": ["program_html"], "program_html": [
             {"url": "__SHOPPING__/newsletter/manage/",
              "locator": "document.querySelector('[title=\"General Subscription\"').checked.toString()",
              "required_contents": {"exact_match": "true"}}]}),
    task(3, "gitlab", "What role does vinta have in the dotfiles project?", "__GITLAB__/byteblaze/dotfiles",
         {"eval_types": ["string_match"], "reference_answers": {"fuzzy_match": ["Guest"]}}),
    task(4, "gitlab", "Open the members page of byteblaze/dotfiles", "__GITLAB__/byteblaze/dotfiles",
         {"eval_types": ["url_match", "program_html"],
          "reference_url": "__GITLAB__/byteblaze/dotfiles/-/project_members",  # no url_note: EXACT
          "program_html": [{"url": "last", "locator": "func:gitlab_get_project_memeber_role(__page__, 'vinta')",
                            "required_contents": {"must_include": ["Guest"]}},
                           {"url": "__GITLAB__/byteblaze/dotfiles/-/project_members", "locator": "",
                            "required_contents": {"must_include": ["@koush |OR| @nobody"]}}]}),
    task(5, "reddit", "What is the title of the pinned post in the books forum?", "__REDDIT__/",
         {"eval_types": ["string_match"], "reference_answers": {"fuzzy_match": "N/A"},
          "string_note": "no pinned post in books"}),
    task(6, "reddit", "Open the post this comment belongs to", "__REDDIT__/f/books/59421/adults-reading/comment/7",
         {"eval_types": ["program_html"], "program_html": [
             {"url": "func:reddit_get_post_url('__last_url__')",
              "locator": "document.querySelector('.submission__title').outerText",
              "required_contents": {"exact_match": "Adults reading to each other out loud"}}]}),
    task(7, "shopping", "How many orders are pending?", "__SHOPPING__/sales/order/history/",
         {"eval_types": ["string_match", "url_match"], "reference_answers": {"exact_match": "1"},
          "reference_url": "__SHOPPING__/sales/order/history", "url_note": "GOLD in PRED"}),
]
EXPECTED = {"0": 1.0, "1": 1.0, "2": 1.0, "3": 1.0, "4": 1.0, "5": 1.0, "6": 1.0, "7": 0.0}


@pytest.fixture()
def setup(tmp_path, monkeypatch):
    with FixtureSites() as sites:
        for k, v in sites.env.items():
            monkeypatch.setenv(k, v)
        tasks_file = tmp_path / "tasks.json"
        tasks_file.write_text(json.dumps(TASKS))
        reset_log = tmp_path / "resets.log"
        config = tmp_path / "config.yaml"
        config.write_text(json.dumps({
            "models": {"planner": "scripted:support.wa_agent:planner", "executor": "scripted:support.wa_agent:executor"},
            "agent": {"replan": "never", "max_steps": 8},
            "eval": {"judge": "scripted:support.judges:fuzzy", "webarena": {
                "auth_dir": str(tmp_path / "auth"), "settle_s": 0,
                "reset_command": f"echo reset $PLANACT_TASK_ID $WA_SHOPPING >> {reset_log}"}},
        }))
        yield sites, tasks_file, config, reset_log, tmp_path


def test_webarena_lite_tasks_end_to_end(setup):
    sites, tasks_file, config, reset_log, tmp = setup
    out = tmp / "run"
    runner = CliRunner()
    res = runner.invoke(app, ["eval", "--suite", "webarena-lite", "--tasks-file", str(tasks_file), "--config",
                              str(config), "--output", str(out), "--tag", "planner=base"])
    assert res.exit_code == 0, res.output
    records = {r["task_id"]: r for r in map(json.loads, (out / "episodes.jsonl").read_text().splitlines())}
    assert {k: r["reward"] for k, r in records.items()} == EXPECTED, {k: (r["error"], r["details"]) for k, r in records.items()}
    # One login per site, reused by every task of that site; the reset hook ran for the marked task.
    assert sites.state.logins == {"shop": 1, "admin": 0, "gitlab": 1, "forum": 1}
    assert reset_log.read_text().strip() == f"reset 0 {sites.env['WA_SHOPPING']}"
    # Evidence for each evaluator type.
    ev = {k: r["details"]["evaluators"] for k, r in records.items()}
    assert ev["0"][0]["evidence"]["answer"] == "Your latest order is 000000189"
    assert ev["1"][0]["type"] == "url_match" and ev["1"][0]["checks"][0]["rule"] == "GOLD in PRED"
    assert ev["1"][1]["evidence"]["targets"][0]["url"].endswith("/sales/order/view/order_id/189/")
    assert ev["2"][0]["evidence"]["targets"][0]["located"] == "true"
    assert "correct" in ev["3"][0]["checks"][0]["response"] and ev["3"][0]["checks"][0]["judge"].startswith("scripted")
    assert ev["4"][0]["checks"][0]["rule"] == "EXACT"
    assert ev["4"][1]["evidence"]["targets"][0]["located"] == "Guest"
    assert ev["5"][0]["checks"][0]["rule"] == "fuzzy_match N/A" and "[same]" in ev["5"][0]["checks"][0]["response"]
    assert ev["6"][0]["evidence"]["targets"][0]["url"].endswith("/f/books/59421/")
    assert ev["7"][0]["score"] == 0.0 and ev["7"][1]["score"] == 1.0  # product: the answer is wrong
    assert records["2"]["site"] == "shopping" and records["5"]["site"] == "reddit"
    # The judge's calls are counted as their own role, apart from the agent's totals.
    assert records["3"]["usage"]["judge"]["calls"] == 1 and records["5"]["usage"]["judge"]["calls"] == 1
    assert records["3"]["usage"]["judge"]["prompt_tokens"] > 0 and "judge" not in records["0"]["usage"]
    assert records["3"]["prompt_tokens"] == sum(u["prompt_tokens"] for role, u in records["3"]["usage"].items()
                                                if role != "judge")

    # A second run of the same config resumes: nothing re-runs, no new login.
    res = runner.invoke(app, ["eval", "--suite", "webarena-lite", "--tasks-file", str(tasks_file), "--config",
                              str(config), "--output", str(out), "--sites", "gitlab"])
    assert res.exit_code == 0 and "2 of 2 episodes already done" in res.output, res.output
    assert sites.state.logins["gitlab"] == 1

    # The report: per site (Figure 4 layout), Table 1 cell, cost per role.
    md = runner.invoke(app, ["report", str(out), "--format", "markdown"])
    assert md.exit_code == 0, md.output
    assert "| shopping | 4 | 75.0 |" in md.output and "| reddit | 2 | 100.0 |" in md.output
    assert "| all | 8 | 87.5 |" in md.output
    assert "| base | 87.5 |" in md.output  # replan=never: the "base" planner row, executor "base"
    assert "| run | planner | 1.0 |" in md.output.replace(out.name, "run")
    assert "| run | judge |" in md.output.replace(out.name, "run")
    html_path = tmp / "report.html"
    res = runner.invoke(app, ["report", str(out), "--format", "html", "--out", str(html_path)])
    assert res.exit_code == 0 and "<svg" in html_path.read_text() and "shopping_admin" not in html_path.read_text()


def test_missing_sites_stop_before_running(tmp_path, monkeypatch):
    for var in ("WA_SHOPPING", "WA_SHOPPING_ADMIN", "WA_GITLAB", "WA_REDDIT", "WA_MAP"):
        monkeypatch.delenv(var, raising=False)
    res = CliRunner().invoke(app, ["eval", "--suite", "webarena-lite", "--sites", "gitlab", "--limit", "2",
                                   "--output", str(tmp_path / "run")])
    assert res.exit_code == 2 and "WA_GITLAB" in res.output
    assert not (tmp_path / "run").exists()


def test_embedded_model_runs_and_judges_a_fixture_task(setup, embedded_model):
    """The real embedded model as planner, executor and judge: the episode runs in the browser,
    logged in, and the judge model decides the fuzzy_match (whatever the 135M model answers)."""
    sites, tasks_file, config, _, tmp = setup
    cfg = json.loads(config.read_text())
    cfg["models"] = {"planner": "local:smollm2-135m", "executor": "local:smollm2-135m"}
    cfg["agent"] = {"replan": "never", "max_steps": 2}
    cfg["eval"]["judge"] = "local:smollm2-135m"
    config.write_text(json.dumps(cfg))
    out = tmp / "embedded"
    res = CliRunner().invoke(app, ["eval", "--suite", "webarena-lite", "--tasks-file", str(tasks_file), "--config",
                                   str(config), "--output", str(out), "--task-ids", "3"])
    assert res.exit_code == 0, res.output
    [rec] = map(json.loads, (out / "episodes.jsonl").read_text().splitlines())
    assert rec["status"] != "error", rec["error"]
    assert rec["steps"] >= 1 and sites.state.logins["gitlab"] == 1
    [check] = rec["details"]["evaluators"][0]["checks"]
    assert check["rule"] == "fuzzy_match" and "smollm2" in check["judge"] and check["response"]
    assert rec["reward"] in (0.0, 1.0) and rec["usage"]["executor"]["calls"] >= 1


def recorded_run(runner, tasks_file, config, out, tasks):
    """A finished webarena-lite eval of `tasks` on the fixture sites, as rescore finds it."""
    res = runner.invoke(app, ["eval", "--suite", "webarena-lite", "--tasks-file", str(tasks_file), "--config",
                              str(config), "--output", str(out), "--tasks", tasks])
    assert res.exit_code == 0, res.output


def test_rescore_scores_a_recorded_run_again_without_the_agent(setup):
    """A run scored with a named option (no-slash-split, VAB before 521d7e9) is rescored under the
    pinned harness: the one check the option decided changes, nothing else; the original is untouched."""
    sites, tasks_file, config, reset_log, tmp = setup
    hrefs = task(8, "gitlab", "Open the members page of byteblaze/dotfiles", "__GITLAB__/byteblaze/dotfiles",
                 {"eval_types": ["program_html"], "program_html": [
                     {"url": "__GITLAB__/byteblaze/dotfiles", "required_contents": {"must_include": ["project_members"]},
                      "locator": "[...document.querySelectorAll('a')].map(a => a.getAttribute('href')).join(' ')"}]})
    tasks_file.write_text(json.dumps([*TASKS, hrefs]))
    cfg = json.loads(config.read_text())
    cfg["eval"]["webarena"]["scoring_options"] = ["no-slash-split"]
    config.write_text(json.dumps(cfg))
    out = tmp / "run"
    runner = CliRunner()
    recorded_run(runner, tasks_file, config, out, "0,3,4,8")
    before = (out / "episodes.jsonl").read_bytes()
    old = {r["task_id"]: r for r in map(json.loads, before.decode().splitlines())}
    assert old["8"]["reward"] == 0.0 and old["4"]["reward"] == 1.0 and old["3"]["reward"] == 1.0
    assert old["8"]["details"]["scoring_options"] == ["no-slash-split"]
    assert "with no-slash-split" in old["8"]["details"]["rules_source"]

    res = runner.invoke(app, ["rescore", str(out)])  # the pinned harness's rules, no browser, no judge call
    assert res.exit_code == 0, res.output
    assert "1 scores changed (+1 -0)" in res.output and "1 changed by program_html/must_include" in res.output
    assert (out / "episodes.jsonl").read_bytes() == before  # the original is untouched
    new = {r["task_id"]: r for r in map(json.loads, (out / "rescored" / "pinned" / "episodes.jsonl").read_text()
                                        .splitlines())}
    assert {k: r["reward"] for k, r in new.items()} == {"0": 1.0, "3": 1.0, "4": 1.0, "8": 1.0}
    assert new["8"]["details"]["rescore"] == {"from_score": 0.0, "decided_from": "recorded",
                                              "judge": "recorded verdicts"}
    assert new["3"]["details"]["evaluators"][0]["checks"][0]["judge"] == "recorded verdict"  # fuzzy, not re-asked
    assert (out / "rescored" / "pinned" / new["8"]["trace"]).exists()  # links still reach the traces

    # the same option again changes nothing; a rescore never overwrites; report shows both runs
    res = runner.invoke(app, ["rescore", str(out), "--option", "no-slash-split"])
    assert res.exit_code == 0 and "0 scores changed" in res.output, res.output
    again = runner.invoke(app, ["rescore", str(out)])
    assert again.exit_code != 0 and "never overwrites" in str(again.exception or again.output)
    md = runner.invoke(app, ["report", str(out), str(out / "rescored" / "pinned"), "--format", "markdown"])
    assert md.exit_code == 0 and "| run | webarena-lite |" in md.output.replace(out.name, "run") and \
        "| pinned | webarena-lite |" in md.output, md.output


def test_rescore_goes_to_the_live_site_only_when_asked(setup):
    sites, tasks_file, config, reset_log, tmp = setup
    out = tmp / "run"
    runner = CliRunner()
    recorded_run(runner, tasks_file, config, out, "4")
    # a page too long to keep: its located text was recorded cut short, as for any target over 4,000 chars
    rec = json.loads((out / "episodes.jsonl").read_text())
    target = rec["details"]["evaluators"][1]["evidence"]["targets"][1]
    target["located"] = target["located"][:100] + "… (9000 chars)"
    (out / "episodes.jsonl").write_text(json.dumps(rec) + "\n")
    res = runner.invoke(app, ["rescore", str(out)])
    assert res.exit_code == 0 and "1 kept their old score: program_html needs the live site" in res.output
    res = runner.invoke(app, ["rescore", str(out), "--live", "--config", str(config)])
    assert res.exit_code == 0 and "needs the live site" not in res.output, res.output
    new = json.loads((out / "rescored" / "pinned+live" / "episodes.jsonl").read_text())
    assert new["reward"] == 1.0 and new["details"]["rescore"]["decided_from"] == "live", json.dumps(new["details"])[:3000]
