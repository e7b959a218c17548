"""The WebArena suites as configured by a user: the bundled task files, the dry run over all 165
configs, site addresses from WA_* or the config, task selection, logins and their reuse."""

from __future__ import annotations

import json

import pytest
from support.wa_site import FixtureSites
from typer.testing import CliRunner

from planact.bench.webarena.auth import AuthStore, LoginError
from planact.bench.webarena.sites import SiteMap, UnresolvedSite
from planact.bench.webarena.suite import WebArenaSuite
from planact.cli.main import app
from planact.config import WebArenaSettings

NO_SITES: dict[str, str] = {}


def test_dry_run_validates_all_165_configs(monkeypatch):
    for var in ("WA_SHOPPING", "WA_SHOPPING_ADMIN", "WA_GITLAB", "WA_REDDIT", "WA_MAP"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("WA_GITLAB", "http://gitlab.example:8023")
    res = CliRunner().invoke(app, ["eval", "--suite", "webarena-lite", "--dry-run"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    out = res.output
    assert "165 task configs" in out and "configs with problems │ 0" in out
    assert "string_match 78" in out and "program_html 48" in out and "url_match + program_html 19" in out
    assert "url_match 18" in out and "string_match + url_match 2" in out
    assert "JavaScript compiled in Chromium: 75" in out
    assert "WA_GITLAB  (set)" in out and "WA_SHOPPING  (not set)" in out
    assert "login: gitlab.reddit" in out and "40 tasks with fuzzy_match" in out
    assert "task 81:" in out  # the one config with a string where the harness asserts a list


def test_dry_run_reports_broken_configs(tmp_path):
    bad = [{"task_id": 0, "intent": "x", "sites": ["shopping"], "start_url": "__SHOP__", "require_login": False,
            "eval": {"eval_types": ["string_match", "html_match"], "reference_answers": {"contains": ["a"]},
                     "program_html": []}},
           {"task_id": 1, "intent": "y", "sites": ["gitlab"], "start_url": "__GITLAB__", "require_login": False,
            "eval": {"eval_types": ["program_html"], "reference_answers": None, "program_html": [
                {"url": "last", "locator": "document.querySelector('a'", "required_contents": {"must_include": ["a"]}},
                {"url": "func:os.system('x')", "locator": "xpath://a", "required_contents": {"must_include": ["a"]}}]}}]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    res = CliRunner().invoke(app, ["eval", "--suite", "webarena-lite", "--tasks-file", str(path), "--dry-run"],
                             env={"COLUMNS": "200"})
    assert res.exit_code == 1
    out = " ".join(res.output.split())
    for text in ("unknown placeholder __SHOP__", "eval_type 'html_match' is not supported",
                 "unknown reference_answers rule 'contains'", "locator does not compile",
                 "not a helper call", "unknown locator kind"):
        assert text in out, text


def test_task_files_and_selection():
    lite = WebArenaSuite("webarena-lite", env=NO_SITES)
    full = WebArenaSuite("webarena", env=NO_SITES)
    assert len(lite.tasks()) == 165 and len(full.tasks()) == 812
    by_site = {s: len(lite.select(sites=[s])) for s in ("shopping", "shopping_admin", "gitlab", "map", "reddit",
                                                        "multi-site")}
    assert by_site == {"shopping": 45, "shopping_admin": 35, "gitlab": 30, "map": 26, "reddit": 19, "multi-site": 10}
    assert lite.select(sites=["gitlab"], limit=3) == lite.select(sites=["gitlab"])[:3]
    assert lite.select(task_ids=["7", "3"]) == ["3", "7"]
    with pytest.raises(KeyError, match="no site 'gitlb'"):
        lite.select(sites=["gitlb"])
    assert lite.preflight(lite.select(sites=["map"])) == [
        "set WA_MAP (the sites' addresses) or eval.webarena.sites in the config"]


def test_site_addresses_from_config_or_environment():
    m = SiteMap.from_sources({"shopping": "http://shop.internal:7770/"}, {"WA_SHOPPING": "http://other",
                                                                       "WA_GITLAB": "http://gl:8023"})
    assert m.resolve("__SHOPPING__/x |AND| __GITLAB__") == "http://shop.internal:7770/x |AND| http://gl:8023"
    with pytest.raises(UnresolvedSite, match="WA_REDDIT"):
        m.resolve("__REDDIT__/f/books")
    with pytest.raises(ValueError, match="unknown WebArena site"):
        SiteMap.from_sources({"shop": "http://x"}, {})


@pytest.mark.browser
def test_login_once_reused_and_bad_password_is_clear(tmp_path):
    from planact.web import BrowserOptions, BrowserSession

    with FixtureSites() as sites, BrowserSession(BrowserOptions()) as session:
        store = AuthStore(tmp_path, SiteMap.from_sources(None, sites.env))
        first = store.state_for(session, ["shopping"])
        assert store.state_for(session, ["shopping"]) == first and sites.state.logins["shop"] == 1
        # Another process (a new store on the same folder) reuses the saved state.
        again = AuthStore(tmp_path, SiteMap.from_sources(None, sites.env))
        assert again.state_for(session, ["shopping"]) == first and sites.state.logins["shop"] == 1
        session.new_context(first)
        session.goto(sites.env["WA_SHOPPING"] + "/")
        assert "Welcome, Emma Lopez!" in session.page.content()
        wrong = AuthStore(tmp_path / "w", SiteMap.from_sources(None, sites.env),
                          {"gitlab": ("byteblaze", "wrong")})
        with pytest.raises(LoginError, match="login form is still shown"):
            wrong.state_for(session, ["gitlab"])
        # A suite configured with another account logs in with it.
        suite = WebArenaSuite("webarena-lite", WebArenaSettings(auth_dir=str(tmp_path / "s"),
                                                                accounts={"gitlab": ["byteblaze", "wrong"]}),
                              env=sites.env)
        assert suite.accounts["gitlab"] == ("byteblaze", "wrong")
