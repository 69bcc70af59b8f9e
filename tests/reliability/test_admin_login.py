"""The admin's login over real HTTP against a production deployment: throttled, and short sessions.

The throttle is the API's (PostgreSQL's `throttle_window`, the client address under
TRUSTED_PROXY_COUNT): the tests forge `X-Forwarded-For` and read the counters there.
"""

from __future__ import annotations

import http.client
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest

from tests import servers
from tests.reliability import harness
from tests.reliability.conftest import ADMIN_URL
from tests.service import Service

pytestmark = pytest.mark.slow

LOGIN = f"/{ADMIN_URL}login/"
ADDRESS_LIMIT = 7


@pytest.fixture(scope="module")
def admin_environment(
    postgres_server: servers.PostgreSQLExecutor,
    redis_server: servers.RedisExecutor,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, str]:
    """Its own deployment with collected static files: the admin's pages render them."""
    environment = harness.deploy(
        postgres_server,
        redis_server,
        7,
        ADMIN_URL=ADMIN_URL,
        STATIC_ROOT=str(tmp_path_factory.mktemp("static")),
        # Above the per-account 5 (that test's 7 attempts come from one address), below the
        # default 20 so that the address limit is reached in a few (slow, hashed) guesses.
        ADMIN_LOGIN_FAILURES_PER_ADDRESS=str(ADDRESS_LIMIT),
    )
    harness.run_manage(environment, "collectstatic", "--noinput")
    return environment


@pytest.fixture(scope="module")
def live(admin_environment: dict[str, str]) -> Iterator[Service]:
    with harness.serving(admin_environment) as service:
        yield service


@pytest.fixture(scope="module")
def live_environment(admin_environment: dict[str, str]) -> dict[str, str]:
    return admin_environment


@pytest.fixture(scope="module")
def superuser(live_environment: dict[str, str]) -> dict[str, Any]:
    (user,) = harness.make_users(live_environment, 1, prefix="admin-login")
    harness.execute(
        live_environment["DATABASE_URL"],
        "UPDATE users_user SET is_staff = true, is_superuser = true WHERE id = %s",
        user["id"],
    )
    return user


def post_login(
    live: Service, email: str, password: str, via: str | None = None
) -> tuple[int, list[tuple[str, str]], bytes]:
    """The browser's two steps: load the form (CSRF cookie and token), then post it (`via`: X-Forwarded-For)."""
    page = harness.request(live.base_url, "GET", LOGIN, headers={"Accept": "text/html"})
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
    assert token, page.body[:500]
    cookie = page.headers["set-cookie"].split(";", 1)[0]
    connection = http.client.HTTPConnection("127.0.0.1", live.port, timeout=10)
    try:
        connection.request(
            "POST",
            LOGIN,
            body=urlencode({"csrfmiddlewaretoken": token.group(1).decode(), "username": email, "password": password}),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": cookie,
                **({"X-Forwarded-For": via} if via else {}),
            },
        )
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        connection.close()


def test_failed_admin_logins_are_throttled_per_account(
    live: Service, live_environment: dict[str, str], superuser: dict[str, Any]
) -> None:
    harness.clear_throttles(live_environment)
    try:
        statuses = [post_login(live, superuser["email"], f"wrong-{n}")[0] for n in range(5)]
        assert statuses == [200] * 5  # the form again, "please enter a correct email and password"
        refused, headers, body = post_login(live, superuser["email"], harness.PASSWORD)
        assert refused == 429, body[:300]  # even the right password, until the window ends
        assert int(dict(headers)["Retry-After"]) > 0
        other_account = post_login(live, "nobody-else@example.com", "wrong")[0]
        assert other_account == 200  # another account (from the same address) is not locked by it
    finally:
        harness.clear_throttles(live_environment)


def admin_login_counters(environment: dict[str, str]) -> dict[str, int]:
    """The admin login's windows in PostgreSQL: key -> hits."""
    rows = harness.query(
        environment["DATABASE_URL"], "SELECT key, hits FROM throttle_window WHERE key LIKE %s", "admin_login_%"
    )
    return {key: hits for key, hits in rows}


def test_a_new_forged_forwarded_for_per_guess_is_still_one_client(
    live: Service, live_environment: dict[str, str]
) -> None:
    """No proxy is trusted (the default): guesses at as many accounts, each claiming another client."""
    harness.clear_throttles(live_environment)
    try:
        statuses = [
            post_login(live, f"nobody-{n}@example.com", "wrong", via=f"203.0.113.{n}, 198.51.100.{n}")[0]
            for n in range(ADDRESS_LIMIT + 1)
        ]
        counters = admin_login_counters(live_environment)
    finally:
        harness.clear_throttles(live_environment)
    assert statuses == [200] * ADDRESS_LIMIT + [429], statuses
    addresses = {key: hits for key, hits in counters.items() if key.startswith("admin_login_address:")}
    assert list(addresses.values()) == [ADDRESS_LIMIT + 1], (
        addresses
    )  # one counter for the peer, whatever the header said
    assert not any("203.0.113" in key or "127.0.0.1" in key for key in counters), "keys hold hashes only"


@pytest.fixture(scope="module")
def behind_proxy(admin_environment: dict[str, str]) -> Iterator[Service]:
    """The same deployment behind one trusted proxy, with a small per-address limit."""
    environment = {**admin_environment, "TRUSTED_PROXY_COUNT": "1", "ADMIN_LOGIN_FAILURES_PER_ADDRESS": "3"}
    with harness.serving(environment) as service:
        yield service


def test_behind_a_trusted_proxy_only_the_address_it_appended_counts(
    behind_proxy: Service, live_environment: dict[str, str]
) -> None:
    """The client rotates the part of X-Forwarded-For left of the proxy's entry: still one client."""
    harness.clear_throttles(live_environment)
    try:
        rotated = [
            post_login(behind_proxy, f"rotating-{n}@example.com", "wrong", via=f"10.9.{n}.1, 192.0.2.10")[0]
            for n in range(5)
        ]
        neighbour = post_login(behind_proxy, "neighbour@example.com", "wrong", via="10.9.0.1, 192.0.2.11")[0]
        without_header = post_login(behind_proxy, "direct@example.com", "wrong")[0]
    finally:
        harness.clear_throttles(live_environment)
    assert rotated == [200] * 3 + [429] * 2, rotated
    assert neighbour == 200  # another client behind the same proxy has its own counter
    assert without_header == 200  # and so does the peer itself (no header: REMOTE_ADDR)


def test_an_admin_session_ends_with_the_browser_and_within_two_hours(
    live: Service, live_environment: dict[str, str], superuser: dict[str, Any]
) -> None:
    harness.clear_throttles(live_environment)
    status, headers, body = post_login(live, superuser["email"], harness.PASSWORD)
    assert status == 302, body[:300]
    (session,) = [value for name, value in headers if name.lower() == "set-cookie" and value.startswith("sessionid=")]
    assert "expires" not in session.lower()
    assert "max-age" not in session.lower()  # a browser-session cookie
    key = session.split(";", 1)[0].removeprefix("sessionid=")
    ((expires,),) = harness.query(
        live_environment["DATABASE_URL"], "SELECT expire_date FROM django_session WHERE session_key = %s", key
    )
    assert 0 < (expires - datetime.now(UTC)).total_seconds() <= 2 * 3600 + 60
