"""Simplified-HTML observations in a real Chromium."""

from __future__ import annotations

import re

import pytest

from planact.web import BrowserEnv, BrowserOptions, BrowserSession, ObservationOptions, parse_action

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def shop(fixtures_dir):
    with BrowserSession(BrowserOptions()) as s:
        s.goto((fixtures_dir / "shop.html").as_uri())
        yield s


def test_every_clickable_element_is_kept_with_an_id(shop):
    obs = BrowserEnv(shop, screenshots=False).observe()
    clickable = shop.page.evaluate("""() => [...document.querySelectorAll(
        'a, button, input, select, textarea, [role=button], [onclick], .pointer')]
        .filter(e => e.checkVisibility({checkVisibilityCSS: true}))
        .map(e => e.getAttribute('data-planact-id'))""")
    assert clickable and all(c is not None for c in clickable), "a visible clickable element got no id"
    ids = {int(c) for c in clickable}
    assert ids <= set(obs.elements)
    for i in ids:
        assert f'id="{i}"' in obs.html
    for text in ("Home", "Search", "Free shipping", "Role button", "Add an item", "Pointer card", "Kettle $12"):
        assert text in obs.html
    assert 'placeholder="Search products"' in obs.html and 'alt="Shop logo"' in obs.html


def test_hidden_scripts_and_styles_are_dropped(shop):
    obs = BrowserEnv(shop, screenshots=False).observe()
    for gone in ("Hidden button", "Ghost button", "Inside hidden", "addItem", "visibility", "<script", "<style"):
        assert gone not in obs.html
    assert obs.raw_html_chars > len(obs.html)


def test_ids_are_stable_across_steps(shop):
    env = BrowserEnv(shop, screenshots=False)
    first = env.observe()
    search_id = next(i for i, e in first.elements.items() if e.tag == "input" and "search" in first.html)
    add = next(i for i, e in first.elements.items() if e.text == "Add an item")
    assert env.act(parse_action(f'do(action="Type", argument="kettle", element="{search_id}")')).ok
    assert env.act(parse_action(f'do(action="Click", element="{add}")')).ok
    second = env.observe()
    for i, e in first.elements.items():  # same node, same id, same tag
        assert second.elements[i].tag == e.tag
    new = set(second.elements) - set(first.elements)
    assert [second.elements[i].text for i in new] == ["Added item"]
    assert 'value="kettle"' in second.html
    assert env.act(parse_action(f'do(action="Click", element="{add}")')).ok
    third = env.observe()
    assert set(second.elements) < set(third.elements)  # old ids survive, new ones are fresh


def test_token_budget_cuts_with_a_visible_marker(shop):
    obs = BrowserEnv(shop, ObservationOptions(token_budget=60), screenshots=False).observe()
    assert obs.truncated and obs.tokens <= 80
    assert re.search(r"observation truncated here \(\d+ of \d+ elements not shown\)", obs.html)
    assert all(f'id="{i}"' in obs.html for i in obs.elements)


def test_viewport_only_drops_offscreen_content(shop):
    shop.page.set_viewport_size({"width": 1280, "height": 200})
    try:
        shop.page.evaluate("""document.body.insertAdjacentHTML('beforeend',
            '<div style="height:3000px"></div><button>Far below</button>')""")
        full = BrowserEnv(shop, screenshots=False).observe()
        near = BrowserEnv(shop, ObservationOptions(viewport_only=True), screenshots=False).observe()
    finally:
        shop.page.set_viewport_size({"width": 1280, "height": 720})
    assert "Far below" in full.html and "Far below" not in near.html and "Home" in near.html


def test_snippet_for_history_is_short_and_names_the_element(shop):
    obs = BrowserEnv(shop, screenshots=False).observe()
    kettle = next(i for i, e in obs.elements.items() if e.text == "Kettle $12")
    snip = obs.snippet(kettle)
    assert f'id="{kettle}"' in snip and "Kettle $12" in snip and len(snip) < len(obs.html) / 2


def test_impossible_actions_become_feedback(shop):
    env = BrowserEnv(shop, screenshots=False)
    obs = env.observe()
    r = env.act(parse_action('do(action="Click", element="99999")'))
    assert not r.ok and "no element with id 99999" in r.error
    hidden = shop.page.evaluate("""() => { const b = document.querySelector('.hidden');
        b.setAttribute('data-planact-id', '777'); return 777; }""")
    r = env.act(parse_action(f'do(action="Click", element="{hidden}")'))
    assert not r.ok and "not visible" in r.error
    sort = next(i for i, e in obs.elements.items() if e.tag == "select")
    assert env.act(parse_action(f'do(action="Select Dropdown Option", argument="Price", element="{sort}")')).ok
    assert shop.page.eval_on_selector("#sort", "e => e.value") == "Price"
    heading = next(i for i, e in obs.elements.items() if e.tag == "h1")
    r = env.act(parse_action(f'do(action="Select Dropdown Option", argument="x", element="{heading}")'))
    assert not r.ok and "not a <select>" in r.error


PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360f8cf"
    "c0f01f0005000201a5f6a3a50000000049454e44ae426082")


@pytest.fixture()
def slow_icon_site():
    """A page whose only control is an icon drawn by a CSS `content: url()` image that arrives late,
    as MiniWoB's social-media icons are."""
    import threading
    import time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    page = (b"<html><head><style>.like { content: url(/like.png); height: 14px; }</style></head><body>"
            b"<p>A post</p><span class='like'></span></body></html>")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            if self.path == "/like.png":
                time.sleep(0.6)
                body, kind = PNG_1X1, "image/png"
            else:
                body, kind = page, "text/html"
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


def test_an_icon_whose_image_arrives_late_is_still_observed(slow_icon_site, shop, fixtures_dir):
    try:
        shop.goto(slow_icon_site)
        env = BrowserEnv(shop, screenshots=False)
        obs = env.observe()
        assert 'class="like"' in obs.html, obs.html
        like = next(i for i in obs.elements if 'class="like"' in obs.snippet(i))
        assert env.act(parse_action(f'do(action="Click", element="{like}")')).ok
    finally:
        shop.goto((fixtures_dir / "shop.html").as_uri())


def test_a_typed_password_shows_masked(shop, tmp_path, fixtures_dir):
    """The agent sees that it filled a password field (and how many characters), never the text."""
    page = tmp_path / "login.html"
    page.write_text('<label>Password <input id="p" type="password"></label><button>Login</button>')
    shop.goto(page.as_uri())
    try:
        env = BrowserEnv(shop, screenshots=False)
        before = env.observe()
        field = next(i for i, e in before.elements.items() if e.tag == "input")
        assert "value=" not in before.html
        assert env.act(parse_action(f'do(action="Type", argument="s3cret", element="{field}")')).ok
        after = env.observe()
    finally:
        shop.goto((fixtures_dir / "shop.html").as_uri())
    assert f'<input id="{field}" type="password" value="******">' in after.html and "s3cret" not in after.html
