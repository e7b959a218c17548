"""`planact eval --suite webarena-lite --dry-run`: check every task config without a site, and say
what a real run needs (site addresses, logins, a judge model, the shop's REST API, resets)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

from .evaluators import EVAL_TYPES
from .helpers import HelperError, parse_call
from .sites import ENV_VARIABLES, PLACEHOLDERS, SITE_OF_PLACEHOLDER, placeholders
from .suite import WebArenaSuite, needs_judge
from .tasks import WebArenaTask

ANSWER_RULES = {"exact_match", "must_include", "fuzzy_match", "must_exclude", "one_of", "required_values"}
CONTENT_RULES = {"exact_match", "must_include", "must_exclude", "required_values", "fuzzy_match"}
URL_RULES = {"GOLD in PRED", "EXACT"}


@dataclass
class DryRunReport:
    suite: str
    tasks: int
    problems: dict[str, list[str]] = field(default_factory=dict)  # task id -> problems
    warnings: dict[str, list[str]] = field(default_factory=dict)  # task id -> scored, but not as written
    eval_types: Counter = field(default_factory=Counter)
    rules: Counter = field(default_factory=Counter)
    locators: Counter = field(default_factory=Counter)
    sites: Counter = field(default_factory=Counter)
    variables: dict[str, int] = field(default_factory=dict)  # WA_* variable -> tasks that need it
    unset: list[str] = field(default_factory=list)
    logins: Counter = field(default_factory=Counter)
    judge_tasks: int = 0
    rest_api_tasks: int = 0
    reset_tasks: int = 0
    multi_tab_tasks: int = 0
    locators_compiled: int | None = None  # JS locators compiled in Chromium (None: not checked)

    @property
    def ok(self) -> bool:
        return not self.problems


def _check_locator(locator: str, problems: list[str], js: list[str], report: DryRunReport) -> None:
    if not locator.strip():
        report.locators["whole page"] += 1
    elif locator.startswith(("document.", "[...document.")):
        report.locators["JavaScript"] += 1
        js.append(locator)
    elif locator.startswith("func:"):
        report.locators["func: helper"] += 1
        try:
            parse_call(locator.split("func:", 1)[1])
        except HelperError as err:
            problems.append(f"locator: {err}")
    else:
        problems.append(f"unknown locator kind: {locator[:60]!r}")


def check_task(task: WebArenaTask, report: DryRunReport, js: list[tuple[str, str]]) -> list[str]:
    c = task.config
    problems: list[str] = []
    warn = report.warnings.setdefault(task.id, [])
    for key in ("task_id", "intent", "start_url", "sites", "eval"):
        if key not in c:
            problems.append(f"missing {key!r}")
    if problems:
        return problems
    text = json.dumps(c)
    for p in placeholders(text):
        if p not in SITE_OF_PLACEHOLDER:
            problems.append(f"unknown placeholder {p} (known: {', '.join(PLACEHOLDERS.values())})")
    if not placeholders(str(c["start_url"])) and not str(c["start_url"]).startswith("http"):
        problems.append(f"start_url {c['start_url']!r} is neither a placeholder nor a URL")
    ev = c["eval"]
    types = ev.get("eval_types") or []
    if not types:
        problems.append("no eval_types")
    report.eval_types[" + ".join(types)] += 1
    for kind in types:
        if kind not in EVAL_TYPES:
            problems.append(f"eval_type {kind!r} is not supported")
    if "string_match" in types:
        answers = ev.get("reference_answers") or {}
        if not answers:
            problems.append("string_match without reference_answers")
        for rule, value in answers.items():
            report.rules[f"answer {rule}" + (" (N/A)" if value == "N/A" else "")] += 1
            if rule not in ANSWER_RULES:
                problems.append(f"unknown reference_answers rule {rule!r}")
            elif rule == "fuzzy_match" and value == "N/A" and not ev.get("string_note"):
                problems.append("fuzzy_match N/A without string_note (the reason the judge checks)")
            elif rule in ("must_include", "must_exclude", "one_of", "required_values") and not isinstance(value, list):
                warn.append(f"{rule} is {value!r}, not a list: the harness would stop on its assertion; "
                            "planact scores it as a one-item list")
    if "url_match" in types:
        report.rules[f"url {ev.get('url_note') or 'default rule'}"] += 1
        if not ev.get("reference_url"):
            problems.append("url_match without reference_url")
        if ev.get("url_note") and ev["url_note"] not in URL_RULES:
            problems.append(f"unknown url_note {ev['url_note']!r}")
    if "program_html" in types:
        targets = ev.get("program_html") or []
        if not targets:
            problems.append("program_html without targets")
        for i, t in enumerate(targets):
            where = f"program_html[{i}]"
            url = str(t.get("url", ""))
            if url.startswith("func"):
                try:
                    call = parse_call(url.split("func:", 1)[1])
                    if call.name.startswith("shopping_"):
                        report.rest_api_tasks += 1
                except HelperError as err:
                    problems.append(f"{where} url: {err}")
            elif url != "last" and not (placeholders(url) or url.startswith("http")):
                problems.append(f"{where} url {url!r} is not 'last', func: or a site URL")
            locs: list[str] = []
            _check_locator(str(t.get("locator", "")), problems, locs, report)
            js.extend((task.id, loc) for loc in locs)
            if str(t.get("locator", "")).startswith("func:shopping_"):
                report.rest_api_tasks += 1
            required = t.get("required_contents") or {}
            if not required:
                problems.append(f"{where} without required_contents")
            for rule in required:
                report.rules[f"content {rule}"] += 1
                if rule not in CONTENT_RULES:
                    problems.append(f"{where}: unknown required_contents rule {rule!r}")
    if c.get("geolocation"):
        problems.append("geolocation is not supported")
    return problems


def compile_locators(js: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Syntax-check JavaScript locators in Chromium (about:blank, no site). task id -> errors."""
    from ...web.browser import BrowserOptions, BrowserSession

    errors: dict[str, list[str]] = {}
    with BrowserSession(BrowserOptions()) as session:
        results = session.page.evaluate(
            """(items) => items.map(([id, loc]) => {
                 try { new Function('return ' + loc); return null; } catch (e) { return String(e); } })""",
            [list(item) for item in js])
    for (task_id, loc), err in zip(js, results):
        if err:
            errors.setdefault(task_id, []).append(f"locator does not compile: {err}: {loc[:80]!r}")
    return errors


def dry_run(suite: WebArenaSuite, task_ids: list[str], browser: bool = True) -> DryRunReport:
    report = DryRunReport(suite.name, len(task_ids))
    js: list[tuple[str, str]] = []
    for tid in task_ids:
        task = suite.task(tid)
        problems = check_task(task, report, js)
        report.sites[task.site] += 1
        for p in set(placeholders(json.dumps(task.config))):
            site = SITE_OF_PLACEHOLDER.get(p)
            if site:
                report.variables[ENV_VARIABLES[site]] = report.variables.get(ENV_VARIABLES[site], 0) + 1
        if task.login_sites:
            report.logins[".".join(sorted(task.login_sites))] += 1
        if not problems:
            report.judge_tasks += needs_judge(task.config)
        report.reset_tasks += bool(task.config.get("require_reset"))
        report.multi_tab_tasks += len(task.start_urls) > 1
        if problems:
            report.problems[tid] = problems
        if not report.warnings.get(tid):
            report.warnings.pop(tid, None)
    report.unset = sorted(v for v in report.variables if v.removeprefix("WA_").lower() not in suite.sites.addresses)
    if browser and js:
        for tid, errs in compile_locators(js).items():
            report.problems.setdefault(tid, []).extend(errs)
        report.locators_compiled = len(js)
    return report
