"""A loopback web server for the browser tests: path -> HTML, or a function giving (status, headers,
body) for that request (a slow answer, a redirect). Also answers POST the same way."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Answer = Callable[[str], tuple[int, dict[str, str], bytes]]


@contextmanager
def serve(pages: dict[str, str | Answer]) -> Iterator[str]:
    """Serve `pages` on 127.0.0.1 (a free port); yields the base URL."""
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def _answer(self):
            if self.command == "POST":
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
            page = pages.get(self.path.split("?")[0], "missing")
            status, headers, body = page(self.command) if callable(page) else (200, {}, page.encode())
            self.send_response(status)
            for k, v in {"Content-Type": "text/html", **headers, "Content-Length": str(len(body))}.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
