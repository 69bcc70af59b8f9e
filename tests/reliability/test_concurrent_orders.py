"""200 buyers, each with their own account and cart, order the same product (stock 10) at once."""

from __future__ import annotations

import functools
from collections import Counter

import pytest

from tests.reliability import harness
from tests.service import Service

pytestmark = pytest.mark.slow

BUYERS = 200
STOCK = 10


def test_200_concurrent_buyers_of_10_items_get_10_orders_and_190_clear_409s(
    live: Service, live_environment: dict[str, str]
) -> None:
    (product_id,) = harness.make_products(live_environment, [("Last ten lanterns", "12.50", STOCK)])
    buyers = harness.make_users(live_environment, BUYERS, prefix="buyer")

    added = harness.concurrently(
        [
            functools.partial(
                harness.request,
                live.base_url,
                "POST",
                "/api/cart/add/",
                body={"product_id": product_id, "quantity": 1},
                token=buyer["access"],
            )
            for buyer in buyers
        ],
        workers=16,
    )
    assert Counter(reply.status for reply in added) == {201: BUYERS}

    replies = harness.concurrently(
        [
            functools.partial(
                harness.request, live.base_url, "POST", "/api/orders/create/", token=buyer["access"], timeout=60
            )
            for buyer in buyers
        ],
        workers=BUYERS,
    )
    statuses = Counter(reply.status for reply in replies)
    p99 = harness.percentile([reply.seconds for reply in replies], 0.99)
    print(
        f"\nconcurrent orders: {dict(statuses)}; p99 {p99 * 1000:.0f} ms; max {max(r.seconds for r in replies):.2f} s"
    )

    assert statuses == {201: STOCK, 409: BUYERS - STOCK}, [r.error or r.body[:200] for r in replies if r.status >= 500]
    for reply in replies:
        assert reply.is_json
        if reply.status == 409:
            body = reply.json()
            assert body["code"] == "out_of_stock"
            assert "Not enough stock" in body["detail"]

    database_url = live_environment["DATABASE_URL"]
    assert harness.query(database_url, "SELECT stock FROM catalog_product WHERE id = %s", product_id) == [(0,)]
    ordered = harness.query(
        database_url,
        "SELECT count(*), coalesce(sum(quantity), 0) FROM orders_orderitem WHERE product_id = %s",
        product_id,
    )
    assert ordered == [(STOCK, STOCK)]
    acknowledged = sorted(reply.json()["id"] for reply in replies if reply.status == 201)
    stored = [
        row[0]
        for row in harness.query(
            database_url, "SELECT DISTINCT order_id FROM orders_orderitem WHERE product_id = %s ORDER BY 1", product_id
        )
    ]
    assert stored == acknowledged
    # The losers' carts are intact (the failed transaction rolled back), the winners' are empty.
    winners = {reply.json()["id"] for reply in replies if reply.status == 201}
    assert len(winners) == STOCK
    remaining = harness.query(database_url, "SELECT count(*) FROM cart_cartitem WHERE product_id = %s", product_id)
    assert remaining == [(BUYERS - STOCK,)]
