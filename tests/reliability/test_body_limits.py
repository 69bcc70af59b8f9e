"""Big bodies are refused before they are read; slow clients cannot hold the sync workers forever.

gunicorn's sync workers read one request at a time: a client that dribbles its body holds a
worker until GUNICORN_TIMEOUT, when the master kills and replaces that worker. In production a
buffering reverse proxy (nginx, Traefik, a cloud load balancer) sits in front and hands gunicorn
only complete requests; this test proves the bound without one.
"""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest

from tests import servers
from tests.reliability import harness
from tests.service import Service

pytestmark = pytest.mark.slow

LIMIT = 256 * 1024  # MAX_REQUEST_BODY_BYTES's default


def test_declared_oversize_body_is_413_without_reading_it(live: Service) -> None:
    reply = harness.announced_body(live.base_url, "/api/auth/login/", 10 * 1024**3)  # 10 GiB, none sent
    assert reply.status == 413
    assert reply.json()["code"] == "request_too_large"
    assert reply.seconds < 2


def test_oversize_body_sent_in_full_is_413(live: Service) -> None:
    payload = json.dumps({"email": "x@example.com", "password": "p" * (LIMIT + 10)}).encode()
    reply = harness.request(
        live.base_url, "POST", "/api/auth/login/", raw=payload, headers={"Content-Type": "application/json"}
    )
    assert reply.status == 413
    assert reply.seconds < 5


def test_a_valid_chunked_body_is_411_not_read_as_empty(live: Service) -> None:
    """Django reads a WSGI body only up to Content-Length: a chunked one would look empty ("field required")."""
    status, body = harness.send_chunked(
        live.base_url, "/api/auth/login/", [b'{"email": "chunked@example.com", ', b'"password": "whatever"}']
    )
    assert status == 411, body
    assert body["code"] == "length_required"


def test_chunked_oversize_body_is_refused(live: Service) -> None:
    status, body = harness.send_chunked(live.base_url, "/api/auth/login/", [b"x" * 65536] * (LIMIT // 65536 + 4))
    assert status == 411, body
    assert body["code"] == "length_required"


def test_slow_uploads_hold_workers_only_until_the_worker_timeout(
    postgres_server: servers.PostgreSQLExecutor, redis_server: servers.RedisExecutor
) -> None:
    timeout = 3
    environment = harness.deploy(postgres_server, redis_server, 7, GUNICORN_TIMEOUT=str(timeout), WEB_CONCURRENCY="2")
    stop = threading.Event()
    with harness.serving(environment) as service:
        host, port = service.base_url.removeprefix("http://").split(":")

        def slowloris() -> None:
            with socket.create_connection((host, int(port)), timeout=30) as sock:
                sock.sendall(
                    b"POST /api/auth/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    b"Content-Length: 1000\r\n\r\n"
                )
                try:
                    while not stop.wait(0.5):
                        sock.sendall(b" ")
                except OSError:
                    return  # the worker holding this connection was killed and replaced

        attackers = [threading.Thread(target=slowloris, daemon=True) for _ in range(2)]  # one per worker
        for attacker in attackers:
            attacker.start()
        time.sleep(0.5)
        started = time.monotonic()
        reply = harness.request(service.base_url, "GET", "/health/", timeout=timeout * 4)
        waited = time.monotonic() - started
        stop.set()
        for attacker in attackers:
            attacker.join(timeout=10)
        log = service.log_path.read_text(errors="replace")
    print(f"\nslow clients: with both workers held by slow uploads, a request waited {waited:.2f} s")
    assert reply.status == 200, reply.error
    assert waited < timeout + 3, log
    assert "WORKER TIMEOUT" in log
