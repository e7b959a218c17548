"""The WebArena sites: their placeholders, where a user hosts them, and the benchmark's test accounts.

Task files name sites by placeholder (`__SHOPPING__/...`). A user who hosts the sites (the project's
Docker images) says where, either in the config file (`eval.webarena.sites`) or with the conventional
variables `WA_SHOPPING`, `WA_SHOPPING_ADMIN`, `WA_REDDIT`, `WA_GITLAB`, `WA_MAP`, `WA_WIKIPEDIA`,
`WA_HOMEPAGE` (the config file wins where both are given).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from urllib.parse import urlparse

PLACEHOLDERS = {
    "shopping": "__SHOPPING__", "shopping_admin": "__SHOPPING_ADMIN__", "reddit": "__REDDIT__",
    "gitlab": "__GITLAB__", "map": "__MAP__", "wikipedia": "__WIKIPEDIA__", "homepage": "__HOMEPAGE__",
}
SITE_OF_PLACEHOLDER = {v: k for k, v in PLACEHOLDERS.items()}
ENV_VARIABLES = {site: f"WA_{site.upper()}" for site in PLACEHOLDERS}

# The accounts the benchmark's sites ship with (webarena browser_env/env_config.py).
DEFAULT_ACCOUNTS = {
    "shopping": ("emma.lopez@gmail.com", "Password.123"),
    "shopping_admin": ("admin", "admin1234"),
    "gitlab": ("byteblaze", "hello1234"),
    "reddit": ("MarvelsGrantMan136", "test1234"),
}
LOGIN_SITES = tuple(DEFAULT_ACCOUNTS)


class UnresolvedSite(ValueError):
    """A task names a site whose address is not configured."""


@dataclass
class SiteMap:
    addresses: dict[str, str] = field(default_factory=dict)  # site -> base URL, no trailing slash

    @classmethod
    def from_sources(cls, configured: dict[str, str] | None = None, env: dict[str, str] | None = None) -> "SiteMap":
        env = dict(os.environ) if env is None else env
        out: dict[str, str] = {}
        for site, var in ENV_VARIABLES.items():
            value = (configured or {}).get(site) or env.get(var)
            if value:
                out[site] = value.rstrip("/")
        unknown = set(configured or {}) - set(PLACEHOLDERS)
        if unknown:
            raise ValueError(f"unknown WebArena site(s) {sorted(unknown)}; sites are {', '.join(PLACEHOLDERS)}")
        return cls(out)

    def missing(self, text: str) -> list[str]:
        """Variables to set before `text` (a URL, a task config) can be resolved."""
        return sorted({ENV_VARIABLES[SITE_OF_PLACEHOLDER[p]] for p in placeholders(text)
                       if SITE_OF_PLACEHOLDER.get(p) and SITE_OF_PLACEHOLDER[p] not in self.addresses}
                      | {f"(unknown placeholder {p})" for p in placeholders(text) if p not in SITE_OF_PLACEHOLDER})

    def resolve(self, text: str) -> str:
        missing = self.missing(text)
        if missing:
            raise UnresolvedSite(f"set {', '.join(missing)} to the site's address (or eval.webarena.sites in the config)")
        for placeholder in sorted(set(placeholders(text)), key=len, reverse=True):
            text = text.replace(placeholder, self.addresses[SITE_OF_PLACEHOLDER[placeholder]])
        return text

    def hosts(self) -> list[str]:
        out = []
        for url in self.addresses.values():
            p = urlparse(url)
            if p.hostname:
                out.append(f"{p.hostname}:{p.port}" if p.port else p.hostname)
        return sorted(set(out))


def placeholders(text: str) -> list[str]:
    return re.findall(r"__[A-Z]+(?:_[A-Z]+)*__", text)


def resolve_start_url(url: str, env: dict[str, str] | None = None) -> str:
    """Replace `__GITLAB__`-style placeholders with the addresses in the WA_* variables."""
    return SiteMap.from_sources(None, env).resolve(url)
