"""Races and replays on tokens and orders, over real HTTP with real threads and PostgreSQL locks.

Where a race needs a precise interleaving, the test makes it happen instead of hoping: it holds
a row lock in its own transaction, waits until the service's request is blocked on it (as seen
in `pg_stat_activity`), changes the data underneath and lets go.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from psycopg import sql

from tests.reliability import harness
from tests.service import Service

pytestmark = pytest.mark.slow


@pytest.fixture
def buyer(live_environment: dict[str, str]) -> dict[str, Any]:
    (user,) = harness.make_users(live_environment, 1, prefix="race")
    return user


@pytest.fixture
def products(live_environment: dict[str, str]) -> list[int]:
    return harness.make_products(live_environment, [("Race rice", "2.00", 1000), ("Race rasam", "3.00", 1000)])


def add(base: str, token: str, product_id: int, quantity: int = 1) -> harness.Reply:
    return harness.request(
        base, "POST", "/api/cart/add/", body={"product_id": product_id, "quantity": quantity}, token=token
    )


# --- Refresh tokens --------------------------------------------------------------------------


def test_concurrent_refreshes_of_one_token_let_exactly_one_through(live: Service, buyer: dict[str, Any]) -> None:
    replies = harness.concurrently(
        [
            lambda: harness.request(
                live.base_url, "POST", "/api/auth/token/refresh/", body={"refresh": buyer["refresh"]}
            )
            for _ in range(8)
        ],
        workers=8,
    )
    assert Counter(reply.status for reply in replies) == {200: 1, 401: 7}, [r.body[:80] for r in replies]


def test_a_password_change_revokes_refresh_and_access_tokens(
    live: Service, live_environment: dict[str, str], buyer: dict[str, Any]
) -> None:
    harness.run_manage(
        live_environment,
        "shell",
        "-c",
        f"from desideliver.users.models import User; u = User.objects.get(pk={buyer['id']}); "
        "u.set_password('Changed-Horse-91-walrus'); u.save()",
    )
    refreshed = harness.request(live.base_url, "POST", "/api/auth/token/refresh/", body={"refresh": buyer["refresh"]})
    assert refreshed.status == 401, refreshed.body
    assert harness.request(live.base_url, "GET", "/api/cart/", token=buyer["access"]).status == 401


def test_logout_blacklists_the_refresh_token(live: Service, buyer: dict[str, Any]) -> None:
    base = live.base_url
    logout = harness.request(base, "POST", "/api/auth/logout/", body={"refresh": buyer["refresh"]})
    assert logout.status == 204, logout.body
    assert harness.request(base, "POST", "/api/auth/token/refresh/", body={"refresh": buyer["refresh"]}).status == 401
    again = harness.request(base, "POST", "/api/auth/logout/", body={"refresh": buyer["refresh"]})
    assert again.status == 401
    assert again.is_json
    assert harness.request(base, "POST", "/api/auth/logout/", body={"refresh": "garbage"}).status == 401


# --- Idempotency-Key ---------------------------------------------------------------------------


def create(base: str, token: str, key: str | None, body: Any = None) -> harness.Reply:
    headers = {"Idempotency-Key": key} if key is not None else None
    return harness.request(base, "POST", "/api/orders/create/", token=token, headers=headers, body=body)


def orders_of(environment: dict[str, str], user: dict[str, Any]) -> int:
    ((count,),) = harness.query(
        environment["DATABASE_URL"], "SELECT count(*) FROM orders_order WHERE user_id = %s", user["id"]
    )
    return int(count)


def test_a_retried_order_with_the_same_key_is_placed_once(
    live: Service, live_environment: dict[str, str], buyer: dict[str, Any], products: list[int]
) -> None:
    """The client whose 201 was lost retries, 8 times at once: one order, every answer is that order."""
    base, token, key = live.base_url, buyer["access"], str(uuid.uuid4())
    assert add(base, token, products[0], 2).status == 201
    replies = harness.concurrently([lambda: create(base, token, key) for _ in range(8)], workers=8)
    assert [reply.status for reply in replies] == [201] * 8, [r.body[:100] for r in replies]
    assert len({reply.json()["id"] for reply in replies}) == 1
    assert sum(reply.headers.get("idempotent-replayed") == "true" for reply in replies) == 7
    assert orders_of(live_environment, buyer) == 1
    # Later, with a new cart: the same key still answers the first order and leaves the cart alone.
    assert add(base, token, products[1]).status == 201
    replay = create(base, token, key)
    assert replay.status == 201
    assert replay.json() == replies[0].json()
    assert orders_of(live_environment, buyer) == 1
    assert len(harness.request(base, "GET", "/api/cart/", token=token).json()["items"]) == 1


def test_the_same_key_with_another_body_is_refused(
    live: Service, live_environment: dict[str, str], buyer: dict[str, Any], products: list[int]
) -> None:
    base, token, key = live.base_url, buyer["access"], str(uuid.uuid4())
    assert add(base, token, products[0]).status == 201
    assert create(base, token, key, body={"note": "first"}).status == 201
    assert create(base, token, key, body={"note": "first"}).status == 201  # same body: a replay
    reused = create(base, token, key, body={"note": "second"})
    assert reused.status == 422, reused.body
    assert reused.json()["code"] == "idempotency_key_reused"
    assert orders_of(live_environment, buyer) == 1


def test_keys_are_per_user_and_expire_after_the_retention_window(
    live: Service, live_environment: dict[str, str], products: list[int]
) -> None:
    alice, bob = harness.make_users(live_environment, 2, prefix="idem")
    base, key = live.base_url, "shared-key-1"
    for user in (alice, bob):
        assert add(base, user["access"], products[0]).status == 201
    first = create(base, alice["access"], key)
    assert create(base, bob["access"], key).json()["id"] != first.json()["id"]  # Bob's key is his own
    harness.execute(
        live_environment["DATABASE_URL"],
        "UPDATE orders_order SET created_at = created_at - interval '25 hours' WHERE id = %s",
        first.json()["id"],
    )
    assert add(base, alice["access"], products[0]).status == 201
    fresh = create(base, alice["access"], key)  # 24 h retention by default: a new order
    assert fresh.status == 201
    assert fresh.json()["id"] != first.json()["id"]
    assert "idempotent-replayed" not in fresh.headers


@pytest.mark.parametrize("key", ["", "x" * 256, "caf\u00e9", "two words"])
def test_a_malformed_key_is_a_400_naming_the_header(live: Service, buyer: dict[str, Any], key: str) -> None:
    reply = harness.request(
        live.base_url,
        "POST",
        "/api/orders/create/",
        token=buyer["access"],
        headers={"Idempotency-Key": key.encode().decode("latin-1")},
    )
    assert reply.status == 400, reply.body
    assert "Idempotency-Key" in reply.json()["errors"]


def test_the_schema_documents_the_idempotency_key(live: Service) -> None:
    schema = harness.request(live.base_url, "GET", "/api/schema/?format=json").json()
    operation = schema["paths"]["/api/orders/create/"]["post"]
    assert {"in": "header", "name": "Idempotency-Key"}.items() <= operation["parameters"][0].items()
    assert "422" in operation["responses"]


# --- Cart lines racing orders and removals ------------------------------------------------------------


@contextmanager
def holding_row_lock(database_url: str, table: str, row_id: int) -> Iterator[psycopg.Connection[Any]]:
    """A transaction holding `FOR UPDATE` on one row; committed when the block ends."""
    with psycopg.connect(database_url.replace("postgres://", "postgresql://"), connect_timeout=5) as connection:
        statement = sql.SQL("SELECT 1 FROM {} WHERE id = %s FOR UPDATE").format(sql.Identifier(table))
        connection.execute(statement, (row_id,))
        yield connection


def in_background(call: Callable[[], harness.Reply]) -> Callable[[], harness.Reply]:
    """Start `call` on a thread; the returned function joins it and gives its reply."""
    result: list[harness.Reply] = []
    thread = threading.Thread(target=lambda: result.append(call()), daemon=True)
    thread.start()

    def join() -> harness.Reply:
        thread.join(timeout=30)
        return result[0]

    return join


def wait_for_a_blocked_request(database_url: str) -> None:
    harness.wait_until(
        lambda: (
            harness.query(
                database_url,
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()",
            )[0][0]
            > 0
        ),
        timeout=10,
        interval=0.02,
    )


def test_a_line_added_while_an_order_is_placed_stays_in_the_cart(
    live: Service, live_environment: dict[str, str], buyer: dict[str, Any], products: list[int]
) -> None:
    base, token, database_url = live.base_url, buyer["access"], live_environment["DATABASE_URL"]
    assert add(base, token, products[0]).status == 201
    with holding_row_lock(database_url, "catalog_product", products[0]):
        order = in_background(lambda: create(base, token, None))
        wait_for_a_blocked_request(database_url)  # the order holds the cart lines, waits for the product
        assert add(base, token, products[1]).status == 201
    placed = order()
    assert placed.status == 201, placed.body
    assert [item["product"] for item in placed.json()["items"]] == [products[0]]
    cart = harness.request(base, "GET", "/api/cart/", token=token).json()
    assert [item["product"]["id"] for item in cart["items"]] == [products[1]]  # not deleted unordered


def test_updating_a_line_that_is_removed_meanwhile_is_a_404(
    live: Service, live_environment: dict[str, str], buyer: dict[str, Any], products: list[int]
) -> None:
    base, token, database_url = live.base_url, buyer["access"], live_environment["DATABASE_URL"]
    line = add(base, token, products[0]).json()["id"]
    with holding_row_lock(database_url, "cart_cartitem", line) as connection:
        update = in_background(
            lambda: harness.request(base, "PUT", f"/api/cart/update/{line}/", body={"quantity": 3}, token=token)
        )
        wait_for_a_blocked_request(database_url)
        connection.execute("DELETE FROM cart_cartitem WHERE id = %s", (line,))
    reply = update()
    assert reply.status == 404, reply.body
    assert reply.json()["code"] == "not_found"


def test_cart_updates_racing_orders_and_removals_never_fail(
    live: Service, live_environment: dict[str, str], products: list[int]
) -> None:
    """Real threads, no orchestration: 10 rounds of update × 3, remove and order on one line."""
    (user,) = harness.make_users(live_environment, 1, prefix="cart-race")
    base, token = live.base_url, user["access"]
    statuses: Counter[int] = Counter()

    def contenders(line: int) -> list[Callable[[], harness.Reply]]:
        update = f"/api/cart/update/{line}/"
        return [
            *(lambda: harness.request(base, "PUT", update, body={"quantity": 2}, token=token) for _ in range(3)),
            lambda: harness.request(base, "DELETE", f"/api/cart/remove/{line}/", token=token),
            lambda: create(base, token, None),
        ]

    for _ in range(10):
        line = add(base, token, products[0]).json()["id"]
        replies = harness.concurrently(contenders(line), workers=5)
        assert all(reply.is_json or reply.status == 204 for reply in replies)
        statuses.update(reply.status for reply in replies)
        harness.request(base, "DELETE", f"/api/cart/remove/{line}/", token=token)
    print(f"\ncart races: {dict(statuses)}")
    assert set(statuses) <= {200, 201, 204, 400, 404, 409}, statuses


# --- What the cart counts ---------------------------------------------------------------------------


def test_the_cart_total_leaves_out_products_no_longer_sold(
    live: Service, live_environment: dict[str, str], buyer: dict[str, Any], products: list[int]
) -> None:
    base, token = live.base_url, buyer["access"]
    assert add(base, token, products[0], 2).status == 201  # 2 x 2.00
    assert add(base, token, products[1], 1).status == 201  # 1 x 3.00
    harness.execute(
        live_environment["DATABASE_URL"], "UPDATE catalog_product SET is_active = false WHERE id = %s", products[1]
    )
    cart = harness.request(base, "GET", "/api/cart/", token=token).json()
    assert cart["total"] == "4.00"
    assert [(item["product"]["id"], item["available"]) for item in cart["items"]] == [
        (products[0], True),
        (products[1], False),
    ]
