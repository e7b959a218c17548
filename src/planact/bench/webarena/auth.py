"""Logging in to the WebArena sites once and reusing the browser storage state.

The recipes follow the benchmark's own `auto_login.py`: the same pages, fields and buttons, so they
work on the sites as the Docker images ship them. A saved state is reused until it is older than
`max_age_s` or a reset hook has run.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ...web.browser import BrowserSession
from .sites import DEFAULT_ACCOUNTS, SiteMap


class LoginError(RuntimeError):
    pass


def _fill_and_submit(page, site: str, base: str, user: str, password: str) -> None:
    if site == "shopping":
        page.goto(f"{base}/customer/account/login/")
        page.get_by_label("Email", exact=True).fill(user)
        page.get_by_label("Password", exact=True).fill(password)
        page.get_by_role("button", name="Sign In").click()
    elif site == "shopping_admin":
        page.goto(base)
        page.get_by_placeholder("user name").fill(user)
        page.get_by_placeholder("password").fill(password)
        page.get_by_role("button", name="Sign in").click()
    elif site == "gitlab":
        page.goto(f"{base}/users/sign_in")
        page.get_by_test_id("username-field").fill(user)
        page.get_by_test_id("password-field").fill(password)
        page.get_by_test_id("sign-in-button").click()
    elif site == "reddit":
        page.goto(f"{base}/login")
        page.get_by_label("Username").fill(user)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
    else:
        raise LoginError(f"no login recipe for site {site!r}")


def login(page, site: str, base: str, user: str, password: str) -> None:
    """Log in on `page`; raises LoginError if the login form is still there afterwards."""
    try:
        _fill_and_submit(page, site, base, user, password)
        page.wait_for_load_state("load")
    except Exception as err:  # noqa: BLE001 - any Playwright failure is a failed login
        raise LoginError(f"could not log in to {site} at {base} as {user}: {str(err).splitlines()[0]}") from err
    if page.locator("input[type=password]:visible").count():
        raise LoginError(f"logging in to {site} at {base} as {user} failed: the login form is still shown "
                         f"at {page.url} (check the account in eval.webarena.accounts)")


@dataclass
class AuthStore:
    """Saved storage states, one file per combination of sites (as `.auth/gitlab.reddit_state.json`)."""

    folder: Path
    sites: SiteMap
    accounts: dict[str, tuple[str, str]] = field(default_factory=lambda: dict(DEFAULT_ACCOUNTS))
    max_age_s: float = 3600.0
    logins: int = 0  # how many times this store logged in (each site combination once per max_age)
    _locks: dict[str, threading.Lock] = field(default_factory=dict)
    _guard: threading.Lock = field(default_factory=threading.Lock)

    def path(self, combo: list[str]) -> Path:
        # The file name also depends on the addresses and accounts, so a state is never used for
        # another deployment.
        key = json.dumps([self.sites.addresses.get(s) for s in combo] + [self.accounts.get(s) for s in combo])
        digest = hashlib.sha1(key.encode()).hexdigest()[:10]
        return self.folder / f"{'.'.join(combo)}_state.{digest}.json"

    def invalidate(self) -> None:
        for p in self.folder.glob("*_state.*.json"):
            p.unlink(missing_ok=True)

    def state_for(self, session: BrowserSession, combo: list[str]) -> str:
        """The storage state file for `combo`, logging in first if there is no fresh one."""
        combo = sorted(combo)
        path = self.path(combo)
        with self._guard:
            lock = self._locks.setdefault(path.name, threading.Lock())
        with lock:
            if path.exists() and time.time() - path.stat().st_mtime < self.max_age_s:
                return str(path)
            session.new_context()
            for site in combo:
                if site not in self.sites.addresses:
                    raise LoginError(f"task needs a login to {site}, whose address is not configured")
                if site not in self.accounts:
                    raise LoginError(f"no account for {site} (eval.webarena.accounts)")
                user, password = self.accounts[site]
                login(session.page, site, self.sites.addresses[site], user, password)
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            session.page.context.storage_state(path=str(tmp))
            tmp.replace(path)
            self.logins += 1
            return str(path)
