"""What web receives (one trusted proxy, forged X-Forwarded-For replaced), compression, the access
log, and nginx's own errors as JSON."""

from __future__ import annotations

import gzip
import http.client
import json
from pathlib import Path

import pytest

from tests.proxy import nginx
from tests.proxy.conftest import LOGIN_RATE_PER_MINUTE
from tests.proxy.nginx import Proxy
from tests.reliability import harness
from tests.reliability.harness import request
from tests.service import Service

pytestmark = pytest.mark.slow


def test_web_gets_the_clients_address_not_a_forged_one(stand_in_proxy: Proxy) -> None:
    reply = request(
        stand_in_proxy.base_url,
        "GET",
        "/api/echo/",
        headers={
            "X-Forwarded-For": "203.0.113.7, 198.51.100.1",
            "X-Forwarded-Host": "evil.example",
            "X-Forwarded-Proto": "https",
            "Forwarded": "for=203.0.113.7",
            "X-Request-ID": "client-chosen-id",
        },
    )
    seen = reply.json()["headers"]
    assert seen["x-forwarded-for"] == "127.0.0.1"
    assert seen["x-forwarded-proto"] == "http"
    # The Host the client sent, with its port (a browser's Origin is compared with it).
    assert seen["x-forwarded-host"] == f"127.0.0.1:{stand_in_proxy.port}"
    assert seen["host"] == f"127.0.0.1:{stand_in_proxy.port}"
    assert "forwarded" not in seen
    assert len(seen["x-request-id"]) == 32
    assert seen["x-request-id"] != "client-chosen-id"


def test_forged_forwarded_for_does_not_escape_the_login_throttle(proxy: Proxy, app_environment: dict[str, str]) -> None:
    """The real app (TRUSTED_PROXY_COUNT=1) behind the proxy: a new forged address per attempt
    still counts against the one address nginx saw."""
    harness.clear_throttles(app_environment)
    statuses = []
    for attempt in range(LOGIN_RATE_PER_MINUTE + 1):
        reply = request(
            proxy.base_url,
            "POST",
            "/api/auth/login/",
            body={"email": "nobody@example.com", "password": "wrong-password"},
            headers={"X-Forwarded-For": f"203.0.113.{attempt + 1}"},
        )
        statuses.append(reply.status)
    harness.clear_throttles(app_environment)
    assert statuses == [401] * LOGIN_RATE_PER_MINUTE + [429]


def vary_headers(proxy: Proxy, path: str) -> list[str]:
    """Every Vary header (web sends `Vary: Origin`, nginx adds its own line)."""
    connection = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    try:
        connection.request("GET", path, headers={"Accept-Encoding": "gzip"})
        response = connection.getresponse()
        response.read()
        return [value for name, value in response.getheaders() if name.lower() == "vary"]
    finally:
        connection.close()


def test_json_from_web_is_gzipped(proxy: Proxy, app_environment: dict[str, str]) -> None:
    harness.make_products(app_environment, [(f"Masala chai blend no. {i}", "4.50", 10) for i in range(20)])
    plain = request(proxy.base_url, "GET", "/api/products/")
    compressed = request(proxy.base_url, "GET", "/api/products/", headers={"Accept-Encoding": "gzip"})
    assert plain.status == compressed.status == 200
    assert "content-encoding" not in plain.headers
    assert compressed.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in vary_headers(proxy, "/api/products/")
    assert json.loads(gzip.decompress(compressed.body)) == plain.json()
    assert len(compressed.body) < len(plain.body) / 2


def test_token_responses_are_not_compressed(stand_in_proxy: Proxy) -> None:
    """BREACH: under /api/auth/ secrets sit next to reflected input; elsewhere the same body is."""
    auth = request(stand_in_proxy.base_url, "GET", "/api/auth/big/", headers={"Accept-Encoding": "gzip"})
    other = request(stand_in_proxy.base_url, "GET", "/api/catalog/big/", headers={"Accept-Encoding": "gzip"})
    assert other.headers.get("content-encoding") == "gzip"
    assert "content-encoding" not in auth.headers
    assert auth.json() == json.loads(gzip.decompress(other.body))


def test_the_access_log_is_json_lines_without_query_strings_or_credentials(stand_in_proxy: Proxy) -> None:
    secret_search = "search=ravi.kumar%40example.com"
    token = "eyJhbGciOiJIUzI1NiJ9.secret-token-for-the-log-test"
    request(stand_in_proxy.base_url, "GET", f"/api/products/?{secret_search}", token=token)
    entries = stand_in_proxy.logged("/api/products/")
    text = stand_in_proxy.log_path.read_text()
    assert entries, stand_in_proxy.log()
    entry = entries[-1]
    assert entry["method"] == "GET"
    assert entry["status"] == 200
    assert entry["remote"] == "127.0.0.1"
    assert len(entry["request_id"]) == 32
    assert isinstance(entry["seconds"], float | int)
    assert "ravi" not in text
    assert "example.com" not in text
    assert "secret-token" not in text


def test_the_health_endpoint_answers_without_web(media_root: Path) -> None:
    static_root = nginx.shared_directory("desideliver-proxy-no-static-")
    # A port nothing listens on: web is down.
    with nginx.running("127.0.0.1:1", static_root, media_root) as proxy:
        health = request(proxy.base_url, "GET", "/proxy-health")
        down = request(proxy.base_url, "GET", "/api/products/")
    assert (health.status, health.json()) == (200, {"status": "ok"})
    assert down.status == 502
    assert down.json() == {"detail": "The service is unavailable; retry shortly.", "code": "service_unavailable"}


def test_the_apps_own_errors_pass_through(proxy: Proxy, app: Service) -> None:
    via_proxy = request(proxy.base_url, "GET", "/api/no-such-route/")
    direct = request(app.base_url, "GET", "/api/no-such-route/")
    assert via_proxy.status == direct.status == 404
    assert via_proxy.json() == direct.json()
    assert "x-request-id" in via_proxy.headers
