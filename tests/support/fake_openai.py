"""An OpenAI-compatible server on loopback whose answers are scripted per request; it can stop
answering after a number of requests, as a crashed model server does."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeServer:
    """An OpenAI-compatible server whose answers are scripted per request."""

    def __init__(self, stop_after: int | None = None, pages: dict[str, dict] | None = None) -> None:
        self.pages = pages or {}  # GET path -> JSON, e.g. {"/props": {...}} to look like llama.cpp's server
        self.requests: list[tuple[str, dict]] = []
        self.statuses: list[int] = []
        self.stop_after = stop_after
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _send(self, status, body, headers=None):
                data = json.dumps(body).encode()
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                if self.path in outer.pages:
                    return self._send(200, outer.pages[self.path])
                if not self.path.endswith("/models"):
                    return self._send(404, {"error": "not found"})
                self._send(200, {"object": "list", "data": [{"id": "served-model", "object": "model",
                                                              "created": 0, "owned_by": "me"}]})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if self.path == "/apply-template":  # llama.cpp's server: the model's own template
                    if "/apply-template" not in outer.pages:
                        return self._send(404, {"error": "not found"})
                    prompt = "".join(f"[{m['role']}]{m['content']}" for m in body["messages"]) + "[assistant]"
                    return self._send(200, {"prompt": prompt})
                outer.requests.append((self.path, body))
                if outer.stop_after is not None and len(outer.requests) > outer.stop_after:
                    threading.Thread(target=outer.close, daemon=True).start()  # the server dies mid-run
                    self.close_connection = True
                    return
                # a status, or (status, headers) such as (429, {"Retry-After": "2"})
                status = outer.statuses.pop(0) if outer.statuses else 200
                status, headers = status if isinstance(status, tuple) else (status, {})
                if status != 200:
                    return self._send(status, {"error": {"message": f"status {status}", "type": "x"}}, headers)
                usage = {"prompt_tokens": 11, "completion_tokens": 3, "total_tokens": 14,
                         "prompt_tokens_details": {"cached_tokens": 8}}  # as vLLM and OpenAI report a prefix hit
                if self.path.endswith("/chat/completions"):
                    msg = {"role": "assistant", "content": 'do(action="Click", element="3")'}
                    return self._send(200, {"id": "1", "object": "chat.completion", "created": 0, "model": body["model"],
                                            "choices": [{"index": 0, "message": msg, "finish_reason": "stop"}],
                                            "usage": usage})
                return self._send(200, {"id": "1", "object": "text_completion", "created": 0, "model": body["model"],
                                        "choices": [{"index": 0, "text": "thinking</think>exit(message=\"ok\")",
                                                     "finish_reason": "stop", "logprobs": None}], "usage": usage})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
