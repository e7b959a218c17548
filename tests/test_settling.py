"""Settling on events, not sleeps: after an action the agent waits for what the action started (a
navigation a timer begins, a DOM change after a timer or a slow request, a debounced suggestion list)
and for nothing else, served on loopback."""

from __future__ import annotations

import time

import pytest
from support.loopback import serve

from planact.web import BrowserEnv, BrowserOptions, BrowserSession, parse_action

pytestmark = pytest.mark.browser

PAGES = {
    "/late-nav": """<button onclick="setTimeout(() => { location.href = '/slow-page'; }, 300)">Go</button>""",
    "/late-dom": """<button onclick="setTimeout(() => { document.body.insertAdjacentHTML('beforeend',
        '<a href=#x>Appeared late</a>'); }, 400)">Show</button>""",
    "/late-fetch": """<button onclick="fetch('/data').then(r => r.text()).then(t => {
        document.body.insertAdjacentHTML('beforeend', '<p>' + t + '</p>'); })">Load</button>""",
    "/debounce": """<input id="q" oninput="clearTimeout(window.t); window.t = setTimeout(() => {
        document.getElementById('s').innerHTML = '<li>' + this.value + ' suggestion</li>'; }, 300)"><ul id="s"></ul>""",
    "/form": """<form method="post" action="/submit"><input name="q" value="x"><button>Save</button></form>""",
    "/done": "<p>Saved after a redirect</p>",
    "/menu": """<div oncontextmenu="event.preventDefault(); this.textContent = 'Menu opened'">Right-click me</div>""",
    "/quiet": """<button onclick="this.textContent = 'Clicked'">Plain</button>
        <script>setInterval(() => {}, 50); (function poll() { setTimeout(poll, 200); })();</script>""",
    # every click anywhere sets a 300 ms timer that closes the menu if it is open (as jQuery UI's menus do)
    "/collapse": """<button onclick="document.getElementById('m').hidden = false">Open menu</button>
        <button onclick="document.getElementById('n').textContent = 'Other clicked'">Other</button><p id="n"></p>
        <ul id="m" hidden><li>Menu item</li></ul>
        <script>document.addEventListener('click', (e) => setTimeout(() => {
          const m = document.getElementById('m'); if (!m.hidden && e.target.textContent !== 'Open menu') m.hidden = true;
        }, 300));</script>""",
    "/locked": """<input id="d" type="text" readonly placeholder="Date"><input type="text" disabled placeholder="Off">""",
    "/options": """<select id="s" onchange="document.getElementById('o').textContent = 'Chose ' + this.value">
        <option>Ecuador</option><option>Trinidad and Tobago</option><option disabled>Closed</option></select>
        <p id="o"></p>""",
}


def _late(seconds: float, status: int, headers: dict[str, str], body: str):
    def answer(_method: str) -> tuple[int, dict[str, str], bytes]:
        time.sleep(seconds)
        return status, headers, body.encode()
    return answer


@pytest.fixture(scope="module")
def site():
    pages = {path: f"<html><body>{body}</body></html>" for path, body in PAGES.items()}
    pages["/slow-page"] = _late(0.4, 200, {}, "<html><body><p>Arrived after a late navigation</p></body></html>")
    pages["/data"] = _late(0.5, 200, {}, "Fetched late")
    pages["/submit"] = _late(0.3, 302, {"Location": "/done"}, "")  # a form post answered with a redirect
    with serve(pages) as url:
        yield url


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


def test_a_timer_that_last_changed_nothing_is_not_awaited_again(session, site):
    """A click-anywhere timer that closes nothing is waited for once; then not, until it has an effect
    again. A timer with an effect is always waited for."""
    session.goto(site + "/collapse")
    env = BrowserEnv(session, screenshots=False)

    def click(text: str):
        obs = env.observe()
        el = next(i for i, e in obs.elements.items() if e.text == text)
        return env.act(parse_action(f'do(action="Click", element="{el}")'))

    first = click("Other")
    assert first.settled == "settled" and first.elapsed_s >= 0.3
    second = click("Other")
    assert "known to change nothing" in second.settled and second.elapsed_s < 0.25
    assert "Other clicked" in env.observe().html
    time.sleep(0.4)  # its timer has fired (closing nothing) before the menu opens
    click("Open menu")
    assert "Menu item" in env.observe().html
    time.sleep(0.4)
    closing = click("Other")  # this one's timer closes the menu: not awaited (its site changed nothing last)
    time.sleep(0.4)
    assert "Menu item" not in env.observe().html
    again = click("Other")  # the site had an effect: waited for again
    assert again.settled == "settled" and again.elapsed_s >= 0.3
    assert closing.ok
    for _ in range(2):  # a late DOM change is waited for every time
        result, obs = act(session, site, "/late-dom", "Show", 'do(action="Click", element="{}")')
        assert result.settled == "settled" and "Appeared late" in obs.html


def test_typing_into_a_read_only_field_fails_at_once(session, site):
    """A read-only (date picker) or disabled field: a clear failure now, not Playwright's 5 s wait."""
    session.goto(site + "/locked")
    env = BrowserEnv(session, screenshots=False)
    obs = env.observe()
    for el in sorted(i for i, e in obs.elements.items() if e.tag == "input"):
        result = env.act(parse_action(f'do(action="Type", argument="12/19/2016", element="{el}")'))
        assert not result.ok and "read-only or disabled" in result.error and result.elapsed_s < 1.0


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


def test_clicking_an_option_picks_it(session, site):
    """An <option> has no box to click: clicking it picks it in its list, as a person does in the opened
    list, and the page hears the change; a disabled option says so."""
    session.goto(site + "/options")
    env = BrowserEnv(session, screenshots=False)
    obs = env.observe()
    option = next(i for i, e in obs.elements.items() if e.text == "Trinidad and Tobago")
    assert env.act(parse_action(f'do(action="Click", element="{option}")')).ok
    assert "Chose Trinidad and Tobago" in env.observe().html
    closed = next(i for i, e in obs.elements.items() if e.text == "Closed")
    assert "disabled" in env.act(parse_action(f'do(action="Click", element="{closed}")')).error
