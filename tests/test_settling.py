"""Settling on events, not sleeps: after an action the agent waits for what the action started (a
navigation a timer begins, a DOM change after a timer or a slow request, a debounced suggestion list)
and for nothing else, served on loopback."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from planact.web import BrowserEnv, BrowserOptions, BrowserSession, parse_action

pytestmark = pytest.mark.browser

PAGES = {
    "/late-nav": """<button onclick="setTimeout(() => { location.href = '/slow-page'; }, 300)">Go</button>""",
    "/slow-page": "SLOW",  # answered after 400 ms
    "/late-dom": """<button onclick="setTimeout(() => { document.body.insertAdjacentHTML('beforeend',
        '<a href=#x>Appeared late</a>'); }, 400)">Show</button>""",
    "/late-fetch": """<button onclick="fetch('/data').then(r => r.text()).then(t => {
        document.body.insertAdjacentHTML('beforeend', '<p>' + t + '</p>'); })">Load</button>""",
    "/data": "DATA",  # answered after 500 ms
    "/debounce": """<input id="q" oninput="clearTimeout(window.t); window.t = setTimeout(() => {
        document.getElementById('s').innerHTML = '<li>' + this.value + ' suggestion</li>'; }, 300)"><ul id="s"></ul>""",
    "/form": """<form method="post" action="/submit"><input name="q" value="x"><button>Save</button></form>""",
    "/done": "<p>Saved after a redirect</p>",
    "/menu": """<div oncontextmenu="event.preventDefault(); this.textContent = 'Menu opened'">Right-click me</div>""",
    "/quiet": """<button onclick="this.textContent = 'Clicked'">Plain</button>
        <script>setInterval(() => {}, 50); (function poll() { setTimeout(poll, 200); })();</script>""",
}


@pytest.fixture(scope="module")
def site():
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_POST(self):  # noqa: N802 - a form post answered with a redirect, after a while
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            time.sleep(0.3)
            self.send_response(302)
            self.send_header("Location", "/done")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self):  # noqa: N802
            body = PAGES.get(self.path.split("?")[0], "missing")
            if body == "SLOW":
                time.sleep(0.4)
                body = "<p>Arrived after a late navigation</p>"
            elif body == "DATA":
                time.sleep(0.5)
                body = "Fetched late"
            data = f"<html><body>{body}</body></html>".encode() if self.path != "/data" else body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def session():
    with BrowserSession(BrowserOptions()) as s:
        yield s


def act(session, site, path, text, call):
    session.goto(site + path)
    env = BrowserEnv(session, screenshots=False)
    obs = env.observe()
    el = next(i for i, e in obs.elements.items() if (e.text == text if text else e.tag == "input"))
    result = env.act(parse_action(call.format(el)))
    return result, env.observe()


def test_a_navigation_a_timer_starts_is_waited_for(session, site):
    result, obs = act(session, site, "/late-nav", "Go", 'do(action="Click", element="{}")')
    assert result.ok and result.settled == "settled"
    assert obs.url.endswith("/slow-page") and "Arrived after a late navigation" in obs.html


def test_a_form_posted_and_redirected_is_waited_for(session, site):
    result, obs = act(session, site, "/form", "Save", 'do(action="Click", element="{}")')
    assert result.ok and result.settled == "settled"
    assert obs.url.endswith("/done") and "Saved after a redirect" in obs.html


def test_a_late_dom_change_and_a_slow_request_are_waited_for(session, site):
    result, obs = act(session, site, "/late-dom", "Show", 'do(action="Click", element="{}")')
    assert result.settled == "settled" and "Appeared late" in obs.html
    result, obs = act(session, site, "/late-fetch", "Load", 'do(action="Click", element="{}")')
    assert result.settled == "settled" and "Fetched late" in obs.html and result.elapsed_s >= 0.5


def test_a_debounced_suggestion_list_is_waited_for(session, site):
    result, obs = act(session, site, "/debounce", "", 'do(action="Type", argument="kettle", element="{}")')
    assert result.settled == "settled" and "kettle suggestion" in obs.html


def test_background_timers_do_not_hold_up_an_action(session, site):
    """A page that polls forever: the action's own effect is quick, and so is the wait."""
    result, obs = act(session, site, "/quiet", "Plain", 'do(action="Click", element="{}")')
    assert result.settled == "settled" and "Clicked" in obs.html
    assert result.elapsed_s < 1.0


def test_the_rest_of_the_webrl_actions_work(session, site):
    """Right Click, Wait, Goto and Switch Tab, as WebRL's and the paper's prompts spell them."""
    result, obs = act(session, site, "/menu", "Right-click me", 'do(action="Right Click", element="{}")')
    assert result.ok and "Menu opened" in obs.html
    env = BrowserEnv(session, screenshots=False)
    waited = env.act(parse_action('do(action="Wait", argument="0.3")'))
    assert waited.ok and waited.elapsed_s >= 0.3
    went = env.act(parse_action(f'do(action="goto", argument="{site}/done")'))
    assert went.ok and "Saved after a redirect" in env.observe().html
    assert "full address" in env.act(parse_action('do(action="Goto", argument="done")')).error
    assert env.act(parse_action('do(action="Switch Tab", argument="0")')).ok
    assert "no tab" in env.act(parse_action('do(action="Switch Tab", argument="3")')).error
