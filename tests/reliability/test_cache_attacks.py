"""Attacks on the shared product cache, against the live production deployment over real HTTP."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import redis

from tests.reliability import harness
from tests.service import Service

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def catalog(live: Service, live_environment: dict[str, str]) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    products = harness.make_products(
        live_environment, [(f"Attack {tag} {name}", price, 10) for name, price in (("a", "3.00"), ("b", "1.00"))]
    )
    (staff,) = harness.make_users(live_environment, 1, prefix="cache-staff")
    harness.make_staff(live_environment, staff)
    return {"tag": tag, "products": products, "staff": staff}


def list_keys(live_environment: dict[str, str]) -> set[bytes]:
    return set(redis.Redis.from_url(live_environment["REDIS_URL"], socket_timeout=2).keys("*catalog:list:json:*"))


def test_a_forged_host_never_reaches_the_shared_page(live: Service, catalog: dict[str, Any]) -> None:
    path = f"/api/products/?search={catalog['tag']}&page_size=1"
    poisoned = harness.request(live.base_url, "GET", path, headers={"Host": "localhost"})
    assert poisoned.status == 200, poisoned.body
    assert poisoned.json()["next"] == f"/api/products/?search={catalog['tag']}&page_size=1&page=2"
    served = harness.request(live.base_url, "GET", path)
    assert b"localhost" not in served.body
    assert served.json()["next"] == poisoned.json()["next"]


def test_junk_parameters_neither_flood_the_cache_nor_reach_its_links(
    live: Service, live_environment: dict[str, str], catalog: dict[str, Any]
) -> None:
    before = list_keys(live_environment)
    for n in range(30):
        reply = harness.request(
            live.base_url, "GET", f"/api/products/?search={catalog['tag']}&page_size=1&junk{n}={uuid.uuid4().hex}"
        )
        assert reply.status == 200, reply.body
        assert "junk" not in reply.json()["next"]
    assert len(list_keys(live_environment) - before) <= 1


def test_the_last_value_of_a_repeated_parameter_decides_and_keys_the_page(
    live: Service, catalog: dict[str, Any]
) -> None:
    def names(query: str) -> list[str]:
        reply = harness.request(live.base_url, "GET", f"/api/products/?search={catalog['tag']}&{query}")
        return [row["name"][-1] for row in reply.json()["results"]]

    assert names("ordering=name&ordering=price") == ["b", "a"]
    assert names("ordering=price&ordering=name") == ["a", "b"]


def test_only_staff_can_make_a_read_skip_the_cache(
    live: Service, live_environment: dict[str, str], catalog: dict[str, Any]
) -> None:
    product_id = catalog["products"][0]
    path = f"/api/products/{product_id}/"
    assert harness.request(live.base_url, "GET", path).json()["price"] == "3.00"
    # Changed behind the application's back (no invalidation): only a read of PostgreSQL sees it.
    harness.execute(live_environment["DATABASE_URL"], "UPDATE catalog_product SET price = 4 WHERE id = %s", product_id)
    anonymous = harness.request(live.base_url, "GET", path, headers={"Cache-Control": "no-cache"})
    assert anonymous.json()["price"] == "3.00"
    staff = harness.request(
        live.base_url, "GET", path, headers={"Cache-Control": "no-cache"}, token=catalog["staff"]["access"]
    )
    assert staff.json()["price"] == "4.00"
