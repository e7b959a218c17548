"""Rule-based stand-ins for judge models: they read the judge prompt as a model would and answer in
the words the harness's decision rule looks for."""

from __future__ import annotations

import re


def _field(text: str, name: str) -> str:
    m = re.search(rf"^{re.escape(name)}:\s*(.*)$", text, re.M)
    return m.group(1).strip() if m else ""


def fuzzy(messages) -> str:
    """correct when every comma-separated part of the reference appears in the answer."""
    user = messages[-1].content
    if "Report_1" in user:  # the N/A (unachievable) prompt
        reason, report = _field(user, "Reason_1").lower(), _field(user, "Report_1").lower()
        key = [w for w in re.findall(r"[a-z0-9]+", reason) if len(w) > 3]
        return "The report names the reason. [same]" if key and all(w in report for w in key) else \
            "It does not. [different]"
    ref, ans = _field(user, "Reference answer").lower(), _field(user, "Student answer").lower()
    parts = [p.strip() for p in ref.split(",") if p.strip()]
    return "Matches the reference. correct" if parts and all(p in ans for p in parts) else "Verdict: incorrect"


def web_task(messages) -> str:
    """SUCCESS when the answer contains the reference answer's first quoted phrase."""
    user = messages[-1].content
    answer = _field(user, "Agent's final answer").lower()
    ref = re.search(r"Reference answer \(\w+\): (.*)", user)
    wanted = re.findall(r"'([^']+)'", ref.group(1)) if ref else []
    ok = bool(wanted) and wanted[0].lower() in answer
    return "The answer matches the reference.\nSUCCESS" if ok else "The answer does not satisfy the task.\nNOT SUCCESS"
