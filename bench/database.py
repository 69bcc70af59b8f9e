"""What the benchmark reads from (and creates in) PostgreSQL: its database, and the orders' end state."""

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


def order_state(database_url: str, initial_stock: int) -> dict[str, Any]:
    orders, lines, quantity = one_row(
        database_url,
        "SELECT (SELECT count(*) FROM orders_order), count(*), coalesce(sum(quantity), 0) FROM orders_orderitem",
    )
    minimum, total = one_row(database_url, "SELECT min(stock), sum(stock) FROM catalog_product")
    return {
        "orders": orders,
        "order_lines": lines,
        "units_ordered": int(quantity),
        "min_stock": minimum,
        "stock_consumed": int(initial_stock - total),
    }


def stock_total(database_url: str) -> int:
    return int(one_row(database_url, "SELECT sum(stock) FROM catalog_product")[0])
