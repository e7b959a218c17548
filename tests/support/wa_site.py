"""A miniature of the WebArena sites, served on loopback for tests: a shop with customer login,
orders, a newsletter form and the Magento REST endpoints the harness helpers call; a shop admin
login; a GitLab-like sign-in and project members table; a Postmill-like forum with a login and a
comment page. The login forms have the labels, placeholders and test ids of the real sites."""

from __future__ import annotations

import json
import threading
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

ACCOUNTS = {"shop": ("emma.lopez@gmail.com", "Password.123"), "admin": ("admin", "admin1234"),
            "gitlab": ("byteblaze", "hello1234"), "forum": ("MarvelsGrantMan136", "test1234")}
ORDERS = [("000000189", "3/11/23", "$45.99", "Pending", [("Sprite Stasis Ball 65 cm", "24-WG082-blue")]),
          ("000000170", "2/9/23", "$12.00", "Complete", [("Overnight Duffle", "24-WB07")])]
TOKEN = "tok-7f3a"


def page(title: str, body: str) -> str:
    return f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head><body>{body}</body></html>"


class State:
    def __init__(self) -> None:
        self.subscribed = False
        self.logins: dict[str, int] = {k: 0 for k in ACCOUNTS}
        self.requests: list[str] = []
        self.lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    state: State
    root_site: str | None = None  # serve this site at "/" (the forum: its URLs start with /f/)

    def log_message(self, *args) -> None:  # quiet
        pass

    # -- plumbing ---------------------------------------------------------------------------
    def _cookies(self) -> SimpleCookie:
        return SimpleCookie(self.headers.get("Cookie", ""))

    def logged_in(self, site: str) -> bool:
        c = self._cookies().get(f"sess_{site}")
        return c is not None and c.value == "ok"

    def send(self, body: str, status: int = 200, ctype: str = "text/html; charset=utf-8",
             headers: dict | None = None) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def redirect(self, location: str, cookie: str | None = None) -> None:
        headers = {"Location": location}
        if cookie:
            headers["Set-Cookie"] = f"sess_{cookie}=ok; Path=/"
        self.send("", 302, headers=headers)

    def form(self) -> dict[str, str]:
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n).decode() if n else ""
        if self.headers.get("Content-Type", "").startswith("application/json"):
            return json.loads(raw or "{}")
        return {k: v[0] for k, v in parse_qs(raw).items()}

    def do_GET(self) -> None:
        self.route("GET")

    def do_POST(self) -> None:
        self.route("POST")

    def route(self, method: str) -> None:
        url = urlparse(self.path)
        path = f"/{self.root_site}{url.path}" if self.root_site else url.path
        self.state.requests.append(f"{method} {path}")
        site = path.split("/")[1]
        handler = getattr(self, f"site_{site}", None)
        if handler is None:
            return self.send(page("Not found", "<h1>404</h1>"), 404)
        return handler(method, "/" + "/".join(path.split("/")[2:]), parse_qs(url.query))

    def login_post(self, site: str, user_key: str, pass_key: str, ok_to: str, retry: str) -> None:
        f = self.form()
        if (f.get(user_key), f.get(pass_key)) == ACCOUNTS[site]:
            with self.state.lock:
                self.state.logins[site] += 1
            return self.redirect(ok_to, cookie=site)
        return self.redirect(retry)

    # -- shop -------------------------------------------------------------------------------
    def site_shop(self, method: str, path: str, query: dict) -> None:
        s = self.state
        if path.startswith("/rest/"):
            return self.shop_rest(method, path)
        if path == "/customer/account/login/":
            if method == "POST":
                return self.login_post("shop", "login[username]", "login[password]", "/shop/customer/account/",
                                       "/shop/customer/account/login/")
            return self.send(page("Customer Login", """<h1>Customer Login</h1>
<form method="post" action="/shop/customer/account/login/">
<label for="email">Email</label> <input id="email" type="email" name="login[username]">
<label for="pass">Password</label> <input id="pass" type="password" name="login[password]">
<button type="submit">Sign In</button></form>"""))
        if path == "/":
            who = ("<span>Welcome, Emma Lopez!</span> <a href='/shop/customer/account/'>My Account</a> "
                   "<a href='/shop/sales/order/history/'>My Orders</a>") if self.logged_in("shop") else \
                "<a href='/shop/customer/account/login/'>Sign In</a>"
            return self.send(page("One Stop Market", f"<header>{who}</header><h1>One Stop Market</h1>"
                                  "<p>Beauty &amp; Personal Care, Sports &amp; Outdoors</p>"))
        if not self.logged_in("shop"):
            return self.redirect("/shop/customer/account/login/")
        if path == "/customer/account/":
            msg = "<div class='message'>We have saved your subscription.</div>" if query.get("saved") else ""
            return self.send(page("My Account", f"""{msg}<h1>My Account</h1>
<a href="/shop/sales/order/history/">My Orders</a> <a href="/shop/newsletter/manage/">Newsletter Subscriptions</a>"""))
        if path == "/sales/order/history/":
            rows = "".join(f"<tr><td>{n}</td><td>{d}</td><td>{t}</td><td>{st}</td>"
                           f"<td><a href='/shop/sales/order/view/order_id/{int(n)}/'>View Order {n}</a></td></tr>"
                           for n, d, t, st, _ in ORDERS)
            return self.send(page("My Orders", "<h1>My Orders</h1><table class='data table table-order-items history'>"
                                  "<tr><th>Order #</th><th>Date</th><th>Order Total</th><th>Status</th><th>Action</th></tr>"
                                  f"{rows}</table>"))
        if path.startswith("/sales/order/view/order_id/"):
            oid = path.rstrip("/").split("/")[-1]
            order = next((o for o in ORDERS if int(o[0]) == int(oid)), None)
            if order is None:
                return self.send(page("Not found", "<h1>404</h1>"), 404)
            items = "".join(f"<tr><td>{name}</td><td>SKU: {sku}</td></tr>" for name, sku in order[4])
            return self.send(page(f"Order # {order[0]}", f"<h1>Order # {order[0]}</h1><p>Status: {order[3]}</p>"
                                  f"<div class='order-details-items ordered'><table>{items}</table></div>"))
        if path == "/newsletter/manage/":
            if method == "POST":
                s.subscribed = self.form().get("is_subscribed") == "1"
                return self.redirect("/shop/customer/account/?saved=1")
            checked = " checked" if s.subscribed else ""
            return self.send(page("Newsletter Subscription", f"""<h1>Newsletter Subscription</h1>
<form method="post" action="/shop/newsletter/manage/">
<label for="subscription"><input type="checkbox" id="subscription" name="is_subscribed" value="1"
 title="General Subscription"{checked}> General Subscription</label>
<button type="submit">Save</button></form>"""))
        return self.send(page("Not found", "<h1>404</h1>"), 404)

    def shop_rest(self, method: str, path: str) -> None:
        if path == "/rest/default/V1/integration/admin/token" and method == "POST":
            body = self.form()
            if (body.get("username"), body.get("password")) == ACCOUNTS["admin"]:
                return self.send(json.dumps(TOKEN), ctype="application/json")
            return self.send(json.dumps({"message": "bad credentials"}), 401, "application/json")
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self.send(json.dumps({"message": "unauthorized"}), 401, "application/json")
        if path == "/rest/V1/orders":
            return self.send(json.dumps({"items": [{"increment_id": ORDERS[0][0]}]}), ctype="application/json")
        if path.startswith("/rest/V1/products/") and path.endswith("/reviews"):
            reviews = [{"nickname": "Old", "ratings": [{"rating_name": "Rating", "percent": 40}]},
                       {"nickname": "Emma", "ratings": [{"rating_name": "Rating", "percent": 80}]}]
            return self.send(json.dumps(reviews), ctype="application/json")
        return self.send("{}", 404, "application/json")

    # -- shop admin -------------------------------------------------------------------------
    def site_admin(self, method: str, path: str, query: dict) -> None:
        if method == "POST" and path == "/":
            return self.login_post("admin", "login[username]", "login[password]", "/admin/dashboard/", "/admin/")
        if not self.logged_in("admin"):
            return self.send(page("Magento Admin", """<form method="post" action="/admin/">
<input name="login[username]" placeholder="user name"> <input type="password" name="login[password]" placeholder="password">
<button type="submit">Sign in</button></form>"""))
        return self.send(page("Dashboard", "<h1>Dashboard</h1><a href='/admin/sales/order/'>Orders</a>"))

    # -- gitlab -----------------------------------------------------------------------------
    def site_gitlab(self, method: str, path: str, query: dict) -> None:
        if path == "/users/sign_in":
            if method == "POST":
                return self.login_post("gitlab", "user[login]", "user[password]", "/gitlab/", "/gitlab/users/sign_in")
            return self.send(page("Sign in · GitLab", """<form method="post" action="/gitlab/users/sign_in">
<label>Username or email <input name="user[login]" data-testid="username-field"></label>
<label>Password <input type="password" name="user[password]" data-testid="password-field"></label>
<button type="submit" data-testid="sign-in-button">Sign in</button></form>"""))
        if not self.logged_in("gitlab"):
            return self.redirect("/gitlab/users/sign_in")
        if path == "/":
            return self.send(page("Projects · GitLab", "<h1>Projects</h1><a href='/gitlab/byteblaze/dotfiles'>byteblaze / dotfiles</a>"))
        if path == "/byteblaze/dotfiles":
            return self.send(page("dotfiles · GitLab", "<h1>dotfiles</h1>"
                                  "<a href='/gitlab/byteblaze/dotfiles/-/project_members'>Members</a>"))
        if path == "/byteblaze/dotfiles/-/project_members":
            members = [("byteblaze", "Owner"), ("vinta", "Guest"), ("koush", "Developer")]
            rows = "".join(f"<tr><td data-label='Account'><span class='gl-avatar-labeled-label'>{u.title()}</span>"
                           f"<span class='gl-avatar-labeled-sublabel'>@{u}</span></td>"
                           f"<td class='col-max-role'><span>{r}</span></td></tr>" for u, r in members)
            return self.send(page("Members · dotfiles · GitLab", f"<h1>Project members</h1><table>{rows}</table>"))
        return self.send(page("Not found", "<h1>404</h1>"), 404)

    # -- forum ------------------------------------------------------------------------------
    def site_forum(self, method: str, path: str, query: dict) -> None:
        if path == "/login":
            if method == "POST":
                return self.login_post("forum", "_username", "_password", "/", "/login")
            return self.send(page("Log in", """<form method="post" action="/login">
<label for="u">Username</label><input id="u" name="_username">
<label for="p">Password</label><input id="p" type="password" name="_password">
<button type="submit">Log in</button></form>"""))
        if path == "/":
            who = "<a href='/user/MarvelsGrantMan136'>MarvelsGrantMan136</a>" if self.logged_in("forum") else \
                "<a href='/login'>Log in</a>"
            return self.send(page("Postmill", f"<nav>{who}</nav><h1>Forums</h1>"
                                  "<a href='/f/books/59421/adults-reading-to-each-other-out-loud'>"
                                  "Adults reading to each other out loud</a>"))
        parts = path.strip("/").split("/")
        if len(parts) >= 3 and parts[0] == "f" and parts[2] == "59421":
            comment = ("<div class='comment' id='c7'><p>I read to my partner every night &amp; love it</p></div>"
                       if "comment" in parts else "<a href='/f/books/59421/adults-reading/comment/7'>1 comment</a>")
            return self.send(page("Adults reading to each other out loud", "<div class='submission__inner'>"
                                  "<h1 class='submission__title'>Adults reading to each other out loud</h1>"
                                  f"<div class='submission__body'>Do you do this?</div></div>{comment}"))
        return self.send(page("Not found", "<h1>404</h1>"), 404)


class FixtureSites:
    """`with FixtureSites() as sites:` serves on 127.0.0.1; `sites.env` holds the WA_* variables."""

    def __init__(self) -> None:
        self.state = State()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), type("H", (Handler,), {"state": self.state}))
        self.forum = ThreadingHTTPServer(("127.0.0.1", 0), type("F", (Handler,), {"state": self.state,
                                                                                 "root_site": "forum"}))
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.env = {"WA_SHOPPING": f"{self.base}/shop", "WA_SHOPPING_ADMIN": f"{self.base}/admin",
                    "WA_GITLAB": f"{self.base}/gitlab", "WA_REDDIT": f"http://127.0.0.1:{self.forum.server_address[1]}"}
        self._threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in (self.server, self.forum)]

    def __enter__(self) -> "FixtureSites":
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        for s in (self.server, self.forum):
            s.shutdown()
            s.server_close()
