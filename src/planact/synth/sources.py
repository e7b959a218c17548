"""Seed queries and sites: loading seed files, taking seeds from a suite's own tasks, site
descriptions for prompts, and WebArena-style start-URL placeholders."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..bench.webarena.sites import UnresolvedSite, resolve_start_url
from .records import make_id

__all__ = ["UnresolvedSite", "resolve_start_url", "load_seeds", "suite_seeds"]

SITE_DESCRIPTIONS = {
    "shopping": "an online store (Magento): product search and categories, product pages with reviews, "
                "the customer's account with orders, wish list and address book",
    "shopping_admin": "the admin panel of an online store (Magento): orders, products, customers, "
                      "reviews, reports, marketing and content pages",
    "gitlab": "a GitLab instance: projects, repositories, issues, merge requests, members and settings",
    "reddit": "a Reddit-like forum (Postmill): forums, posts, comments, votes, user profiles and messages",
    "map": "OpenStreetMap: searching places, directions between places by car, bike or foot",
    "wikipedia": "an offline copy of Wikipedia",
    "miniwob": "a small MiniWoB++ web page with one kind of form or widget",
}


def site_of(seed: dict[str, Any]) -> str:
    if seed.get("site"):
        return str(seed["site"])
    sites = seed.get("sites") or []
    if len(sites) > 1:
        return "multi-site"
    if sites:
        return str(sites[0])
    return "web"


def describe_site(site: str) -> str:
    return SITE_DESCRIPTIONS.get(site.split("/")[0], "")


def normalize_seed(raw: dict[str, Any]) -> dict[str, Any]:
    intent = raw.get("intent") or raw.get("query") or raw.get("task") or raw.get("ques")
    if not intent:
        raise ValueError(f"seed without an intent: {json.dumps(raw)[:200]}")
    seed = {"intent": str(intent).strip(), "sites": list(raw.get("sites") or []),
            "start_url": raw.get("start_url") or raw.get("web"), "task_id": raw.get("task_id"),
            "env_seed": raw.get("env_seed"), "suite": raw.get("suite")}
    seed["site"] = raw.get("site") or site_of(seed)
    seed["id"] = raw.get("id") or make_id("seed", seed["intent"], seed["start_url"], seed["task_id"], seed["env_seed"])
    return seed


def load_seeds(path: str | Path) -> list[dict[str, Any]]:
    """A JSON list or JSONL of `{intent, sites?, start_url?, task_id?, env_seed?}` (WebArena-Lite's
    training intents load as they are)."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"seed file {p} does not exist")
    text = p.read_text(encoding="utf-8").strip()
    if text.startswith("["):
        rows = json.loads(text)
    else:
        rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    seeds = [normalize_seed(r.get("data", r) if "provenance" in r else r) for r in rows]
    if not seeds:
        raise ValueError(f"no seeds in {p}")
    return seeds


def suite_seeds(suite_name: str, tasks: list[str], env_seeds: list[int]) -> list[dict[str, Any]]:
    """Seeds from a suite's own tasks: each (task, seed) instance is reset once to read its goal."""
    from ..bench.registry import get_suite
    from ..web.browser import BrowserOptions, BrowserSession

    suite = get_suite(suite_name)
    for t in tasks:
        suite.check_task(t)
    out = []
    with BrowserSession(suite.browser_options(BrowserOptions())) as session:
        for t in tasks:
            for s in env_seeds:
                inst = suite.reset(session, t, s)
                out.append(normalize_seed({"intent": inst.goal, "site": f"{suite_name}/{t}", "sites": [suite_name],
                                           "start_url": inst.start_url, "task_id": t, "env_seed": s,
                                           "suite": suite_name}))
    return out
