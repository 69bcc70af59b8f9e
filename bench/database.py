"""What the benchmark reads from (and creates in) PostgreSQL: its database, and the orders scenario's end state."""

from __future__ import annotations

from typing import Any

import psycopg
from devtools import servers


def create_database(server: Any, name: str) -> str:
    with psycopg.connect(servers.database_url(server, "postgres"), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return servers.database_url(server, name)


def one_row(database_url: str, sql: str) -> tuple[Any, ...]:
    """The single row of an aggregate query."""
    with psycopg.connect(database_url) as connection:
        row = connection.execute(sql).fetchone()
    assert row is not None, sql  # an aggregate without GROUP BY always returns one row
    return row


def order_totals(database_url: str) -> dict[str, int]:
    orders, lines, quantity = one_row(
        database_url,
        "SELECT (SELECT count(*) FROM orders_order), count(*), coalesce(sum(quantity), 0) FROM orders_orderitem",
    )
    minimum, stock = one_row(database_url, "SELECT min(stock), sum(stock) FROM catalog_product")
    return {"orders": orders, "order_lines": lines, "units": int(quantity), "min_stock": minimum, "stock": int(stock)}


def order_state(database_url: str, before: dict[str, int]) -> dict[str, Any]:
    """What the orders scenario changed since `before` (order_totals), and the lowest stock now."""
    after = order_totals(database_url)
    return {
        "orders": after["orders"] - before["orders"],
        "order_lines": after["order_lines"] - before["order_lines"],
        "units_ordered": after["units"] - before["units"],
        "min_stock": after["min_stock"],
        "stock_consumed": before["stock"] - after["stock"],
    }
