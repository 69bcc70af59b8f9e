"""Production headers, CORS, HTTPS/HSTS, admin URL, password hashing and throttling, over real HTTP."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator

import pytest

from tests import servers
from tests.reliability import harness
from tests.reliability.conftest import ADMIN_URL, CORS_ORIGIN
from tests.service import Service, desideliver_command

pytestmark = pytest.mark.slow


def test_security_headers_on_api_pages_and_errors(live: Service) -> None:
    for path in ("/api/products/", "/", "/api/orders/", "/no-such-page/", "/health/ready/"):
        reply = harness.request(live.base_url, "GET", path)
        assert reply.headers.get("x-content-type-options") == "nosniff", path
        assert reply.headers.get("referrer-policy") == "same-origin", path
        assert reply.headers.get("x-frame-options") == "DENY", path
        assert "strict-transport-security" not in reply.headers  # plain HTTP: never HSTS
        assert reply.headers.get("server", "gunicorn") == "gunicorn", reply.headers["server"]  # no version
        assert "x-request-id" in reply.headers


def test_cors_allows_only_the_configured_origin(live: Service) -> None:
    allowed = harness.request(live.base_url, "GET", "/api/products/", headers={"Origin": CORS_ORIGIN})
    assert allowed.headers.get("access-control-allow-origin") == CORS_ORIGIN
    for origin in ("https://evil.example", "null", CORS_ORIGIN + ".evil.example", "http://shop.example.com"):
        other = harness.request(live.base_url, "GET", "/api/products/", headers={"Origin": origin})
        assert "access-control-allow-origin" not in other.headers, origin
        preflight = harness.request(
            live.base_url,
            "OPTIONS",
            "/api/cart/add/",
            headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
        )
        assert "access-control-allow-origin" not in preflight.headers, origin
    preflight = harness.request(
        live.base_url,
        "OPTIONS",
        "/api/cart/add/",
        headers={
            "Origin": CORS_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert preflight.headers.get("access-control-allow-origin") == CORS_ORIGIN
    assert "access-control-allow-credentials" not in preflight.headers


def test_admin_lives_at_the_configured_url_only(live: Service) -> None:
    moved = harness.request(live.base_url, "GET", f"/{ADMIN_URL}")
    assert moved.status == 302
    assert moved.headers["location"].startswith(f"/{ADMIN_URL}login/")
    assert harness.request(live.base_url, "GET", "/admin/").status == 404


def test_passwords_are_stored_with_djangos_pbkdf2_hasher(live: Service, live_environment: dict[str, str]) -> None:
    harness.clear_throttles(live_environment)
    email = f"hash-{time.time_ns()}@example.com"
    reply = harness.request(
        live.base_url, "POST", "/api/auth/register/", body={"email": email, "password": "Unusual-Horse-73-pickle"}
    )
    assert reply.status == 201, reply.body
    ((stored,),) = harness.query(
        live_environment["DATABASE_URL"], "SELECT password FROM users_user WHERE email = %s", email
    )
    algorithm, iterations, _salt, _hash = stored.split("$")
    assert algorithm == "pbkdf2_sha256"
    assert int(iterations) >= 1_000_000  # Django 5.2's default
    assert "Unusual-Horse" not in stored


def test_failed_logins_are_throttled_in_postgresql_across_workers(
    live: Service, live_environment: dict[str, str]
) -> None:
    """10/min per client (THROTTLE_LOGIN_RATE): each attempt is a new connection, so any of 4 workers."""
    harness.clear_throttles(live_environment)
    try:
        attempts = [
            harness.request(
                live.base_url,
                "POST",
                "/api/auth/login/",
                body={"email": "nobody@example.com", "password": f"guess-{n}"},
            )
            for n in range(12)
        ]
        statuses = [reply.status for reply in attempts]
        assert statuses == [401] * 10 + [429] * 2, statuses
        refused = attempts[-1]
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert refused.json()["code"] == "throttled"
        assert refused.seconds < 1.0  # refused before any password hashing
        counters = harness.query(
            live_environment["DATABASE_URL"], "SELECT key, hits FROM throttle_window WHERE key LIKE %s", "login:%"
        )
        assert counters == [("login:127.0.0.1", 12)]  # one counter, shared by every worker
    finally:
        harness.clear_throttles(live_environment)


@pytest.fixture(scope="module")
def https_service(
    postgres_server: servers.PostgreSQLExecutor, redis_server: servers.RedisExecutor
) -> Iterator[Service]:
    """The production defaults: HTTPS redirect, HSTS, secure cookies (as behind a TLS proxy)."""
    environment = harness.deploy(postgres_server, redis_server, 6)
    for name in ("SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_COOKIES"):
        environment.pop(name)
    with harness.serving(environment, ready_path="/health/") as service:
        yield service


def test_https_behind_a_proxy_gets_hsts_and_plain_http_is_redirected(https_service: Service) -> None:
    secure = harness.request(https_service.base_url, "GET", "/api/products/", headers={"X-Forwarded-Proto": "https"})
    assert secure.status == 200
    hsts = secure.headers["strict-transport-security"]
    assert "max-age=31536000" in hsts
    assert "includeSubDomains" in hsts
    plain = harness.request(https_service.base_url, "GET", "/api/products/")
    assert plain.status == 301
    assert plain.headers["location"].startswith("https://")
    assert harness.request(https_service.base_url, "GET", "/health/ready/").status == 200  # probes stay on HTTP


def test_check_deploy_is_clean_with_production_defaults(https_service: Service) -> None:
    result = subprocess.run(
        desideliver_command("manage", "check", "--deploy", "--fail-level", "WARNING"),
        env=https_service.environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
