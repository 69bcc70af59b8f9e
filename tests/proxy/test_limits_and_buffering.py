"""Body limits as the app's, in JSON; and buffering: a slow client holds no gunicorn worker.

The app behind the proxy has one sync worker (conftest.py): a client dribbling its body straight
to gunicorn holds that worker, so every other request waits (the control below); through nginx,
which reads the whole body before it opens the upstream connection, the others keep their latency.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest

from tests.proxy.nginx import Proxy
from tests.reliability.harness import Reply, announced_body, request, send_chunked, wait_until
from tests.service import Service

pytestmark = pytest.mark.slow

APP_LIMIT = 256 * 1024  # MAX_REQUEST_BODY_BYTES's default
# The app's UPLOAD_REQUEST_BODY_BYTES: 3 attachments of 5 MiB and the form's 256 KiB.
UPLOAD_LIMIT = 3 * 5 * 1024 * 1024 + APP_LIMIT


def assert_proxy_413(reply: Reply) -> None:
    assert reply.status == 413, (reply.status, reply.body[:200])
    assert reply.json() == {
        "detail": "The request body is larger than the limit for this route.",
        "code": "request_too_large",
    }
    assert "x-request-id" not in reply.headers, "refused by nginx, before web"


def post(proxy: Proxy, path: str, size: int) -> Reply:
    return request(proxy.base_url, "POST", path, raw=b"x" * size, headers={"Content-Type": "application/json"})


def test_a_body_over_the_apps_limit_is_refused_by_the_proxy(proxy: Proxy) -> None:
    assert_proxy_413(post(proxy, "/api/auth/login/", APP_LIMIT + 1))


def test_a_body_at_the_apps_limit_reaches_the_app(proxy: Proxy) -> None:
    reply = post(proxy, "/api/auth/login/", APP_LIMIT)
    assert reply.status == 400, reply.body[:200]  # the app's parse error: it read the body
    assert "x-request-id" in reply.headers


def test_a_huge_declared_body_is_refused_before_it_is_sent(proxy: Proxy) -> None:
    reply = announced_body(proxy.base_url, "/api/auth/login/", 10 * 1024**3)
    assert (reply.status, reply.json()["code"]) == (413, "request_too_large")
    assert reply.seconds < 2


UPLOAD_ROUTES = [
    "/api/tickets/",
    "/api/tickets/12/messages/",
    "/admin/catalog/product/add/",
    "/admin/catalog/product/7/change/",
]


@pytest.mark.parametrize("path", UPLOAD_ROUTES)
def test_upload_routes_take_images(proxy: Proxy, path: str) -> None:
    """Ticket messages (attachments) and the admin's product form (the product image): up to the
    app's upload limit (3 images of 5 MiB and the form) go on to web, which has the last word.

    Whether web's answer arrives depends on web: today's app refuses the body by its length
    before reading it and closes, which nginx may see as a reset (502). What the proxy decides is
    in its access log: the request went upstream.
    """
    size = UPLOAD_LIMIT - 32 * 1024
    before = len(proxy.access_log())
    reply = post(proxy, path, size)

    def logged() -> list[dict[str, object]]:
        return [e for e in proxy.access_log()[before:] if e["path"] == path]

    # nginx writes the line when it has finished with web too, which may be after the reply.
    wait_until(lambda: bool(logged()), timeout=10)
    (entry,) = logged()
    assert str(entry["upstream_status"]).isdigit(), (reply, entry)
    assert_proxy_413(post(proxy, path, UPLOAD_LIMIT + 128 * 1024))


@pytest.mark.parametrize("path", ["/admin/catalog/category/add/", "/admin/catalog/product/", "/api/products/"])
def test_other_forms_keep_the_small_limit(proxy: Proxy, path: str) -> None:
    assert_proxy_413(post(proxy, path, 1024 * 1024))


def test_a_chunked_body_reaches_the_app_with_a_length(proxy: Proxy, app: Service) -> None:
    """gunicorn alone refuses chunked bodies (411, tests/reliability/test_body_limits.py); nginx
    buffers them and sends Content-Length, so the login is judged on its content."""
    status, body = send_chunked(
        proxy.base_url, "/api/auth/login/", [b'{"email": "chunked@example.com", ', b'"password": "whatever-it-is"}']
    )
    assert status == 401, body


def test_a_chunked_body_over_the_limit_is_refused(proxy: Proxy) -> None:
    status, body = send_chunked(proxy.base_url, "/api/auth/login/", [b"x" * 65536] * (APP_LIMIT // 65536 + 2))
    assert (status, body["code"]) == (413, "request_too_large")


def dribble(port: int, seconds: float, stop: threading.Event) -> None:
    """A login whose 40-byte body arrives one byte at a time over `seconds`."""
    body = b'{"email": "a@example.com", "password": 1}'
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(
            b"POST /api/auth/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
        )
        for byte in body:
            if stop.wait(seconds / len(body)):
                return
            sock.sendall(bytes([byte]))
        sock.recv(1024)


def slowest_probe_while_dribbling(target_port: int, probe_url: str, seconds: float) -> float:
    stop = threading.Event()
    attacker = threading.Thread(target=dribble, args=(target_port, seconds, stop), daemon=True)
    attacker.start()
    time.sleep(0.3)  # the slow request is in: on gunicorn alone, it has the only worker
    latencies = []
    deadline = time.monotonic() + seconds * 0.6
    while time.monotonic() < deadline:
        reply = request(probe_url, "GET", "/health/", timeout=seconds * 2)
        assert reply.status == 200, reply
        latencies.append(reply.seconds)
    stop.set()
    attacker.join(timeout=30)
    return max(latencies)


def test_a_slow_upload_through_the_proxy_holds_no_worker(proxy: Proxy, app: Service) -> None:
    seconds = 4.0
    through_proxy = slowest_probe_while_dribbling(proxy.port, proxy.base_url, seconds)
    # The control: the same attack on gunicorn directly holds the one worker.
    direct = slowest_probe_while_dribbling(app.port, app.base_url, seconds)
    assert direct > seconds * 0.5, f"the control failed: gunicorn answered in {direct:.2f}s while held"
    assert through_proxy < 1.0, f"a request waited {through_proxy:.2f}s behind a slow upload"


def start_upload(proxy: Proxy, path: str, declared: int) -> socket.socket:
    """A client that has announced `declared` bytes for `path` and sent only the first KiB."""
    client = socket.create_connection(("127.0.0.1", proxy.port), timeout=10)
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\nContent-Length: {declared}\r\n\r\n"
    client.sendall(head.encode() + b"x" * 1024)
    return client


def test_at_most_three_uploads_are_buffered_at_once(stand_in_proxy: Proxy) -> None:
    """Each may be 15616k in tmp/ (a 64 MiB tmpfs in compose) before web sees who is asking."""
    held = [start_upload(stand_in_proxy, path, UPLOAD_LIMIT - 1024) for path in UPLOAD_ROUTES[:3]]
    try:
        time.sleep(0.3)  # nginx has taken each one's headers and is reading its body
        for path in UPLOAD_ROUTES:
            refused = post(stand_in_proxy, path, 1024)
            assert refused.status == 429, (path, refused.status, refused.body[:200])
            assert refused.json() == {
                "detail": "Too many uploads are in progress; retry shortly.",
                "code": "too_many_uploads",
            }
            assert "x-request-id" not in refused.headers, "refused by nginx, before web"
        read = request(stand_in_proxy.base_url, "GET", "/api/tickets/")
        assert read.status == 200, "reads are not uploads"
    finally:
        for client in held:
            client.close()

    def accepted() -> bool:
        return post(stand_in_proxy, "/api/tickets/", 1024).status == 200

    wait_until(accepted, timeout=10)  # the slots come back with the connections
