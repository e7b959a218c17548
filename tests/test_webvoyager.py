"""WebVoyager: tasks and reference answers from the benchmark's files, expired dates, and the
judge that sees the task, the answer, the final page's text and (for vision models) its screenshot."""

from __future__ import annotations

import json
from datetime import date

import pytest
from support import judges
from support.wa_site import FixtureSites
from typer.testing import CliRunner

from planact.bench.judge import Judge
from planact.bench.webvoyager import WebVoyagerSuite, is_expired, mentioned_dates
from planact.cli.main import app
from planact.config import WebVoyagerSettings
from planact.llm.scripted import ScriptedLLM


def test_bundled_tasks_and_references():
    s = WebVoyagerSuite(WebVoyagerSettings(today="2026-11-24"))
    assert len(s.tasks()) == 643 and len({t.site for t in s.tasks()}) == 15
    assert s.reference("Allrecipes--3")["type"] == "golden"
    assert s.site_of("Booking--0") == "Booking"
    assert len(s.select(sites=["Booking"], limit=5)) == 5


def test_expired_dates():
    assert mentioned_dates("from March 15 to March 22, 2024, for two adults") == [date(2024, 3, 22)]
    assert mentioned_dates("departing on 3rd of June 2025") == [date(2025, 6, 3)]
    today = date(2026, 11, 24)
    assert is_expired("Google Flights", "a flight on February 10, 2024", today)
    assert not is_expired("Google Flights", "a flight on February 10, 2027", today)
    assert not is_expired("Booking", "a hotel room on January 3-6", today)  # no year: the next one works
    assert not is_expired("Wolfram Alpha", "the geomagnetic field on June 20, 2023", today)  # history
    s = WebVoyagerSuite(WebVoyagerSettings(today="2026-11-24"))
    expired = [t for t in s.select() if s.expired(t)]
    assert expired and all(s.site_of(t) in ("Booking", "Google Flights") for t in expired)
    skip = WebVoyagerSuite(WebVoyagerSettings(today="2026-11-24", skip_expired=True))
    assert len(skip.select()) == 643 - len(expired)


class VisionScripted(ScriptedLLM):
    accepts_images = True


@pytest.mark.browser
def test_judge_sees_answer_page_and_screenshot(tmp_path):
    from planact.web import BrowserOptions, BrowserSession

    with FixtureSites() as sites:
        tasks = tmp_path / "tasks.jsonl"
        tasks.write_text(json.dumps({"web_name": "Allrecipes", "id": "Allrecipes--3",
                                     "ques": "Find a cookie recipe rated 4.9 stars",
                                     "web": sites.env["WA_SHOPPING"] + "/"}) + "\n")
        judge_llm = VisionScripted(judges.web_task, name="vision-judge")
        suite = WebVoyagerSuite(WebVoyagerSettings(tasks_file=str(tasks)), judge=lambda: Judge(judge_llm))
        with BrowserSession(BrowserOptions()) as session:
            inst = suite.reset(session, "Allrecipes--3", None)
            good = suite.score(session, inst, "Vegan Chocolate Chip, Oatmeal, and Nut Cookies: 4.9 stars")
            bad = suite.score(session, inst, "I could not find one")
    assert good.success and not bad.success
    assert good.details["reference"]["type"] == "golden" and good.details["screenshot_shown"]
    messages = judge_llm.calls[0][0]
    assert messages[-1].images and messages[-1].images[0][:2] == b"\xff\xd8"  # a JPEG screenshot
    assert "One Stop Market" in messages[-1].content  # the final page's text
    assert "NOT SUCCESS" in bad.details["response"]


def test_dry_run_lists_what_webvoyager_needs():
    res = CliRunner().invoke(app, ["eval", "--suite", "webvoyager", "--dry-run", "--sites", "Booking,Google Flights"])
    assert res.exit_code == 0, res.output
    assert "86 WebVoyager tasks on 2 live sites" in res.output and "expired" in res.output
