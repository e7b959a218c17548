"""A browser page as an environment: observe it, act on it. No scoring (suites add that)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from ..llm.base import approx_tokens
from .actions import Action
from .browser import BrowserSession
from .observation import Observation, ObservationOptions, build_observation, page_script


@dataclass
class ActionResult:
    ok: bool
    error: str | None = None
    url: str = ""
    elapsed_s: float = 0.0
    notice: str | None = None  # what the page did that the agent should know (a dialog it dismissed)


class ActionFailed(Exception):
    """The action could not be carried out; the message is feedback for the model."""


class BrowserEnv:
    def __init__(
        self,
        session: BrowserSession,
        obs_options: ObservationOptions | None = None,
        count_tokens: Callable[[str], int] = approx_tokens,
        screenshots: bool = True,
        settle_ms: int = 150,
        type_settle_ms: int = 500,
        done_check: Callable[[], bool] | None = None,
        image_wait_ms: int = 2000,
    ) -> None:
        self.session = session
        self.obs_options = obs_options or ObservationOptions()
        self.count_tokens = count_tokens
        self.screenshots = screenshots
        self.settle_ms = settle_ms
        # Suggestions under a text field usually appear after a debounce (jQuery UI: 300 ms).
        self.type_settle_ms = type_settle_ms
        # An element whose image has not arrived may have no size yet and be left out of the page.
        self.image_wait_ms = image_wait_ms
        self._script = page_script("observe")
        self._images_script = page_script("images")
        self._done_check = done_check
        self._refusals_seen = len(session.refused_navigations)

    def finished(self) -> bool:
        if not self._done_check:
            return False
        with self.session.watchdog("checking whether the task is done"):
            return bool(self._done_check())

    @property
    def page(self):
        return self.session.page

    def observe(self) -> Observation:
        """The page as simplified HTML; bounded in time (options.max_ms for the walk, the session's
        page_timeout_s for everything) as well as in tokens."""
        with self.session.watchdog("observing the page"):
            return self._observe()

    def _observe(self) -> Observation:
        page = self.page
        if self.image_wait_ms > 0:
            try:
                page.evaluate(self._images_script, self.image_wait_ms)
            except Exception:  # noqa: BLE001 - a page that navigates meanwhile is observed as it is
                pass
        o = self.obs_options
        raw = page.evaluate(self._script, {"viewportOnly": o.viewport_only, "maxText": o.max_text,
                                           "maxMs": o.max_ms, "maxChars": o.token_budget * 8})
        obs = build_observation(raw, page.url, page.title(), self.obs_options, self.count_tokens)
        if self.screenshots:
            try:
                obs.screenshot = page.screenshot(type="jpeg", quality=60, timeout=5000)
            except Exception:  # noqa: BLE001 - a screenshot is a nicety, never a failure
                obs.screenshot = None
        return obs

    def act(self, action: Action) -> ActionResult:
        dialogs_before = len(self.session.dialogs)
        with self.session.watchdog(f"carrying out {action.name}"):
            result = self._act(action)
        shown = self.session.dialogs[dialogs_before:]
        if shown:
            more = f" (and {len(shown) - 1} more)" if len(shown) > 1 else ""
            result.notice = f"the page opened a dialog, which was dismissed: {shown[0]}{more}"
        return result

    def _act(self, action: Action) -> ActionResult:
        start = time.perf_counter()
        refused_before = self._refusals_seen  # also those the page itself tried since the last action
        try:
            self._do(action)
            self._settle(self.type_settle_ms if action.name == "Type" else self.settle_ms)
        except ActionFailed as err:
            return ActionResult(False, str(err), self.page.url, time.perf_counter() - start)
        except Exception as err:  # noqa: BLE001 - Playwright's errors become feedback
            msg = str(err).split("\n")[0]
            return ActionResult(False, f"{action.name} failed: {msg}", self.page.url, time.perf_counter() - start)
        refused = self.session.refused_navigations[refused_before:]
        self._refusals_seen = len(self.session.refused_navigations)
        if refused:
            if self.page.url.startswith("chrome-error://"):  # leave Chromium's error page
                try:
                    self.page.go_back(wait_until="domcontentloaded")
                except Exception:  # noqa: BLE001
                    pass
            return ActionResult(False, f"navigation to {refused[-1]} was refused: that site is not allowed",
                                self.page.url, time.perf_counter() - start)
        return ActionResult(True, None, self.page.url, time.perf_counter() - start)

    # ---------------------------------------------------------------------------------------
    def _locate(self, element: int | None):
        if element is None:
            raise ActionFailed("this action needs an element id")
        loc = self.page.locator(f'[data-planact-id="{element}"]')
        if loc.count() == 0:
            raise ActionFailed(f"there is no element with id {element} on the current page")
        loc = loc.first
        if not loc.is_visible():
            raise ActionFailed(f"element {element} is not visible; scroll or pick another element")
        return loc

    def _settle(self, ms: int) -> None:
        page = self.page
        try:
            page.wait_for_load_state("domcontentloaded", timeout=self.session.options.navigation_timeout_ms)
        except Exception:  # noqa: BLE001 - slow pages still get observed
            pass
        page.wait_for_timeout(ms)

    def _do(self, action: Action) -> None:
        page = self.page
        name = action.name
        if name == "Click":
            loc = self._locate(action.element)
            # Hover first and let :hover styles apply (some pages swap the element under the
            # pointer on hover), then click.
            loc.hover()
            page.wait_for_timeout(50)
            loc.click()
        elif name == "Hover":
            self._locate(action.element).hover()
        elif name in ("Type", "Search"):
            loc = self._locate(action.element)
            text = action.argument or ""
            if loc.evaluate("e => e.matches('input, textarea, [contenteditable], [contenteditable] *')"):
                # Clear, then type key by key as a person would: widgets such as autocompletes
                # listen to key events, which fill() does not send. Long texts are filled.
                loc.fill("")
                if len(text) <= 200:
                    loc.press_sequentially(text)
                else:
                    loc.fill(text)
            else:
                loc.click()
                page.keyboard.type(text)
            if name == "Search":
                loc.press("Enter")
        elif name == "Select Dropdown Option":
            loc = self._locate(action.element)
            if loc.evaluate("e => e.tagName") != "SELECT":
                raise ActionFailed(f"element {action.element} is not a <select>; click it to open the list instead")
            try:
                loc.select_option(label=action.argument)
            except Exception:  # noqa: BLE001 - fall back to the option's value
                loc.select_option(value=action.argument)
        elif name == "Press Enter":
            page.keyboard.press("Enter")
        elif name in ("Scroll Up", "Scroll Down"):
            height = (page.viewport_size or {"height": 720})["height"]
            delta = height * 2 // 3 * (1 if name == "Scroll Down" else -1)
            page.mouse.move((page.viewport_size or {"width": 1280})["width"] // 2, height // 2)
            page.mouse.wheel(0, delta)
        elif name == "Go Backward":
            page.go_back(wait_until="domcontentloaded")
        elif name == "Go Forward":
            page.go_forward(wait_until="domcontentloaded")
        else:
            raise ActionFailed(f"{name} cannot be executed in the browser")
