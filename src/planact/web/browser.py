"""A headless Chromium driven by Playwright: launch, restart after a crash, domain allow-list."""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
import signal
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlparse

from .observation import page_script

CHROMIUM_FLAGS = [
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--allow-file-access-from-files",
]


class BrowserError(RuntimeError):
    pass


class PageHung(BrowserError):
    """A page did not answer within its time limit (a script that never yields, a dialog loop); the
    browser was killed and is restarted on next use."""


@dataclass
class BrowserOptions:
    headless: bool = True
    executable_path: str | None = None  # default: $PLANACT_CHROMIUM, /usr/bin/chromium, or Playwright's own
    viewport_width: int = 1280
    viewport_height: int = 720
    # Hosts the agent may navigate to ("example.com", "*.example.com", "localhost:8080"); empty = any.
    # Local files and about:/data: pages are always allowed.
    allow_domains: list[str] = field(default_factory=list)
    navigation_timeout_ms: int = 30000
    action_timeout_ms: int = 5000
    # Every call that runs page code or waits on the page (observe, act, a task's reset, done check and
    # scoring) ends within this many seconds: a page that hangs has its browser killed and restarted.
    page_timeout_s: float = 60.0
    storage_state: str | None = None


def find_chromium(explicit: str | None = None) -> str | None:
    for candidate in (explicit, os.environ.get("PLANACT_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and os.path.exists(candidate):
            return candidate
    return None  # Playwright's bundled browser, if one was installed with `playwright install`


def host_allowed(url: str, allow: list[str]) -> bool:
    if not allow:
        return True
    parsed = urlparse(url)
    if parsed.scheme in ("file", "about", "data", "blob", "chrome-error"):
        return True
    host = parsed.hostname or ""
    netloc = f"{host}:{parsed.port}" if parsed.port else host
    return any(fnmatch.fnmatch(host, pat) or fnmatch.fnmatch(netloc, pat) or host.endswith("." + pat) for pat in allow)


class BrowserSession:
    """One browser with one page. Owned by one thread (Playwright's sync API is per thread)."""

    def __init__(self, options: BrowserOptions | None = None) -> None:
        self.options = options or BrowserOptions()
        self._pw = None
        self._browser = None
        self._context = None
        self._page = None
        self.refused_navigations: list[str] = []
        self.refused_requests: list[str] = []  # subresources, fetch, beacons, websockets to hosts not allowed
        self.dialogs: list[str] = []  # "alert: text" for each dialog the page opened (each is dismissed)
        self.restarts = 0
        self._crashed = False
        self._marker = ""
        self._hung: str | None = None

    # lifecycle -----------------------------------------------------------------------------
    def start(self) -> "BrowserSession":
        from playwright.sync_api import sync_playwright

        if self._pw is None:
            self._pw = sync_playwright().start()
        exe = find_chromium(self.options.executable_path)
        # a flag Chromium ignores, so that a watchdog can find (and kill) this browser's process
        self._marker = f"--planact-session={uuid.uuid4().hex}"
        try:
            self._browser = self._pw.chromium.launch(
                headless=self.options.headless, executable_path=exe, args=[*CHROMIUM_FLAGS, self._marker]
            )
        except Exception as err:  # noqa: BLE001 - rewritten as a clear message
            raise BrowserError(
                f"could not launch Chromium ({exe or 'playwright bundled'}): {err}\n"
                "Install it with `apt-get install -y chromium` or set PLANACT_CHROMIUM=/path/to/chrome"
            ) from err
        self._new_context()
        return self

    def new_context(self, storage_state: str | None = None) -> None:
        """A fresh browser context (cookies, storage, one page), optionally logged in from a saved
        Playwright storage state. Benchmarks start each task this way, isolated from the last."""
        self.ensure_alive()
        old = self._context
        self._new_context(storage_state)
        try:
            if old is not None:
                old.close()
        except Exception:  # noqa: BLE001 - the old context may belong to a dead browser
            pass

    def _new_context(self, storage_state: str | None = None) -> None:
        self._context = self._browser.new_context(
            viewport={"width": self.options.viewport_width, "height": self.options.viewport_height},
            storage_state=storage_state or self.options.storage_state,
            # a service worker's requests would not pass the allow-list's route
            service_workers="block" if self.options.allow_domains else "allow",
        )
        self._context.set_default_timeout(self.options.action_timeout_ms)
        self._context.set_default_navigation_timeout(self.options.navigation_timeout_ms)
        # what an action started (timers, requests, a navigation, DOM changes), for settling on events
        self._context.add_init_script(page_script("settle"))
        # closed shadow roots, which page scripts cannot see, remembered so that the observation shows them
        self._context.add_init_script(page_script("shadow"))
        if self.options.allow_domains:
            self._context.route("**/*", self._route)
            self._context.route_web_socket("**/*", self._route_ws)
        self._crashed = False
        # a tab or popup the page opens becomes the current page, as a person's attention follows it
        self._context.on("page", self._on_new_page)
        self._page = None
        self._page = self._context.new_page()
        self._watch(self._page)

    def _watch(self, page) -> None:  # noqa: ANN001 - playwright's Page
        if getattr(page, "_planact_watched", False):
            return
        page._planact_watched = True
        page.on("crash", self._on_crash)
        page.on("dialog", self._on_dialog)
        page.on("close", self._on_close)

    def _on_new_page(self, page) -> None:  # noqa: ANN001
        if page is self._page:
            return
        self._watch(page)
        self._page = page

    def _on_close(self, page) -> None:  # noqa: ANN001
        """A closed tab hands over to the last one still open."""
        if page is self._page and self._context is not None:
            others = [p for p in self._context.pages if not p.is_closed()]
            if others:
                self._page = others[-1]

    # tabs ------------------------------------------------------------------------------------
    def tabs(self) -> list[dict]:
        """The open tabs in order: index, title, address, and which is current."""
        out = []
        for i, p in enumerate(p for p in self._context.pages if not p.is_closed()):
            try:
                title = p.title()
            except Exception:  # noqa: BLE001 - a tab still loading
                title = ""
            out.append({"index": i, "title": title, "url": p.url, "current": p is self._page})
        return out

    def switch_tab(self, index: int) -> None:
        pages = [p for p in self._context.pages if not p.is_closed()]
        if not 0 <= index < len(pages):
            raise BrowserError(f"there is no tab {index}: the open tabs are 0 to {len(pages) - 1}")
        self._page = pages[index]
        self._page.bring_to_front()

    def close_tab(self, index: int | None = None) -> None:
        """Close a tab (the current one by default); the last one left open cannot be closed."""
        pages = [p for p in self._context.pages if not p.is_closed()]
        if len(pages) < 2:
            raise BrowserError("this is the only open tab; it cannot be closed")
        if index is None:
            index = pages.index(self._page) if self._page in pages else len(pages) - 1
        if not 0 <= index < len(pages):
            raise BrowserError(f"there is no tab {index}: the open tabs are 0 to {len(pages) - 1}")
        closing = pages[index]
        if closing is self._page:  # attention goes to the tab before it, as in a browser's tab strip
            self._page = pages[index - 1] if index > 0 else pages[1]
        closing.close()
        self._page.bring_to_front()

    def open_tabs(self, urls: list[str]) -> None:
        """Open each address in a tab of its own (as WebArena's harness does for a multi-tab start),
        and come back to the first."""
        first = self._page
        for url in urls:
            self._page = self._context.new_page()
            self.goto(url)
        self._page = first
        first.bring_to_front()

    def _on_crash(self, *_: object) -> None:
        self._crashed = True

    def _on_dialog(self, dialog) -> None:  # noqa: ANN001 - playwright's Dialog
        """alert / confirm / prompt are dismissed, beforeunload accepted (the navigation goes on);
        each is recorded so the agent can be told."""
        self.dialogs.append(f"{dialog.type}: {dialog.message[:200]}")
        try:
            if dialog.type == "beforeunload":
                dialog.accept()
            else:
                dialog.dismiss()
        except Exception:  # noqa: BLE001 - the page may be gone already
            pass

    # time limits ------------------------------------------------------------------------------
    @contextmanager
    def watchdog(self, what: str, seconds: float | None = None) -> Iterator[None]:
        """Bound a call into the page: past `seconds` (default page_timeout_s) the browser process is
        killed from another thread (Playwright's own calls cannot be interrupted, and page.evaluate has
        no timeout), the blocked call fails, and PageHung says what hung. The next use restarts it."""
        limit = self.options.page_timeout_s if seconds is None else seconds
        if not limit or limit <= 0:
            yield
            return
        fired = threading.Event()

        def kill() -> None:
            fired.set()
            self._kill_browser()

        timer = threading.Timer(limit, kill)
        timer.daemon = True
        timer.start()
        try:
            yield
        except Exception as err:
            if fired.is_set():
                self._crashed = True
                raise PageHung(f"the page did not respond within {limit:g} s while {what}; "
                               "its browser was restarted") from err
            raise
        finally:
            timer.cancel()
        if fired.is_set():  # the call returned just as the limit passed: the browser is gone anyway
            self._crashed = True
            raise PageHung(f"the page did not respond within {limit:g} s while {what}; its browser was restarted")

    def _kill_browser(self) -> None:
        needle = self._marker.encode()
        if not needle:
            return
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    args = f.read().split(b"\0")
            except OSError:
                continue
            if needle in args:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except OSError:
                    pass

    def _route(self, route, request) -> None:
        """The allow-list at the network layer: every request of the context (navigations, frames,
        popups, images, scripts, fetch, beacons) passes here. A request for a host not on the list never
        leaves the browser: a navigation is answered 204 (the page stays where it was), anything else is
        aborted. Redirects are followed here, hop by hop, so that no hop reaches a forbidden host."""
        url = request.url
        if not url.startswith(("http://", "https://")):
            route.continue_()  # file:, data:, blob: stay in the browser
            return
        navigation = request.is_navigation_request() and self._top_level(request)
        if not host_allowed(url, self.options.allow_domains):
            self._refuse(route, url, navigation)
            return
        try:
            response = route.fetch(max_redirects=0)
        except Exception:  # noqa: BLE001 - the page went away, or the host does not answer
            route.abort("failed")
            return
        location = response.headers.get("location")
        if 300 <= response.status < 400 and location:
            target = urljoin(url, location)
            if not host_allowed(target, self.options.allow_domains):
                self._refuse(route, target, navigation)
                return
            if navigation:  # the browser would follow this hop unseen: make it a new, routed navigation
                cookie = {k: v for k, v in response.headers.items() if k.lower() == "set-cookie"}
                route.fulfill(status=200, content_type="text/html", headers=cookie,
                              body=f"<script>location.replace({json.dumps(target)})</script>")
                return
            for _ in range(20):  # a subresource: follow the chain here, checking every hop
                response = route.fetch(url=target, max_redirects=0)
                location = response.headers.get("location")
                if not (300 <= response.status < 400 and location):
                    break
                target = urljoin(target, location)
                if not host_allowed(target, self.options.allow_domains):
                    self._refuse(route, target, navigation)
                    return
        route.fulfill(response=response)

    @staticmethod
    def _top_level(request) -> bool:  # noqa: ANN001
        """A page's own navigation (not a frame's): refusing it keeps the page where it was."""
        try:
            return request.frame.parent_frame is None
        except Exception:  # noqa: BLE001 - a popup's first request may have no frame yet
            return True

    def _route_ws(self, ws) -> None:  # noqa: ANN001 - playwright's WebSocketRoute
        if host_allowed(ws.url.replace("ws", "http", 1), self.options.allow_domains):
            ws.connect_to_server()
        else:
            self.refused_requests.append(ws.url)
            ws.close()

    def _refuse(self, route, url: str, navigation: bool) -> None:  # noqa: ANN001
        if navigation:
            self.refused_navigations.append(url)
            route.fulfill(status=204, body="")  # no content: the browser stays on the page it was on
        else:
            self.refused_requests.append(url)
            route.abort("blockedbyclient")

    @property
    def page(self):
        if self._page is None:
            self.start()
        return self._page

    def alive(self) -> bool:
        try:
            return (
                self._browser is not None and self._browser.is_connected()
                and self._page is not None and not self._page.is_closed() and not self._crashed
            )
        except Exception:  # noqa: BLE001
            return False

    def restart(self) -> None:
        """Start a fresh browser after a crash (the page's state is lost; callers reload)."""
        self.restarts += 1
        try:
            if self._browser is not None:
                self._browser.close()
        except Exception:  # noqa: BLE001 - a crashed browser may not close cleanly
            pass
        self._browser = self._context = self._page = None
        self.start()

    def ensure_alive(self) -> bool:
        """Restart if the browser died. Returns True if it had to."""
        if self._pw is None:
            self.start()
            return False
        if not self.alive():
            self.restart()
            return True
        return False

    def close(self) -> None:
        for stop in (lambda: self._browser and self._browser.close(), lambda: self._pw and self._pw.stop()):
            try:
                stop()
            except Exception:  # noqa: BLE001 - closing a crashed browser may fail; nothing to keep
                pass
        self._pw = self._browser = self._context = self._page = None

    def __enter__(self) -> "BrowserSession":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def goto(self, url: str) -> None:
        if not host_allowed(url, self.options.allow_domains):
            raise BrowserError(f"navigation to {url} refused: not in the allowed domains {self.options.allow_domains}")
        before = len(self.refused_navigations)
        try:
            self.page.goto(url, wait_until="domcontentloaded")
        except Exception:
            if len(self.refused_navigations) == before:
                raise
        refused = self.refused_navigations[before:]
        if refused:
            raise BrowserError(f"{url} redirects to {refused[-1]}, which is not in the allowed domains "
                               f"{self.options.allow_domains}")
