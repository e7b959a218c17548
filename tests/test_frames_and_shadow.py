"""Shadow DOM, frames and tabs in the observation and the actions, on loopback pages: a button in an
open shadow root (with a slotted label), one in a same-origin iframe, one in a cross-origin iframe
(served on a second port), a link that opens a new tab, an overlay, and screenshots for vision models."""

from __future__ import annotations

import pytest
from support.loopback import serve

from planact.web import BrowserEnv, BrowserOptions, BrowserSession, parse_action

pytestmark = pytest.mark.browser

MAIN = """<h1>Widgets</h1>
<a href="/inner" target="_blank">Open the frame page in a new tab</a>
<button onclick="window.open('/deep', 'pop', 'width=300,height=200')">Open a popup</button>
<x-card><span slot="title">Slotted title</span></x-card>
<p id="status">nothing yet</p>
<iframe src="/inner" width="400" height="120"></iframe>
<iframe src="{other}/remote" width="400" height="80"></iframe>
<script>
customElements.define('x-card', class extends HTMLElement {{
  constructor() {{
    super();
    const root = this.attachShadow({{mode: 'open'}});
    root.innerHTML = '<div><slot name="title"></slot><button>Shadow button</button><input placeholder="Shadow field"></div>';
    root.querySelector('button').onclick = () => {{ document.getElementById('status').textContent = 'shadow clicked'; }};
  }}
}});
</script>"""
INNER = """<p>Inside the frame</p><button onclick="parent.document.getElementById('status').textContent='frame clicked'">
Frame button</button><select><option>One</option><option>Two</option></select>"""
REMOTE = "<button onclick=\"this.textContent='Remote clicked'\">Remote button</button>"
# a closed shadow root made by a script (seen), one declared in the HTML (not seen: marked), and a
# cross-origin frame holding another cross-origin frame
CLOSED = """<x-secret></x-secret>
<x-declared style="display:block;width:80px;height:20px"><template shadowrootmode="closed"><b>Hidden</b></template></x-declared>
<p id="status">nothing yet</p>
<iframe src="{other}/nest" width="500" height="200"></iframe>
<script>
customElements.define('x-secret', class extends HTMLElement {{
  constructor() {{
    super();
    const root = this.attachShadow({{mode: 'closed'}});
    root.innerHTML = '<button>Closed button</button><input placeholder="Closed field">';
    root.querySelector('button').onclick = () => {{ document.getElementById('status').textContent = 'closed clicked'; }};
  }}
}});
</script>"""
NEST = '<p>Outer remote</p><iframe src="{main}/deep" width="300" height="80"></iframe>'
DEEP = "<button onclick=\"this.textContent='Deep clicked'\">Deep button</button>"
# a cross-origin frame taller than its box, with a button that reacts to the pointer
SCROLLER = '<p style="height:1500px">Top</p><iframe src="{other}/tall" width="400" height="150"></iframe><p style="height:1500px">End</p>'
TALL = ("<button onmouseover=\"this.textContent='Hovered'\">Hover me</button>"
        '<div style="height:3000px">Long</div><p>Bottom</p>')


@pytest.fixture(scope="module")
def site():
    pages = {"/inner": INNER, "/deep": DEEP}
    remote = {"/remote": REMOTE, "/tall": TALL}
    with serve(remote) as other, serve(pages) as main:
        # the remote frame comes from another origin: the other server, under another host name
        other = other.replace("127.0.0.1", "localhost")
        pages["/"] = MAIN.format(other=other)
        pages["/closed"] = CLOSED.format(other=other)
        pages["/scroller"] = SCROLLER.format(other=other)
        remote["/nest"] = NEST.format(main=main)  # and back to the first origin: cross-origin to its parent
        yield main


@pytest.fixture(scope="module")
def env(site):
    with BrowserSession(BrowserOptions()) as s:
        s.goto(site + "/")
        yield BrowserEnv(s, screenshots=False)


def _id(obs, text: str) -> int:
    return next(i for i, e in obs.elements.items() if e.text == text or f'placeholder="{text}"' in obs.snippet(i))


def test_shadow_and_same_origin_frame_content_is_observed_with_ids(env):
    obs = env.observe()
    for text in ("Slotted title", "Shadow button", "Inside the frame", "Frame button"):
        assert text in obs.html, text
    assert 'placeholder="Shadow field"' in obs.html and "<option" in obs.html
    assert "cross-origin" in obs.html and "Remote button" in obs.html  # observed in place, and marked as such
    remote = _id(obs, "Remote button")
    assert remote > 1_000_000  # numbered in the frame's own range
    again = env.observe()
    assert _id(obs, "Shadow button") == _id(again, "Shadow button")  # ids stay stable


def test_actions_work_inside_a_shadow_root_and_a_frame(env):
    obs = env.observe()
    assert env.act(parse_action(f'do(action="Click", element="{_id(obs, "Shadow button")}")')).ok
    assert "shadow clicked" in env.observe().html
    assert env.act(parse_action(f'do(action="Type", argument="hello", element="{_id(obs, "Shadow field")}")')).ok
    assert 'value="hello"' in env.observe().html
    assert env.act(parse_action(f'do(action="Click", element="{_id(obs, "Frame button")}")')).ok
    assert "frame clicked" in env.observe().html
    assert env.act(parse_action(f'do(action="Click", element="{_id(obs, "Remote button")}")')).ok
    assert "Remote clicked" in env.observe().html
    select = next(i for i, e in obs.elements.items() if e.tag == "select")
    assert env.act(parse_action(f'do(action="Select Dropdown Option", argument="Two", element="{select}")')).ok
    assert "Two</option>" in env.observe().html and "selected>Two" in env.observe().html


def test_a_new_tab_is_followed_listed_and_switched(site, env):
    s = env.session
    s.goto(site + "/")
    obs = env.observe()
    assert "Open tabs" not in obs.html  # one tab: nothing to say
    link = _id(obs, "Open the frame page in a new tab")
    assert env.act(parse_action(f'do(action="Click", element="{link}")')).ok
    tab = env.observe()
    assert tab.url.endswith("/inner") and "Frame button" in tab.html  # the new tab is the current page
    assert 'Open tabs: [0] ""' in tab.html and '[1] "" (current)' in tab.html
    assert env.act(parse_action('do(action="Switch Tab", argument="0")')).ok
    assert env.observe().url.endswith("/") and '[0] "" (current)' in env.observe().html
    assert "no tab 5" in env.act(parse_action('do(action="Switch Tab", argument="5")')).error
    s.open_tabs([site + "/inner", site + "/inner"])  # a multi-tab start: the first stays current
    assert len(s.tabs()) == 4 and s.tabs()[0]["current"]
    assert env.act(parse_action('do(action="Close Tab", argument="3")')).ok and len(s.tabs()) == 3
    assert env.act(parse_action('do(action="Switch Tab", argument="2")')).ok
    assert env.act(parse_action('do(action="close_tab")')).ok  # the current one: attention goes to the tab before
    assert len(s.tabs()) == 2 and s.tabs()[1]["current"]
    assert env.act(parse_action('do(action="Close Tab")')).ok
    assert "only open tab" in env.act(parse_action('do(action="Close Tab")')).error
    assert env.act(parse_action(f'do(action="Click", element="{_id(env.observe(), "Open a popup")}")')).ok
    popup = env.observe()  # a window.open popup is followed like a tab
    assert popup.url.endswith("/deep") and "Deep button" in popup.html and len(s.tabs()) == 2
    assert env.act(parse_action('do(action="Close Tab")')).ok and env.observe().url.endswith("/")


def test_a_vision_model_sees_the_screenshot_with_marks_and_a_text_model_does_not(site, env, tmp_path):
    """With a planner and executor that take images, each prompt carries the page's screenshot (with the
    element ids drawn on it, set-of-marks) and the trace says so; a text-only model gets text only."""
    from planact.agent import AgentConfig, PlanActAgent
    from planact.bench.adhoc import AdHocSuite
    from planact.bench.runner import RunSettings, play_episode
    from planact.llm.scripted import ScriptedLLM
    from planact.web import ObservationOptions

    seen = ScriptedLLM(['do(action="Click", element="1")'], name="vision")
    seen.accepts_images = True
    planner = ScriptedLLM(["## Step 1\nReasoning: r\nStep: Look."], name="vision-planner")
    planner.accepts_images = True
    blind = ScriptedLLM(['do(action="Click", element="1")'], name="text")
    settings = RunSettings(BrowserOptions(), ObservationOptions(), screenshots=True, marks=True)
    suite = AdHocSuite(site + "/", "Look at the widgets")
    for executor in (seen, blind):
        agent = PlanActAgent(executor=executor, planner=planner, config=AgentConfig(replan="never", max_steps=1))
        traj = play_episode(suite, env.session, agent, "adhoc", None, settings)
        assert executor.calls, (traj.status, traj.error)
        images = executor.calls[-1][0][-1].images
        if executor is seen:
            assert len(images) == 1 and images[0][:3] == b"\xff\xd8\xff"  # a JPEG
            assert any("screenshot was sent" in n for c in traj.llm_calls if c.role == "executor" for n in c.notes)
        else:
            assert images == ()
    assert planner.calls[0][0][-1].images  # the planner saw the first page too
    assert env.session.page.evaluate("document.getElementById('planact-marks')") is None  # marks removed
    cheap = PlanActAgent(executor=seen, config=AgentConfig(use_planner=False, max_steps=1, image_tokens=300))
    traj = play_episode(suite, env.session, cheap, "adhoc", None, settings)
    import io

    from PIL import Image

    assert max(Image.open(io.BytesIO(seen.calls[-1][0][-1].images[0])).size) <= 512  # scaled down to one tile
    assert any("about 255 tokens" in n for c in traj.llm_calls for n in c.notes)  # one tile within the budget
    off = PlanActAgent(executor=seen, config=AgentConfig(use_planner=False, max_steps=1, vision=False))
    play_episode(suite, env.session, off, "adhoc", None, settings)
    assert seen.calls[-1][0][-1].images == ()  # vision: false keeps it text-only


def test_a_click_on_an_element_under_an_overlay_says_what_covers_it(env, tmp_path):
    page = tmp_path / "banner.html"
    page.write_text('<button onclick="this.textContent=\'clicked\'">Buy</button>'
                    '<div style="position:fixed;inset:0;background:rgba(0,0,0,.5)">'
                    '<button onclick="this.parentNode.remove()">Accept cookies</button></div>')
    env.session.goto(page.as_uri())
    obs = env.observe()
    buy, accept = _id(obs, "Buy"), _id(obs, "Accept cookies")
    result = env.act(parse_action(f'do(action="Click", element="{buy}")'))
    assert not result.ok and "covered by element" in result.error and result.elapsed_s < 2
    assert env.act(parse_action(f'do(action="Click", element="{accept}")')).ok
    assert env.act(parse_action(f'do(action="Click", element="{buy}")')).ok
    assert "clicked" in env.observe().html


def test_closed_shadow_roots_and_frames_in_cross_origin_frames_are_observed_and_acted_on(site, env):
    env.session.goto(site + "/closed")
    obs = env.observe()
    assert "Closed button" in obs.html and 'placeholder="Closed field"' in obs.html  # made by attachShadow
    assert "<x-declared" in obs.html and "closed-shadow" in obs.html and "Hidden" not in obs.html  # marked
    assert "Outer remote" in obs.html and "Deep button" in obs.html  # a frame in a cross-origin frame
    deep = _id(obs, "Deep button")
    assert deep > _id(obs, "Outer remote") > 1_000_000
    assert env.act(parse_action(f'do(action="Click", element="{_id(obs, "Closed button")}")')).ok
    assert "closed clicked" in env.observe().html
    assert env.act(parse_action(f'do(action="Type", argument="psst", element="{_id(obs, "Closed field")}")')).ok
    assert 'value="psst"' in env.observe().html
    assert env.act(parse_action(f'do(action="Click", element="{deep}")')).ok
    assert "Deep clicked" in env.observe().html
    assert _id(env.observe(), "Deep clicked") == deep  # ids stay stable inside nested frames


def test_a_frame_that_cannot_be_read_is_marked_not_dropped(env):
    from types import SimpleNamespace

    raw = {"html": '\n<p id="1">before</p>\n<iframe id="2" cross-origin></iframe>\n<p id="3">after</p>',
           "elements": [{"id": 3, "start": 59, "end": 79}], "frames": [[2, 0, 0]]}
    env._splice_frames(SimpleNamespace(child_frames=[]), raw, {})  # the frame went away meanwhile
    assert '<iframe id="2" cross-origin unreachable></iframe>' in raw["html"]
    assert raw["html"][raw["elements"][0]["start"]:].startswith("\n<p id=\"3\">")


def test_hover_and_scroll_within_a_cross_origin_frame(site, env):
    env.session.goto(site + "/scroller")
    obs = env.observe()
    frame_el = next(i for i, e in obs.elements.items() if e.tag == "iframe")
    assert env.act(parse_action(f'do(action="Hover", element="{_id(obs, "Hover me")}")')).ok  # scrolled to, then hovered
    assert "Hovered" in env.observe().html
    page = env.session.page
    frame = next(f for f in page.frames if f.url.endswith("/tall"))
    page_y, frame_y = page.evaluate("scrollY"), frame.evaluate("scrollY")
    assert env.act(parse_action(f'do(action="Scroll Down", element="{frame_el}")')).ok
    assert frame.evaluate("scrollY") > frame_y and page.evaluate("scrollY") == page_y  # the frame, not the page
    assert env.act(parse_action('do(action="Scroll Down")')).ok
    assert page.evaluate("scrollY") > page_y  # no element: the page, as in WebRL
