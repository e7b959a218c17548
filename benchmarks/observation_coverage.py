"""Does the observation give every actionable element an id, and what does the walk cost?

For every MiniWoB task (or --tasks N of them) and --seeds seeds: the page is observed, then Chromium's
own accessibility tree (CDP `Accessibility.getFullAXTree`, an account independent of observe.js) is
asked for the elements a person could act on (buttons, links, text boxes, checkboxes, radios, combo
boxes, options, tabs, menu items, tree items, ...), and each must carry an id in the observation.
Elements with no layout box are not counted (nobody can act on them); a part of a native control (the
day field of <input type=date>, in the browser's own shadow root) counts as covered when its control
has an id.

Time: the observation script of today (web/js/observe.js, with shadow roots, frames and the closed
root registry) against the anchor, the script as it was before shadow DOM and frames (git commit
eb83c2b), each run 5 times on the same page in alternation; the walk alone (page.evaluate), in ms.

    python benchmarks/observation_coverage.py [--tasks 0 (all)] [--seeds 2]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from planact.bench.miniwob import MiniWoBSuite
from planact.web import BrowserEnv, BrowserOptions, BrowserSession, ObservationOptions
from planact.web.observation import page_script

ANCHOR_COMMIT = "eb83c2b"
ACTIONABLE = {"button", "link", "textbox", "searchbox", "checkbox", "radio", "combobox", "listbox", "option",
              "menuitem", "menuitemcheckbox", "menuitemradio", "tab", "treeitem", "switch", "slider",
              "spinbutton", "MenuListOption", "PopUpButton", "ToggleButton"}
REPEATS = 5


def anchor_script() -> str:
    root = Path(__file__).resolve().parents[1]
    return subprocess.run(["git", "show", f"{ANCHOR_COMMIT}:src/planact/web/js/observe.js"], cwd=root,
                          check=True, capture_output=True, text=True).stdout


def actionable_without_id(session) -> tuple[int, list[str]]:  # noqa: ANN001
    """Chromium's accessibility tree: actionable nodes with a box, and those whose element has no id."""
    cdp = session.page.context.new_cdp_session(session.page)
    try:
        cdp.send("DOM.getDocument", {"depth": -1, "pierce": True})
        nodes = cdp.send("Accessibility.getFullAXTree")["nodes"]
        wanted = [n for n in nodes if not n.get("ignored") and n.get("backendDOMNodeId")
                  and (n.get("role") or {}).get("value") in ACTIONABLE]
        total, missing = 0, []
        for n in wanted:
            try:
                obj = cdp.send("DOM.resolveNode", {"backendNodeId": n["backendDOMNodeId"]})["object"]
                res = cdp.send("Runtime.callFunctionOn", {
                    "objectId": obj["objectId"], "returnByValue": True,
                    # a part of a native control (the day field of <input type=date>) lives in the browser's
                    # own shadow root: the control is what carries the id, and Type sets its value
                    "functionDeclaration": "function () { const r = this.getBoundingClientRect();"
                    " const sized = this.tagName === 'OPTION' || (r.width > 0 && r.height > 0);"
                    " const root = this.getRootNode(); const host = root instanceof ShadowRoot ? root.host : null;"
                    " const native = host && /^(INPUT|TEXTAREA|SELECT|VIDEO|AUDIO)$/.test(host.tagName);"
                    " const el = native ? host : this;"
                    " return [sized, el.hasAttribute('data-planact-id'), this.outerHTML.slice(0, 80), !!native]; }"})
            except Exception:  # noqa: BLE001 - a node that went away meanwhile
                continue
            sized, has_id, html, _native = res["result"]["value"]
            if not sized:
                continue
            total += 1
            if not has_id:
                missing.append(f'{n["role"]["value"]}: {html}')
        return total, missing
    finally:
        cdp.detach()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=0, help="the first N tasks (0: all)")
    ap.add_argument("--seeds", type=int, default=2)
    args = ap.parse_args()
    suite = MiniWoBSuite()
    tasks = [t.id for t in suite.tasks()]
    tasks = tasks[: args.tasks] if args.tasks else tasks
    current, anchor = page_script("observe"), anchor_script()
    opts = {"viewportOnly": False, "maxText": 300, "maxMs": 3000, "maxChars": 800000}
    total = 0
    misses: list[tuple[str, str]] = []
    now_ms: list[float] = []
    then_ms: list[float] = []
    with BrowserSession(suite.browser_options(BrowserOptions())) as session:
        for task in tasks:
            for seed in range(args.seeds):
                suite.reset(session, task, seed)
                env = BrowserEnv(session, ObservationOptions(token_budget=100_000), screenshots=False)
                env.observe()
                n, missing = actionable_without_id(session)
                total += n
                misses += [(f"{task} {seed}", m) for m in missing]
                for _ in range(REPEATS):
                    for script, into in ((current, now_ms), (anchor, then_ms)):
                        t0 = time.perf_counter()
                        session.page.evaluate(script, opts)
                        into.append((time.perf_counter() - t0) * 1e3)
    console = Console(width=130)
    t = Table(title=f"Actionable elements (Chromium's accessibility tree) on {len(tasks)} MiniWoB tasks x "
                    f"{args.seeds} seeds")
    for c in ("actionable", "with an id", "coverage"):
        t.add_column(c, justify="right")
    t.add_row(str(total), str(total - len(misses)), f"{(total - len(misses)) / max(1, total):.1%}")
    console.print(t)
    for where, m in misses[:20]:
        console.print(f"  no id: {where}: {m}")
    t = Table(title="Observation walk (page.evaluate), ms")
    for c in ("script", "median", "p90", "ratio of medians"):
        t.add_column(c, justify="left" if c == "script" else "right")

    def p90(v: list[float]) -> float:
        return sorted(v)[int(0.9 * (len(v) - 1))]

    t.add_row(f"before shadow DOM and frames ({ANCHOR_COMMIT})", f"{statistics.median(then_ms):.1f}",
              f"{p90(then_ms):.1f}", "1.00")
    t.add_row("today", f"{statistics.median(now_ms):.1f}", f"{p90(now_ms):.1f}",
              f"{statistics.median(now_ms) / statistics.median(then_ms):.2f}")
    console.print(t)


if __name__ == "__main__":
    main()
