"""The harness helpers that `func:` URLs and locators name, called without `eval`.

A task writes e.g. `func:shopping_get_latest_order_url()` or
`func:gitlab_get_project_memeber_role(__page__, 'vinta')`. The call is parsed with `ast`; only the
helpers below, with literal arguments, `__page__` and `__last_url__`, are accepted. The helpers do
what the benchmark's do: the shopping ones ask the Magento REST API (with the shop's admin account),
the GitLab one reads the members table of the open page, the Reddit one is pure URL arithmetic.
"""

from __future__ import annotations

import ast
import json
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class HelperError(ValueError):
    pass


@dataclass
class HelperContext:
    page: Any  # a Playwright Page
    shopping_url: str | None  # the WA_SHOPPING address
    admin_account: tuple[str, str]  # Magento's REST token is issued for the admin account
    timeout_s: float = 30.0


def _rest(ctx: HelperContext, path: str, token: str | None = None, body: dict | None = None,
          params: dict | None = None) -> Any:
    if not ctx.shopping_url:
        raise HelperError("this helper needs the shopping site: set WA_SHOPPING")
    url = ctx.shopping_url.rstrip("/") + path + ("?" + urllib.parse.urlencode(params) if params else "")
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers=headers, method="POST" if body is not None else "GET")
    with urllib.request.urlopen(req, timeout=ctx.timeout_s) as resp:  # noqa: S310 - the user's own site
        return json.loads(resp.read().decode())


def _admin_token(ctx: HelperContext) -> str:
    user, password = ctx.admin_account
    return str(_rest(ctx, "/rest/default/V1/integration/admin/token", body={"username": user, "password": password}))


def shopping_get_latest_order_url(ctx: HelperContext) -> str:
    params = {"searchCriteria[sortOrders][0][field]": "created_at",
              "searchCriteria[sortOrders][0][direction]": "DESC", "searchCriteria[pageSize]": "1"}
    items = _rest(ctx, "/rest/V1/orders", token=_admin_token(ctx), params=params)["items"]
    return f"{ctx.shopping_url.rstrip('/')}/sales/order/view/order_id/{int(items[0]['increment_id'])}/"


def _reviews(ctx: HelperContext, sku: str) -> list[dict]:
    return _rest(ctx, f"/rest/V1/products/{urllib.parse.quote(sku)}/reviews", token=_admin_token(ctx))


def shopping_get_sku_latest_review_author(ctx: HelperContext, sku: str) -> str:
    reviews = _reviews(ctx, sku)
    return str(reviews[-1]["nickname"]) if reviews else ""


def shopping_get_sku_latest_review_rating(ctx: HelperContext, sku: str) -> str:
    reviews = _reviews(ctx, sku)
    return str(reviews[-1]["ratings"][0]["percent"]) if reviews else ""


def reddit_get_post_url(ctx: HelperContext, url: str) -> str:
    """A comment's URL /f/forum/post_id/slug/comment/... -> the post's /f/forum/post_id/."""
    p = urllib.parse.urlparse(url)
    parts = p.path.split("/")
    if len(parts) < 4 or parts[1] != "f":
        return url
    return f"{p.scheme}://{p.netloc}/f/{parts[2]}/{parts[3]}/"


_MEMBER_ROLE_JS = """(account) => {
  const names = [...document.querySelectorAll("td[data-label='Account'] span.gl-avatar-labeled-sublabel")];
  const i = names.findIndex(e => e.outerText === '@' + account);
  return document.querySelectorAll("td.col-max-role span")[i].outerText;
}"""


def gitlab_get_project_memeber_role(ctx: HelperContext, page: Any, account_name: str) -> str:
    """The role in the open project's members table ("" when the account is not listed)."""
    try:
        return str(page.evaluate(_MEMBER_ROLE_JS, account_name))
    except Exception:  # noqa: BLE001 - the harness reads a missing row as ""
        return ""


HELPERS: dict[str, Callable[..., str]] = {
    f.__name__: f for f in (shopping_get_latest_order_url, shopping_get_sku_latest_review_author,
                            shopping_get_sku_latest_review_rating, reddit_get_post_url,
                            gitlab_get_project_memeber_role)
}


@dataclass(frozen=True)
class HelperCall:
    name: str
    args: tuple[Any, ...]  # literals, or the markers PAGE / LAST_URL


PAGE, LAST_URL = "<__page__>", "<__last_url__>"


def parse_call(expr: str) -> HelperCall:
    """`func:` text (without the prefix) -> a checked call. Raises HelperError."""
    text = expr.strip().replace("__page__", "__PAGE_MARKER__")
    try:
        node = ast.parse(text, mode="eval").body
    except SyntaxError as err:
        raise HelperError(f"not a helper call: {expr!r} ({err.msg})") from None
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name) or node.keywords:
        raise HelperError(f"not a helper call: {expr!r}")
    if node.func.id not in HELPERS:
        raise HelperError(f"unknown helper {node.func.id!r} (known: {', '.join(sorted(HELPERS))})")
    args: list[Any] = []
    for a in node.args:
        if isinstance(a, ast.Name) and a.id == "__PAGE_MARKER__":
            args.append(PAGE)
        elif isinstance(a, ast.Constant):
            args.append(LAST_URL if a.value == "__last_url__" else a.value)
        else:
            raise HelperError(f"helper arguments must be literals, __page__ or '__last_url__': {expr!r}")
    return HelperCall(node.func.id, tuple(args))


def call_helper(call: HelperCall, ctx: HelperContext) -> str:
    args = [ctx.page if a == PAGE else (ctx.page.url if a == LAST_URL else a) for a in call.args]
    return HELPERS[call.name](ctx, *args)
