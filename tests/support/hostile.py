"""Loopback pages that misbehave, served by the tests: scripts that never yield, dialog loops, a
page too large to walk, redirects and subresources aimed at another (forbidden) server."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HUGE_ROWS = 60_000


class LoggingServer:
    """A server that only records the requests it gets: the 'forbidden' host whose log must stay empty."""

    def __init__(self) -> None:
        self.log: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _any(self):
                outer.log.append(f"{self.command} {self.path}")
                body = b"<html><body><p id='secret'>forbidden content</p></body></html>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_HEAD = _any

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def pages(forbidden: str) -> dict[str, str]:
    """path -> HTML (or 'REDIRECT url'); `forbidden` is the base URL of the server nobody may reach."""
    huge = "".join(f"<div><span>row {i}</span><a href='#r{i}'>link {i}</a></div>" for i in range(HUGE_ROWS))
    return {
        "/ok": "<html><body><h1>Fine page</h1><button onclick=\"document.title='clicked'\">Go</button>"
               "<a href='/redirect-away'>Away</a> <a href='/ok2'>Next</a></body></html>",
        "/ok2": "<html><body><h1>Second page</h1></body></html>",
        "/busy-after-load": "<html><body><p>Loading</p><script>setTimeout(() => { for (;;) {} }, 200)</script>"
                            "</body></html>",
        "/busy-inline": "<html><body><p>Never loads</p><script>for (;;) {}</script></body></html>",
        "/busy-on-click": "<html><body><button onclick='for (;;) {}'>Freeze</button></body></html>",
        "/alert-loop": "<html><body><button onclick=\"for (;;) alert('again')\">Alerts</button></body></html>",
        "/alert-once": "<html><body><button onclick=\"alert('Saved!')\">Save</button></body></html>",
        "/huge": f"<html><body><h1>Huge</h1>{huge}</body></html>",
        "/redirect-away": f"REDIRECT {forbidden}/stolen",
        "/subresources": f"<html><body><h1>Subresources</h1><img src='{forbidden}/img.png'>"
                         f"<script>fetch('{forbidden}/fetch').catch(() => 0);"
                         f"navigator.sendBeacon('{forbidden}/beacon', 'x');"
                         f"try {{ new WebSocket('{forbidden.replace('http', 'ws')}/ws'); }} catch (e) {{}}"
                         f"</script><link rel='stylesheet' href='{forbidden}/style.css'>"
                         f"<iframe src='{forbidden}/frame'></iframe></body></html>",
        "/page-redirect": f"<html><body><h1>Leaving</h1><script>setTimeout(() => location.href = "
                          f"'{forbidden}/page-redirect-target', 100)</script></body></html>",
        "/form": f"<html><body><form method='post' action='{forbidden}/post'><button>Send</button></form>"
                 "</body></html>",
    }


class HostileSite:
    def __init__(self, forbidden: str) -> None:
        content = pages(forbidden)

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                page = content.get(self.path.split("?")[0])
                if page is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                if page.startswith("REDIRECT "):
                    self.send_response(302)
                    self.send_header("Location", page.split(" ", 1)[1])
                    self.end_headers()
                    return
                body = page.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.host = f"127.0.0.1:{self.port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class HostileSites:
    """`with HostileSites() as (site, forbidden):` the misbehaving site and the server it aims at."""

    def __enter__(self) -> tuple[HostileSite, LoggingServer]:
        self.forbidden = LoggingServer()
        self.site = HostileSite(self.forbidden.url)
        return self.site, self.forbidden

    def __exit__(self, *exc: object) -> None:
        self.site.close()
        self.forbidden.close()
