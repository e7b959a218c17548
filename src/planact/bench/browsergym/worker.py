"""BrowserGym's side of planact's bridge: run with the Python of a virtual environment that has
BrowserGym (browsergym-core pins its own Playwright, older than planact's), it holds one BrowserGym
environment and answers one JSON request per line on stdin with one JSON line on stdout. It imports
nothing from planact: planact sends it the observation script to run in BrowserGym's page.

Requests (`op` and its fields) and answers:
- open {env_id, seed, chromium, observe_js, kwargs, bgobs}: a new environment reset to the seed ->
  {goal, url, title} (and, with `bgobs`, BrowserGym's own observation as an agent gets it, without the
  screenshot and the accessibility tree)
- observe {options}: planact's observation script run in the current page -> {raw, bids, url, title, tabs}
  (`bids`: planact's element id -> BrowserGym's bid, for the elements that have one)
- step {action}: one BrowserGym action (its own action space: click("12"), fill("12", "text"), ...)
  -> {reward, terminated, truncated, error, url, info} (and `obs` with `bgobs`)
- close: the environment is closed.
- tasks {package}: the environment ids that `browsergym.<package>` registers -> {tasks}
Any failure answers {error_type, message}; the worker stays up.
"""

from __future__ import annotations

import json
import sys
import traceback

OBS_KEYS = ("goal", "url", "dom_object", "extra_element_properties", "last_action", "last_action_error",
            "open_pages_urls", "open_pages_titles", "active_page_index", "focused_element_bid")


def serializable(obs: dict) -> dict:
    """BrowserGym's observation, as JSON (numpy values made plain)."""
    out = {}
    for k in OBS_KEYS:
        v = obs.get(k)
        if hasattr(v, "tolist"):
            v = v.tolist()
        elif isinstance(v, tuple):
            v = list(v)
        out[k] = v
    return out


BID_MAP = """() => Array.from(document.querySelectorAll('[data-planact-id][bid]'),
  e => [e.getAttribute('data-planact-id'), e.getAttribute('bid')])"""


class Worker:
    def __init__(self) -> None:
        self.env = None
        self.observe_js = ""

    def use_chromium(self, path: str) -> None:
        """Every browser BrowserGym launches is this Chromium (`playwright install` may not be possible)."""
        from playwright.sync_api import BrowserType

        if getattr(BrowserType.launch, "_planact", False):
            return
        launch = BrowserType.launch

        def patched(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
            kwargs.setdefault("executable_path", path)
            return launch(self, *args, **kwargs)

        patched._planact = True
        BrowserType.launch = patched

    def open(self, req: dict) -> dict:
        import gymnasium as gym

        self.close({})
        if req.get("chromium"):
            self.use_chromium(req["chromium"])
        env_id = req["env_id"]
        package = env_id.split("/", 1)[-1].split(".", 1)[0]  # browsergym/miniwob.click-button -> miniwob
        __import__(f"browsergym.{package}")  # registers the package's environments
        self.observe_js = req.get("observe_js") or self.observe_js
        self.env = gym.make(env_id, headless=True, **(req.get("kwargs") or {}))
        obs, _ = self.env.reset(seed=req.get("seed"))
        answer = {"goal": obs.get("goal") or "", "url": obs.get("url", ""), "title": self.page().title()}
        if req.get("bgobs"):
            answer["obs"] = serializable(obs)
        return answer

    def tasks(self, req: dict) -> dict:
        import gymnasium as gym

        __import__(f"browsergym.{req['package']}")
        prefix = f"browsergym/{req['package']}."
        return {"tasks": sorted(k[len(prefix):] for k in gym.envs.registry if k.startswith(prefix))}

    def page(self):  # noqa: ANN201
        return self.env.unwrapped.page

    def observe(self, req: dict) -> dict:
        page = self.page()
        raw = page.evaluate(self.observe_js, req.get("options") or {})
        bids = {k: v for k, v in page.evaluate(BID_MAP)}
        pages = self.env.unwrapped.context.pages
        tabs = [{"index": i, "title": p.title(), "url": p.url, "current": p is page} for i, p in enumerate(pages)]
        return {"raw": raw, "bids": bids, "url": page.url, "title": page.title(), "tabs": tabs}

    def step(self, req: dict) -> dict:
        obs, reward, terminated, truncated, info = self.env.step(req["action"])
        keep = {k: v for k, v in (info.get("task_info") or {}).items() if isinstance(v, (str, int, float, bool))}
        answer = {"reward": float(reward), "terminated": bool(terminated), "truncated": bool(truncated),
                  "error": obs.get("last_action_error") or "", "url": obs.get("url", ""), "info": keep}
        if req.get("bgobs"):
            answer["obs"] = serializable(obs)
        return answer

    def close(self, _req: dict) -> dict:
        if self.env is not None:
            try:
                self.env.close()
            finally:
                self.env = None
        return {}


def main() -> None:
    worker = Worker()
    out = sys.stdout
    sys.stdout = sys.stderr  # whatever BrowserGym prints must not break the protocol
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            req = json.loads(line)
            answer = getattr(worker, req["op"])(req)
        except Exception as err:  # noqa: BLE001 - every failure is an answer
            traceback.print_exc(file=sys.stderr)
            answer = {"error_type": type(err).__name__, "message": str(err).split("\n")[0][:500]}
        out.write(json.dumps(answer) + "\n")
        out.flush()
    worker.close({})


if __name__ == "__main__":
    main()
