"""Rate limits under attack, over real HTTP against gunicorn (4 workers), PostgreSQL and Redis.

Forged `X-Forwarded-For`, bursts of concurrent guesses, guesses spread over many addresses,
a flushed and a killed Redis, and scripts hammering the per-user writes. The counters live in
PostgreSQL (`throttle_window`), so the assertions also read them there.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import redis as redis_client

from tests import servers
from tests.reliability import harness
from tests.service import Service

pytestmark = pytest.mark.slow

# A deployment behind one trusted proxy, with limits small enough to reach in a few requests.
LIMITS = {
    "TRUSTED_PROXY_COUNT": "1",
    "THROTTLE_LOGIN_RATE": "4/min",
    "THROTTLE_LOGIN_ACCOUNT_RATE": "6/hour",
    "THROTTLE_REGISTER_RATE": "3/hour",
    "THROTTLE_CART_RATE": "5/min",
    "THROTTLE_ORDER_RATE": "3/min",
    "THROTTLE_REFRESH_RATE": "3/hour",
    "THROTTLE_EXPORT_RATE": "2/min",
    "ORDER_UNITS_LIMIT": "1000000",  # so that amounts, not units, are what an oversized order hits
}


@pytest.fixture(scope="module")
def own_redis() -> Iterator[servers.RedisExecutor]:
    with harness.own_redis() as server:
        yield server


@pytest.fixture(scope="module")
def limited_environment(
    postgres_server: servers.PostgreSQLExecutor, own_redis: servers.RedisExecutor
) -> dict[str, str]:
    return harness.deploy(postgres_server, own_redis, 0, **LIMITS)


@pytest.fixture(scope="module")
def limited(limited_environment: dict[str, str]) -> Iterator[Service]:
    with harness.serving(limited_environment) as service:
        yield service


WRONG_PASSWORD = "wrong-guess"


def login(base_url: str, email: str, password: str = WRONG_PASSWORD, via: str | None = None) -> harness.Reply:
    headers = {"X-Forwarded-For": via} if via else None
    return harness.request(
        base_url, "POST", "/api/auth/login/", body={"email": email, "password": password}, headers=headers
    )


def a_new_email() -> str:
    return f"nobody-{uuid.uuid4().hex[:12]}@example.com"


# --- Who the client is (TRUSTED_PROXY_COUNT) ---------------------------------------------------


def test_forged_forwarded_for_does_not_buy_more_login_attempts(live: Service, live_environment: dict[str, str]) -> None:
    """Default: no proxy is trusted, so a new X-Forwarded-For per request is still one client."""
    harness.clear_throttles(live_environment)
    try:
        statuses = [login(live.base_url, a_new_email(), via=f"203.0.113.{n}, 198.51.100.{n}").status for n in range(12)]
    finally:
        harness.clear_throttles(live_environment)
    assert statuses == [401] * 10 + [429] * 2, statuses


def test_behind_a_trusted_proxy_the_address_it_appended_is_the_client(limited: Service) -> None:
    """One trusted proxy: the client controls everything left of the proxy's entry, and it doesn't count."""
    forged = [
        login(limited.base_url, a_new_email(), via=f"10.9.{n}.1, 192.0.2.10").status for n in range(6)
    ]  # the same client (192.0.2.10) rotating the part it controls
    neighbour = login(limited.base_url, a_new_email(), via="10.9.0.1, 192.0.2.11")
    assert forged == [401] * 4 + [429] * 2, forged
    assert neighbour.status == 401  # another client behind the same proxy has its own counter


def test_concurrent_guesses_get_exactly_the_limit(live: Service, live_environment: dict[str, str]) -> None:
    """30 wrong passwords released together on 4 workers: 10 are checked, 20 refused (atomic counter)."""
    harness.clear_throttles(live_environment)
    try:
        replies = harness.concurrently([lambda: login(live.base_url, a_new_email()) for _ in range(30)], workers=30)
    finally:
        harness.clear_throttles(live_environment)
    assert Counter(reply.status for reply in replies) == {401: 10, 429: 20}


# --- What counts ---------------------------------------------------------------------------------


def test_successful_logins_are_not_counted(limited: Service, limited_environment: dict[str, str]) -> None:
    (user,) = harness.make_users(limited_environment, 1, prefix="good-login")
    via = "10.8.0.1, 192.0.2.20"
    successes = [login(limited.base_url, user["email"], harness.PASSWORD, via=via).status for _ in range(6)]
    failures = [login(limited.base_url, user["email"], via=via).status for _ in range(5)]
    assert successes == [200] * 6  # the limit is 4/min: none of these used it up
    assert failures == [401] * 4 + [429]


def test_guesses_at_one_account_from_many_addresses_are_limited(limited: Service) -> None:
    """6/hour per account, wherever the guesses come from; other accounts are unaffected."""
    victim = a_new_email()
    statuses = [login(limited.base_url, victim, via=f"10.7.0.1, 192.0.2.{100 + n}").status for n in range(8)]
    other = login(limited.base_url, a_new_email(), via="10.7.0.1, 192.0.2.200")
    assert statuses == [401] * 6 + [429] * 2, statuses
    assert other.status == 401


def test_registration_is_limited_per_client(limited: Service) -> None:
    via = "10.6.0.1, 192.0.2.30"
    password = "Throttled-Horse-55-cactus"
    statuses = [
        harness.request(
            limited.base_url,
            "POST",
            "/api/auth/register/",
            body={"email": a_new_email(), "password": password},
            headers={"X-Forwarded-For": via},
        ).status
        for _ in range(4)
    ]
    assert statuses == [201] * 3 + [429]


# --- Per-user writes -----------------------------------------------------------------------------


def write_requests(base: str, user: dict[str, Any], product_id: int) -> dict[str, Any]:
    token = user["access"]
    refresh = {"token": user["refresh"]}

    def rotate() -> harness.Reply:
        reply = harness.request(base, "POST", "/api/auth/token/refresh/", body={"refresh": refresh["token"]})
        if reply.status == 200:
            refresh["token"] = reply.json()["refresh"]
        return reply

    return {
        "cart": (
            5,
            lambda: harness.request(base, "POST", "/api/cart/add/", body={"product_id": product_id}, token=token),
        ),
        "order": (3, lambda: harness.request(base, "POST", "/api/orders/create/", token=token)),
        "export": (2, lambda: harness.request(base, "GET", "/api/orders/export.csv", token=token)),
        "refresh": (3, rotate),
    }


@pytest.mark.parametrize("scope", ["cart", "order", "export", "refresh"])
def test_writes_are_limited_per_user(limited: Service, limited_environment: dict[str, str], scope: str) -> None:
    (product_id,) = harness.make_products(limited_environment, [(f"Limited {scope}", "1.00", 1000)])
    hammering, other = harness.make_users(limited_environment, 2, prefix=f"limited-{scope}")
    limit, call = write_requests(limited.base_url, hammering, product_id)[scope]
    replies = [call() for _ in range(limit + 2)]
    statuses = [reply.status for reply in replies]
    assert all(status not in (429, 500) for status in statuses[:limit]), statuses
    assert statuses[limit:] == [429, 429], statuses
    assert replies[-1].json()["code"] == "throttled"
    assert int(replies[-1].headers["retry-after"]) >= 1
    _, other_call = write_requests(limited.base_url, other, product_id)[scope]
    assert other_call().status != 429  # someone else's limit is their own


def test_ordered_units_are_capped_per_user_per_window(live: Service, live_environment: dict[str, str]) -> None:
    """ORDER_UNITS_LIMIT (100 by default) over ORDER_UNITS_WINDOW_HOURS: stock alone doesn't stop a script."""
    (product_id,) = harness.make_products(live_environment, [("Capped chai", "1.00", 10_000)])
    (buyer,) = harness.make_users(live_environment, 1, prefix="units-cap")
    base, token = live.base_url, buyer["access"]

    def buy(quantity: int) -> harness.Reply:
        added = harness.request(
            base, "POST", "/api/cart/add/", body={"product_id": product_id, "quantity": quantity}, token=token
        )
        assert added.status == 201, added.body
        return harness.request(base, "POST", "/api/orders/create/", token=token)

    assert buy(60).status == 201
    refused = buy(41)
    assert refused.status == 409, refused.body
    assert refused.json()["code"] == "order_limit_reached"
    (line,) = harness.request(base, "GET", "/api/cart/", token=token).json()["items"]
    assert line["quantity"] == 41  # the refused order left the cart as it was
    fitted = harness.request(base, "PUT", f"/api/cart/update/{line['id']}/", body={"quantity": 40}, token=token)
    assert fitted.status == 200
    assert harness.request(base, "POST", "/api/orders/create/", token=token).status == 201  # exactly 100


# --- Where the counters live -----------------------------------------------------------------------


def test_limits_survive_a_flushed_and_a_dead_redis(
    limited: Service, limited_environment: dict[str, str], own_redis: servers.RedisExecutor
) -> None:
    """A cache flood (allkeys-lru evicting everything is a FLUSHALL) or a Redis outage lifts no limit."""
    via = "10.5.0.1, 192.0.2.40"
    statuses = [login(limited.base_url, a_new_email(), via=via).status for _ in range(5)]
    assert statuses == [401] * 4 + [429]
    redis_client.Redis(host=own_redis.host, port=own_redis.port, socket_timeout=2).flushall()
    assert login(limited.base_url, a_new_email(), via=via).status == 429
    own_redis.stop()
    try:
        dead = login(limited.base_url, a_new_email(), via=via)
        fresh = login(limited.base_url, a_new_email(), via="10.5.0.1, 192.0.2.41")
    finally:
        own_redis.start()
    assert dead.status == 429, dead.body
    assert fresh.status == 401  # and logins still work without Redis
    ((hits,),) = harness.query(
        limited_environment["DATABASE_URL"], "SELECT hits FROM throttle_window WHERE key = %s", "login:192.0.2.40"
    )
    assert hits == 7


# --- Amounts past what the columns hold (here: the units cap is lifted) ------------------------


def test_amounts_past_an_orders_total_are_a_400_naming_the_field(
    limited: Service, limited_environment: dict[str, str]
) -> None:
    """Prices at the column maximum (99,999,999.99) x 10,000: a second such line passes 10^12."""
    dear = harness.make_products(
        limited_environment, [("Dear dal", "99999999.99", 50_000), ("Dear dosa", "99999999.99", 50_000)]
    )
    (buyer,) = harness.make_users(limited_environment, 1, prefix="dear")
    base, token = limited.base_url, buyer["access"]

    def add(product_id: int, quantity: int) -> harness.Reply:
        body = {"product_id": product_id, "quantity": quantity}
        return harness.request(base, "POST", "/api/cart/add/", body=body, token=token)

    assert add(dear[0], 10_000).status == 201
    too_much = add(dear[1], 10_000)
    assert too_much.status == 400, too_much.body
    assert too_much.json()["code"] == "cart_total_too_large"
    assert "quantity" in too_much.json()["errors"]
    merged = add(dear[0], 1)
    assert merged.status == 400, merged.body
    assert merged.json()["code"] == "quantity_too_large"
    # A line from before these limits (or priced up since): the cart still renders, the order refuses.
    harness.execute(
        limited_environment["DATABASE_URL"],
        "INSERT INTO cart_cartitem (user_id, product_id, quantity, added_at) VALUES (%s, %s, 10000, now())",
        buyer["id"],
        dear[1],
    )
    cart = harness.request(base, "GET", "/api/cart/", token=token)
    assert cart.status == 200, cart.body
    assert cart.json()["total"] == "1999999999800.00"
    order = harness.request(base, "POST", "/api/orders/create/", token=token)
    assert order.status == 400, order.body
    assert order.json()["code"] == "order_too_large"
    assert "total" in order.json()["errors"]
