"""The allow-list at the network layer, against a 'forbidden' loopback server whose request log
must stay empty: redirects (as start URL and as a clicked link), subresources, fetch, beacons,
websockets, frames, a page's own redirect and a form POST never reach it; the agent is told, and
stays on the page it was on."""

from __future__ import annotations

import re

import pytest
from support.hostile import HostileSites

from planact.web import BrowserOptions, BrowserSession, ObservationOptions
from planact.web.actions import Action
from planact.web.browser import BrowserError
from planact.web.env import BrowserEnv

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def sites():
    with HostileSites() as both:
        yield both


@pytest.fixture
def contained(sites):
    site, forbidden = sites
    forbidden.log.clear()
    with BrowserSession(BrowserOptions(allow_domains=[site.host])) as s:
        yield s, site, forbidden


def element(obs, text):
    m = re.search(rf'<(?:a|button) id="(\d+)"[^>]*>{text}<', obs.html)
    return int(m.group(1))


def test_a_start_url_that_redirects_to_a_forbidden_host_is_refused(contained):
    session, site, forbidden = contained
    with pytest.raises(BrowserError, match=f"redirects to {forbidden.url}/stolen, which is not in the allowed"):
        session.goto(site.url + "/redirect-away")
    assert forbidden.log == [] and "forbidden content" not in session.page.content()


def test_a_clicked_link_that_redirects_away_is_feedback_and_the_agent_stays(contained):
    session, site, forbidden = contained
    session.goto(site.url + "/ok")
    env = BrowserEnv(session, ObservationOptions(), screenshots=False)
    result = env.act(Action("Click", element=element(env.observe(), "Away")))
    assert not result.ok and result.error == f"navigation to {forbidden.url}/stolen was refused: that site is not allowed"
    assert session.page.url == site.url + "/ok" and "Fine page" in env.observe().html
    result = env.act(Action("Click", element=element(env.observe(), "Next")))  # an allowed link still works
    assert result.ok and session.page.url == site.url + "/ok2"
    assert forbidden.log == []


def test_subresources_fetch_beacons_websockets_and_frames_never_leave(contained):
    session, site, forbidden = contained
    session.goto(site.url + "/subresources")
    wanted = ("/img.png", "/style.css", "/fetch", "/beacon", "/ws", "/frame")
    for _ in range(50):  # the page asks for them as it loads
        refused = " ".join(session.refused_requests + session.refused_navigations)
        if all(w in refused for w in wanted):
            break
        session.page.wait_for_timeout(100)  # route handlers run while Playwright is called
    assert all(w in refused for w in wanted), refused
    assert forbidden.log == []


def test_a_pages_own_redirect_is_refused_and_reported_on_the_next_action(contained):
    session, site, forbidden = contained
    session.goto(site.url + "/page-redirect")
    env = BrowserEnv(session, ObservationOptions(), screenshots=False)
    session.page.wait_for_timeout(600)
    assert session.page.url == site.url + "/page-redirect" and "Leaving" in env.observe().html
    result = env.act(Action("Scroll Down"))
    assert result.error == f"navigation to {forbidden.url}/page-redirect-target was refused: that site is not allowed"
    assert forbidden.log == []


def test_a_form_post_to_a_forbidden_host_is_refused(contained):
    session, site, forbidden = contained
    session.goto(site.url + "/form")
    env = BrowserEnv(session, ObservationOptions(), screenshots=False)
    result = env.act(Action("Click", element=element(env.observe(), "Send")))
    assert "/post was refused" in result.error and session.page.url == site.url + "/form"
    assert forbidden.log == []


def test_without_an_allow_list_everything_is_reachable(sites):
    site, forbidden = sites
    forbidden.log.clear()
    with BrowserSession(BrowserOptions()) as s:
        s.goto(site.url + "/redirect-away")
        assert "forbidden content" in s.page.content() and "GET /stolen" in forbidden.log
