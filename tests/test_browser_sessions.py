"""Browser sessions of their own: domains are enforced, a dead browser is replaced. (Kept apart from
tests that hold a module-wide browser: Playwright's sync API drives one browser per thread at a time.)"""

from __future__ import annotations

import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from support.miniwob_solvers import responder

from planact.agent import AgentConfig, PlanActAgent
from planact.bench.runner import RunSettings, run_episode
from planact.llm.scripted import ScriptedLLM
from planact.web import BrowserEnv, BrowserError, BrowserOptions, BrowserSession, ObservationOptions, parse_action

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    (root / "index.html").write_text(
        '<a href="http://127.0.0.2:9/elsewhere">Away</a> <a href="/page2.html">Next page</a>')
    (root / "page2.html").write_text("<h1>Second page</h1>")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(root)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_navigation_outside_allowed_domains_is_refused(site):
    port = site.rsplit(":", 1)[1]
    with BrowserSession(BrowserOptions(allow_domains=[f"127.0.0.1:{port}"])) as s:
        s.goto(site + "/index.html")
        env = BrowserEnv(s, screenshots=False)
        obs = env.observe()
        away = next(i for i, e in obs.elements.items() if e.text == "Away")
        result = env.act(parse_action(f'do(action="Click", element="{away}")'))
        assert not result.ok and "refused" in result.error and "127.0.0.2" in result.error
        assert s.page.url.startswith(site)
        nxt = next(i for i, e in env.observe().elements.items() if e.text == "Next page")
        assert env.act(parse_action(f'do(action="Click", element="{nxt}")')).ok
        assert "Second page" in env.observe().html
        assert env.act(parse_action('do(action="Go Backward")')).ok and s.page.url.endswith("index.html")
        with pytest.raises(BrowserError, match="refused"):
            s.goto("http://127.0.0.2:9/")


def test_a_dead_browser_is_restarted_for_the_next_episode(miniwob, tmp_path):
    agent = PlanActAgent(executor=ScriptedLLM(responder("click-button")), config=AgentConfig(use_planner=False))
    settings = RunSettings(BrowserOptions(), ObservationOptions(), screenshots=False)
    with BrowserSession(miniwob.browser_options(BrowserOptions())) as s:
        s._browser.close()  # the browser goes away, as after a crash
        assert not s.alive()
        rec = run_episode(miniwob, s, agent, "click-button", 2, tmp_path, settings)
        assert rec.success and s.restarts == 1
