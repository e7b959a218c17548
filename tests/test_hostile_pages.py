"""Pages that hang, loop dialogs or are too large, served on loopback: every episode ends within
its limit with the expected status, its trace and record written, and the browser works afterwards."""

from __future__ import annotations

import json
import re
import time

import pytest
from support.hostile import HostileSites

from planact.agent import AgentConfig, PlanActAgent
from planact.bench.adhoc import AdHocSuite
from planact.bench.runner import RunSettings, run_episode
from planact.llm.scripted import ScriptedLLM
from planact.web import BrowserOptions, BrowserSession, ObservationOptions
from planact.web.env import BrowserEnv

pytestmark = pytest.mark.browser
LIMIT = 4.0


@pytest.fixture(scope="module")
def sites():
    with HostileSites() as both:
        yield both


@pytest.fixture(scope="module")
def browser():
    with BrowserSession(BrowserOptions(page_timeout_s=LIMIT)) as s:
        yield s


def click_first_button(messages):
    page = messages[-1].content
    m = re.search(r'<button id="(\d+)"', page)
    return f'do(action="Click", element="{m.group(1)}")' if m else 'do(action="Scroll Down")'


def episode(browser, tmp_path, url, executor=None, **cfg):
    suite = AdHocSuite(url, "Press the button")
    agent = PlanActAgent(executor=executor or ScriptedLLM(click_first_button),
                         config=AgentConfig(use_planner=False, **{"max_steps": 3, **cfg}))
    started = time.perf_counter()
    rec = run_episode(suite, browser, agent, "adhoc", None, tmp_path,
                      RunSettings(BrowserOptions(page_timeout_s=LIMIT), ObservationOptions()))
    trace = json.loads((tmp_path / rec.trace).read_text())
    return rec, trace, time.perf_counter() - started


@pytest.mark.parametrize("path,where", [("/busy-inline", "loading the task"),
                                        ("/busy-after-load", "while"),  # observing, or acting: a race
                                        ("/busy-on-click", "carrying out Click"),
                                        ("/alert-loop", "carrying out Click")])
def test_a_page_that_hangs_ends_the_episode_as_timeout_within_its_limit(sites, browser, tmp_path, path, where):
    site, _ = sites
    rec, trace, took = episode(browser, tmp_path, site.url + path)
    assert rec.status == "timeout" and where in rec.error and "restarted" in rec.error
    assert took < LIMIT * 2 + 10
    assert (tmp_path / rec.trace).exists() and (tmp_path / rec.report).exists()
    # the next episode gets a working browser
    ok, _, _ = episode(browser, tmp_path / "next", site.url + "/ok", max_steps=1)
    assert ok.status == "max_steps" and ok.error is None


def test_a_dialog_is_dismissed_and_reported_to_the_agent(sites, browser, tmp_path):
    site, _ = sites
    executor = ScriptedLLM(click_first_button)
    rec, trace, _ = episode(browser, tmp_path, site.url + "/alert-once", executor, max_steps=2, max_repeats=9)
    assert rec.error is None
    assert trace["steps"][0]["page_notice"] == "the page opened a dialog, which was dismissed: alert: Saved!"
    assert "page: the page opened a dialog, which was dismissed: alert: Saved!" in executor.calls[1][0][-1].content


def test_a_huge_page_is_observed_within_its_time_budget(sites, browser):
    site, _ = sites
    browser.new_context()
    browser.goto(site.url + "/huge")
    env = BrowserEnv(browser, ObservationOptions(max_ms=1000, token_budget=4000), screenshots=False)
    started = time.perf_counter()
    obs = env.observe()
    took = time.perf_counter() - started
    assert obs.truncated and took < 8
    assert "observation stopped early" in obs.html or "observation truncated" in obs.html
    assert obs.tokens <= 4100


def test_an_episode_time_limit_ends_a_slow_episode(sites, browser, tmp_path):
    site, _ = sites

    def slow(messages):
        time.sleep(0.8)
        return 'do(action="Scroll Down")'

    rec, trace, took = episode(browser, tmp_path, site.url + "/ok", ScriptedLLM(slow), max_steps=20,
                               max_repeats=99, episode_timeout_s=2.0)
    assert rec.status == "timeout" and "episode time limit (2 s)" in rec.error
    assert 2 <= len(trace["steps"]) <= 4 and took < 10
