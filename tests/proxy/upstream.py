"""A tiny HTTP server standing in for web where the app has nothing to show yet.

It stands for the app's authenticated attachment view (issue 13 §2: an empty body with
`X-Accel-Redirect: /internal-media/attachments/<name>`), for a JSON response large enough to
compress under /api/auth/ and elsewhere, and for a view that reports the request exactly as it
reached the app (headers, body length), which the app itself never echoes.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ATTACHMENT = "/api/attachment/"  # + a name: X-Accel-Redirect to /internal-media/attachments/<name>
ESCAPE = "/api/attachment-escape/"  # X-Accel-Redirect out of the internal location
# Django's default Content-Type (text/html) left on the redirect: nginx keeps the upstream's type.
AS_HTML = "/api/attachment-as-html/"
BIG_JSON = b'{"items": [' + b", ".join(b'{"name": "product %d", "price": "9.99"}' % i for i in range(200)) + b"]}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the tests read nginx's log, not this one."""

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path.startswith(ATTACHMENT):
            name = self.path.removeprefix(ATTACHMENT)
            self._send(200, b"", {"X-Accel-Redirect": f"/internal-media/attachments/{name}"})
        elif self.path.startswith(AS_HTML):
            name = self.path.removeprefix(AS_HTML)
            redirect = {"X-Accel-Redirect": f"/internal-media/attachments/{name}"}
            self._send(200, b"", {**redirect, "Content-Type": "text/html; charset=utf-8"})
        elif self.path.startswith(ESCAPE):
            self._send(200, b"", {"X-Accel-Redirect": "/internal-media/../nginx.conf"})
        elif self.path.endswith("/big/"):
            self._send(200, BIG_JSON, {"Content-Type": "application/json"})
        else:
            seen = {
                "headers": {name.lower(): value for name, value in self.headers.items()},
                "body_bytes": len(body),
            }
            self._send(200, json.dumps(seen).encode(), {"Content-Type": "application/json"})

    do_GET = _answer
    do_POST = _answer


@contextmanager
def serving() -> Iterator[str]:
    """The stand-in on 127.0.0.1 (a random port); yields host:port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
