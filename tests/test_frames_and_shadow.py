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


@pytest.fixture(scope="module")
def site():
    pages = {"/inner": INNER}
    with serve({"/remote": REMOTE}) as other, serve(pages) as main:
        # the remote frame comes from another origin: the other server, under another host name
        pages["/"] = MAIN.format(other=other.replace("127.0.0.1", "localhost"))
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
        images = executor.calls[-1][0][-1].images
        if executor is seen:
            assert len(images) == 1 and images[0][:3] == b"\xff\xd8\xff"  # a JPEG
            assert any("screenshot was sent" in n for c in traj.llm_calls if c.role == "executor" for n in c.notes)
        else:
            assert images == ()
    assert planner.calls[0][0][-1].images  # the planner saw the first page too
    assert env.session.page.evaluate("document.getElementById('planact-marks')") is None  # marks removed
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
