"""Every MiniWoB task loads and starts; the domain allow-list rules."""

from __future__ import annotations

import pytest

from planact.web import host_allowed

pytestmark = pytest.mark.browser


def test_all_miniwob_tasks_load_and_start(miniwob, session):
    tasks = miniwob.tasks()
    assert len(tasks) >= 125
    failures = {}
    for t in tasks:
        try:
            inst = miniwob.reset(session, t.id, seed=1)
            assert inst.goal, "empty utterance"
            assert not miniwob.finished(session, inst)
        except Exception as err:  # noqa: BLE001 - collected and reported together
            failures[t.id] = str(err)[:200]
    assert not failures, failures


def test_unknown_task_suggests_names(miniwob):
    with pytest.raises(KeyError, match="did you mean click-button"):
        miniwob.task_path("click-buton")


@pytest.mark.parametrize("url,allow,ok", [
    ("https://shop.example.com/x", ["example.com"], True),
    ("https://evil.com/x", ["example.com"], False),
    ("http://localhost:7770/", ["localhost:7770"], True),
    ("http://localhost:9999/", ["localhost:7770"], False),
    ("file:///tmp/x.html", ["example.com"], True),
    ("https://anything.org", [], True),
])
def test_host_allow_list(url, allow, ok):
    assert host_allowed(url, allow) is ok
