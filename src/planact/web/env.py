"""A browser page as an environment: observe it, act on it. No scoring (suites add that)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from ..llm.base import approx_tokens
from .actions import Action
from .browser import BrowserError, BrowserSession
from .observation import Observation, ObservationOptions, add_tab_line, build_observation, page_script


@dataclass
class ActionResult:
    ok: bool
    error: str | None = None
    url: str = ""
    elapsed_s: float = 0.0
    notice: str | None = None  # what the page did that the agent should know (a dialog it dismissed)
    settled: str | None = None  # how waiting for the action's effects ended ("settled", "limit: timers", ...)


# two animation frames (or 100 ms, where frames do not run), on an untracked timer
_TWO_FRAMES = """() => new Promise(r => {
  requestAnimationFrame(() => requestAnimationFrame(r));
  (window.__planactSettle ? window.__planactSettle.origSet : setTimeout)(r, 100);
})"""


DEFAULT_WAIT_S, MAX_WAIT_S = 2.0, 10.0
MAX_FRAME_DEPTH = 3  # cross-origin frames inside cross-origin frames, observed this deep
NESTED_FRAME_NUMBERS = 90_000  # numbers of frames inside cross-origin frames start here (ids 901,000,000+)
_REGISTERED = "id => { const r = window.__planactEls && window.__planactEls.get(id); return (r && r.deref()) || null; }"


class ActionFailed(Exception):
    """The action could not be carried out; the message is feedback for the model."""


class BrowserEnv:
    def __init__(
        self,
        session: BrowserSession,
        obs_options: ObservationOptions | None = None,
        count_tokens: Callable[[str], int] = approx_tokens,
        screenshots: bool = True,
        marks: bool = False,
        quiet_ms: int = 30,
        settle_max_ms: int = 3000,
        done_check: Callable[[], bool] | None = None,
        image_wait_ms: int = 2000,
    ) -> None:
        self.session = session
        self.obs_options = obs_options or ObservationOptions()
        self.count_tokens = count_tokens
        self.screenshots = screenshots
        # set-of-marks: the screenshot shows each interactive element's id (for vision models)
        self.marks = marks
        self._marks_script = page_script("marks")
        # After an action: no fixed sleep, but a wait for what it started (web/js/settle.js): timers up
        # to 1 s (a debounce: jQuery UI's autocomplete waits 300 ms), requests, a navigation, and DOM
        # mutations quiet for `quiet_ms`; at most `settle_max_ms` in all.
        self.quiet_ms = quiet_ms
        self.settle_max_ms = settle_max_ms
        self._quiet_script = page_script("quiet")
        self._point_script = page_script("point")
        # An element whose image has not arrived may have no size yet and be left out of the page.
        self.image_wait_ms = image_wait_ms
        self._script = page_script("observe")
        self._images_script = page_script("images")
        self._done_check = done_check
        self._refusals_seen = len(session.refused_navigations)
        self._nested_frames: dict[tuple[int, ...], int] = {}  # a nested cross-origin frame's number
        self._pointer: tuple[float, float] | None = None  # where this env last moved the mouse

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
            try:  # frames still loading (the load event waits for them), within the same budget
                page.wait_for_load_state("load", timeout=self.image_wait_ms)
            except Exception:  # noqa: BLE001 - a slow frame is observed as it is
                pass
            try:
                page.evaluate(self._images_script, self.image_wait_ms)
            except Exception:  # noqa: BLE001 - a page that navigates meanwhile is observed as it is
                pass
        o = self.obs_options
        args = {"viewportOnly": o.viewport_only, "maxText": o.max_text, "maxMs": o.max_ms,
                "maxChars": o.token_budget * 8}
        for attempt in range(3):
            try:
                raw = page.evaluate(self._script, args)
                break
            except Exception as err:  # noqa: BLE001
                # the page navigated under the walk (a redirect the action's settling did not see
                # coming): observe the new document once it has loaded
                if attempt == 2 or "destroyed" not in str(err):
                    raise
                page.wait_for_load_state("domcontentloaded")
        if raw.get("frames"):
            self._splice_frames(page.main_frame, raw, args)
        obs = build_observation(raw, page.url, page.title(), self.obs_options, self.count_tokens)
        tabs = self.session.tabs()  # a tab the page opened, or a task that starts in several: the agent sees them all
        add_tab_line(obs, [t["title"] for t in tabs], next((t["index"] for t in tabs if t["current"]), 0),
                     self.count_tokens)
        if self.screenshots:
            try:
                if self.marks:
                    boxes = [[e.id, *e.box] for e in obs.elements.values() if e.interactive and e.in_viewport]
                    page.evaluate(self._marks_script, {"boxes": boxes})
                obs.screenshot = page.screenshot(type="jpeg", quality=60, timeout=5000)
            except Exception:  # noqa: BLE001 - a screenshot is a nicety, never a failure
                obs.screenshot = None
            finally:
                if self.marks:
                    try:
                        page.evaluate(self._marks_script, {"remove": True, "boxes": []})
                    except Exception:  # noqa: BLE001
                        pass
        return obs

    @staticmethod
    def _frame_of(parent, frame_id: int):  # noqa: ANN001, ANN205 - playwright's Frame
        """The child frame of `parent` (a frame) whose <iframe> element carries id `frame_id`."""
        for frame in parent.child_frames:
            try:
                if frame.frame_element().get_attribute("data-planact-id") == str(frame_id):
                    return frame
            except Exception:  # noqa: BLE001 - a frame detached meanwhile
                continue
        return None

    def _splice_frames(self, parent, raw: dict, args: dict, chain: tuple[int, ...] = ()) -> None:  # noqa: ANN001
        """Cross-origin frames, which the walk of `parent` (a frame) cannot read: each observed on its
        own, its ids numbered from 1,000,000 + 10,000 x the frame's number (stable while the frame
        lives), frames inside it likewise (to MAX_FRAME_DEPTH), and its content put in place after its
        <iframe> tag, boxes in the page's coordinates. A frame that cannot be read is marked `unreachable`.
        A frame of the page is numbered by its <iframe>'s id; one inside a cross-origin frame by the
        order it was first seen in, from 90,000 (ids stay within 9 digits)."""
        depth = len(chain)
        for frame_id, fx, fy in raw["frames"]:
            tag = raw["html"].find(f'<iframe id="{frame_id}"')
            if tag < 0:
                tag = raw["html"].find(f'<frame id="{frame_id}"')
            if tag < 0:
                continue
            pos = raw["html"].find(">", tag) + 1
            frame = self._frame_of(parent, frame_id)
            inner = None
            if frame is not None and depth < MAX_FRAME_DEPTH:
                try:
                    key = (*chain, frame_id)
                    number = frame_id if not chain else self._nested_frames.setdefault(
                        key, NESTED_FRAME_NUMBERS + len(self._nested_frames))
                    inner = frame.evaluate(self._script, {**args, "idBase": 1_000_000 + 10_000 * number})
                    if inner.get("frames"):
                        self._splice_frames(frame, inner, args, key)
                except Exception:  # noqa: BLE001 - the frame navigated or went away
                    inner = None
            if inner is None:
                text = " unreachable"
                pos -= 1  # inside the tag: an attribute
                inner = {"html": "", "elements": []}
            else:
                text = inner["html"]
            raw["html"] = raw["html"][:pos] + text + raw["html"][pos:]
            for e in raw["elements"]:
                if e["start"] >= pos:
                    e["start"] += len(text)
                if e["end"] >= pos:
                    e["end"] += len(text)
            for e in inner["elements"]:
                e.update(start=e["start"] + pos, end=e["end"] + pos, x=e["x"] + fx, y=e["y"] + fy,
                         parent=e["parent"] if e["parent"] is not None else frame_id)
            raw["elements"].extend(inner["elements"])

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
            self._arm()
            self._do(action)
            settled = self._settle()
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
        return ActionResult(True, None, self.page.url, time.perf_counter() - start, settled=settled)

    # ---------------------------------------------------------------------------------------
    def _locate(self, element: int | None):
        if element is None:
            raise ActionFailed("this action needs an element id")
        loc = None
        for frame in self.page.frames:  # the page itself first; CSS locators pierce open shadow roots
            found = frame.locator(f'[data-planact-id="{element}"]')
            if found.count():
                loc = found.first
                break
        if loc is None:  # inside a closed shadow root, where no selector reaches: the walk's own reference
            loc = self._registered(element)
        if loc is None:
            raise ActionFailed(f"there is no element with id {element} on the current page")
        if not loc.is_visible():
            raise ActionFailed(f"element {element} is not visible; scroll or pick another element")
        return loc

    def _click_option(self, element: int) -> bool:
        """A click on an <option> of a <select> picks it, as a person does in the opened list (the option
        itself has no box to click): the select's value changes and its change events fire."""
        for frame in self.page.frames:
            found = frame.locator(f'option[data-planact-id="{element}"]')
            if not found.count():
                continue
            where = found.first.evaluate("o => { const s = o.closest('select'); return s ? [s.getAttribute("
                                         "'data-planact-id'), o.index, s.disabled || o.disabled] : null; }")
            if not where or where[0] is None:
                return False
            if where[2]:
                raise ActionFailed(f"option {element} is disabled and cannot be chosen")
            frame.locator(f'select[data-planact-id="{where[0]}"]').first.select_option(index=where[1])
            return True
        return False

    def _registered(self, element: int):  # noqa: ANN202 - playwright's ElementHandle
        for frame in self.page.frames:
            try:
                handle = frame.evaluate_handle(_REGISTERED, element).as_element()
            except Exception:  # noqa: BLE001 - a frame detached meanwhile
                continue
            if handle is not None:
                return handle
        return None

    def _point(self, element: int | None) -> tuple[float, float] | None:
        """The element's centre when it is in view (scrolled there) and nothing covers it; None where
        Playwright's own click must decide."""
        if element is None:
            raise ActionFailed("this action needs an element id")
        found = self.page.evaluate(self._point_script, element)
        if found.get("error") == "missing":
            found = self._point_in_frames(element)
        if found.get("error") == "missing":
            raise ActionFailed(f"there is no element with id {element} on the current page")
        covered = found.get("covered")
        if covered:  # an overlay (a consent banner, a dialog) lies over the element's centre
            raise ActionFailed(f"element {element} is covered by element {covered}: close or act on "
                               f"element {covered} first")
        return None if found.get("fallback") else (found["x"], found["y"])

    def _point_in_frames(self, element: int) -> dict:
        """An element of a cross-origin frame: its point in the frame, moved into the page's coordinates."""
        for frame in self.page.frames[1:]:
            try:
                found = frame.evaluate(self._point_script, element)
                if found.get("error") == "missing":
                    continue
                holder = frame.frame_element()
                box = holder.bounding_box()
                view = self.page.viewport_size or {"width": 1280, "height": 720}
                if "x" in found and box and not (0 <= box["y"] + found["y"] < view["height"]
                                                 and 0 <= box["x"] + found["x"] < view["width"]):
                    # the frame lies outside the page's view: scrolled there first, and two frames drawn so
                    # that input is routed to a cross-origin (out-of-process) frame where it now is
                    holder.scroll_into_view_if_needed()
                    self.page.evaluate(_TWO_FRAMES)
                    box = holder.bounding_box()
            except Exception:  # noqa: BLE001 - a frame detached meanwhile
                continue
            if box and "x" in found:
                found["x"] += box["x"]
                found["y"] += box["y"]
            return found
        return {"error": "missing"}

    def _arm(self) -> None:
        """Mark the start of an action: what happens from now on is its effect."""
        try:
            self.page.evaluate("() => window.__planactSettle && window.__planactSettle.arm()")
        except Exception:  # noqa: BLE001 - a page mid-navigation is settled after the action
            pass

    def _settle(self) -> str:
        """Wait for the action's effects (settle.js / quiet.js); a navigation it started is followed into
        the new document, which is settled in turn, and so is a tab the action opened. Returns how the
        wait ended."""
        deadline = time.perf_counter() + self.settle_max_ms / 1000
        while True:
            page = self.page
            left_ms = (deadline - time.perf_counter()) * 1000
            if left_ms <= 0:
                return "limit"
            try:
                page.wait_for_load_state("domcontentloaded", timeout=left_ms)
            except Exception:  # noqa: BLE001 - slow pages still get observed
                return "limit: load"
            try:
                how = str(page.evaluate(self._quiet_script, {"quietMs": self.quiet_ms,
                                                             "maxMs": max(1.0, left_ms - 1)}))
            except Exception as err:  # noqa: BLE001
                if "navigat" not in str(err) and "destroyed" not in str(err):
                    return f"error: {str(err).splitlines()[0][:80]}"
                continue  # the document went away mid-wait: a navigation; settle the new one
            # a tab the action opened is the page to settle now (Playwright hands its event over during a
            # call, perhaps only once the browser has made the tab)
            if "opened a tab" in how and self.page is page:
                try:
                    page.context.wait_for_event("page", timeout=max(1.0, (deadline - time.perf_counter()) * 1000))
                except Exception:  # noqa: BLE001 - a popup blocked or already handed over
                    pass
            self.session.tabs()
            if self.page is page:
                return how

    def _do(self, action: Action) -> None:
        page = self.page
        name = action.name
        if name in ("Click", "Hover", "Right Click"):
            button = "right" if name == "Right Click" else "left"
            point = self._point(action.element)
            if point is not None:  # the pointer moves there (hover effects happen), then clicks
                if point == self._pointer:
                    # already there (the page changed under it): a pointer that does not move sends no
                    # mouseover, so it moves by a pixel first
                    page.mouse.move(point[0] + 1, point[1])
                page.mouse.move(*point)
                self._pointer = point
                if name != "Hover":
                    page.mouse.click(*point, button=button)
                return
            if name == "Click" and self._click_option(action.element):
                return
            loc = self._locate(action.element)
            if name == "Hover":
                loc.hover()
                return
            if name == "Right Click":
                loc.click(button="right")
                return
            # Playwright's click, which waits for the element to be stable and uncovered. Hover first and
            # let :hover styles apply (some pages swap the element under the pointer on hover).
            loc.hover()
            page.evaluate(_TWO_FRAMES)
            loc.click()
        elif name in ("Type", "Search"):
            loc = self._locate(action.element)
            text = action.argument or ""
            kind = loc.evaluate("""e => (e.matches('input, textarea') && (e.readOnly || e.disabled)) ? 'locked'
                : e.matches('input, textarea, [contenteditable], [contenteditable] *') ? 'field' : 'other'""")
            if kind == "locked":  # fill() would wait out its timeout for a field that never becomes editable
                raise ActionFailed(f"element {action.element} is read-only or disabled and takes no typing; "
                                   "click it instead (a date picker or a list may open)")
            if kind == "field":
                # Clear, then type key by key as a person would: widgets such as autocompletes
                # listen to key events, which fill() does not send. Long texts are filled.
                loc.fill("")
                if len(text) <= 200:  # an ElementHandle (closed shadow roots) has type(), a Locator both
                    (loc.press_sequentially if hasattr(loc, "press_sequentially") else loc.type)(text)
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
            view = page.viewport_size or {"width": 1280, "height": 720}
            x, y, height = view["width"] / 2, view["height"] / 2, view["height"]
            if action.element is not None:  # the wheel over that element: a frame or a list scrolls, not the page
                loc = self._locate(action.element)
                loc.scroll_into_view_if_needed()
                box = loc.bounding_box()
                if not box:
                    raise ActionFailed(f"element {action.element} has no box on the page to scroll within")
                top, bottom = max(box["y"], 0), min(box["y"] + box["height"], view["height"])
                left, right = max(box["x"], 0), min(box["x"] + box["width"], view["width"])
                x, y, height = (left + right) / 2, (top + bottom) / 2, max(bottom - top, 30)
            page.mouse.move(x, y)
            self._pointer = (x, y)
            page.mouse.wheel(0, int(height * 2 / 3) * (1 if name == "Scroll Down" else -1))
            page.evaluate(_TWO_FRAMES)  # the wheel returns before the scroll is done (in a frame's process too)
        elif name == "Go Backward":
            page.go_back(wait_until="domcontentloaded")
        elif name == "Go Forward":
            page.go_forward(wait_until="domcontentloaded")
        elif name == "Wait":  # the agent asks for time (a slow page): at most MAX_WAIT_S
            try:
                seconds = float(action.argument) if action.argument else DEFAULT_WAIT_S
            except ValueError:
                raise ActionFailed(f"Wait's argument is a number of seconds, not {action.argument!r}") from None
            page.wait_for_timeout(1000 * min(max(seconds, 0.0), MAX_WAIT_S))
        elif name == "Goto":
            url = (action.argument or "").strip()
            if not url.startswith(("http://", "https://", "file://")):
                raise ActionFailed(f"Goto needs a full address (http://...), not {url!r}")
            try:
                self.session.goto(url)
            except BrowserError as err:
                raise ActionFailed(str(err)) from None
        elif name == "Close Tab":  # the current tab, or the one the tab line numbers
            arg = (action.argument or "").strip()
            try:
                self.session.close_tab(int(arg) if arg else None)
            except ValueError:
                raise ActionFailed(f"Close Tab takes a tab number from the page's tab line, not {arg!r}") from None
            except BrowserError as err:
                raise ActionFailed(str(err)) from None
        elif name == "Switch Tab":  # the index the observation's tab line shows
            try:
                self.session.switch_tab(int((action.argument or "").strip()))
            except ValueError:
                raise ActionFailed(f"Switch Tab takes a tab number from the page's tab line, not {action.argument!r}") from None
            except BrowserError as err:
                raise ActionFailed(str(err)) from None
        else:
            raise ActionFailed(f"{name} cannot be executed in the browser")
