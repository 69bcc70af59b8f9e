"""Data written through the API survives restarting the service and PostgreSQL (fast and immediate stops)."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from mirakuru import TCPExecutor
from mirakuru.exceptions import ProcessFinishedWithError

from tests import servers
from tests.reliability import harness

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def postgres() -> Iterator[servers.PostgreSQLExecutor]:
    with harness.own_postgres() as server:
        yield server


def snapshot(base: str, token: str) -> dict[str, Any]:
    orders = harness.request(base, "GET", "/api/orders/", token=token)
    cart = harness.request(base, "GET", "/api/cart/", token=token)
    assert orders.status == cart.status == 200
    return {"orders": orders.json()["results"], "cart": cart.json()}


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_everything_written_is_there_after_restarting_service_and_postgresql(
    postgres: servers.PostgreSQLExecutor, redis_server: servers.RedisExecutor, mode: str
) -> None:
    environment = harness.deploy(postgres, redis_server, 8)
    product_ids = harness.make_products(environment, [("Durable dal", "3.00", 500), ("Kept kheer", "4.50", 500)])
    email = f"durable-{mode}@example.com"
    password = "Durable-Horse-88-plank"

    with harness.serving(environment) as service:
        base = service.base_url
        assert (
            harness.request(base, "POST", "/api/auth/register/", body={"email": email, "password": password}).status
            == 201
        )
        token = harness.request(base, "POST", "/api/auth/login/", body={"email": email, "password": password}).json()[
            "access"
        ]
        for round_ in range(5):
            for product_id in product_ids:
                added = harness.request(
                    base,
                    "POST",
                    "/api/cart/add/",
                    body={"product_id": product_id, "quantity": round_ + 1},
                    token=token,
                )
                assert added.status == 201
            assert harness.request(base, "POST", "/api/orders/create/", token=token).status == 201
        # One more line left in the cart: uncommitted-looking state must survive too.
        harness.request(base, "POST", "/api/cart/add/", body={"product_id": product_ids[0], "quantity": 2}, token=token)
        before = snapshot(base, token)
        stock_before = harness.query(environment["DATABASE_URL"], "SELECT id, stock FROM catalog_product ORDER BY id")
    assert len(before["orders"]) == 5

    if mode == "fast":
        postgres.stop()  # pg_ctl stop -m fast: a clean shutdown with a checkpoint
    else:
        # pg_ctl stop -m immediate: PostgreSQL's processes quit without a checkpoint, like a crash;
        # the next start replays the write-ahead log.
        subprocess.run([postgres.executable, "stop", "-D", postgres.datadir, "-m", "immediate"], check=True, timeout=60)
        # Forget the stopped server in mirakuru (pytest-postgresql's stop would run pg_ctl stop again).
        with contextlib.suppress(ProcessFinishedWithError):
            TCPExecutor.stop(postgres)
    postgres.start()

    with harness.serving(environment) as service:
        base = service.base_url
        login = harness.request(base, "POST", "/api/auth/login/", body={"email": email, "password": password})
        assert login.status == 200, login.body
        after = snapshot(base, login.json()["access"])
    assert after == before
    assert (
        harness.query(environment["DATABASE_URL"], "SELECT id, stock FROM catalog_product ORDER BY id") == stock_before
    )
    assert stock_before == [(product_ids[0], 500 - 15), (product_ids[1], 500 - 15)]
