"""A query that failed is not an unreachable database: real statement timeouts and real deadlocks.

Each fault is caused for real on the session's PostgreSQL by a second connection (a lock held,
a lock taken in the opposite order); the request under test runs the application's own code.
"""

import threading
import time

import psycopg
import pytest
from django.db import connection
from django.test import Client

from tests.api.admin_forms import form_fields
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def other_connection(postgres_server):
    """A second session on the test database, as another process would have."""
    settings = connection.settings_dict
    with psycopg.connect(
        host=postgres_server.host, port=postgres_server.port, user=postgres_server.user, dbname=settings["NAME"]
    ) as other:
        yield other


def test_a_statement_timeout_is_504_query_timeout(api, other_connection):
    ProductFactory()
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 300")
    try:
        other_connection.execute("LOCK TABLE catalog_product IN ACCESS EXCLUSIVE MODE")  # as a long migration does
        response = api.get("/api/products/")
    finally:
        other_connection.rollback()
        connection.close()  # the next connection has the configured timeout again
    assert response.status_code == 504, response.content
    assert response.json()["code"] == "query_timeout"
    assert "Retry-After" not in response


def test_a_deadlock_is_409_database_conflict(other_connection):
    first, second = ProductFactory(price="1.00"), ProductFactory(price="2.00")
    admin = Client()
    admin.force_login(UserFactory(is_staff=True, is_superuser=True))
    fields = form_fields(admin.get("/admin/catalog/product/").content.decode(), "changelist-form")
    rows = {fields[f"form-{n}-id"]: n for n in range(2)}
    edited = {**fields, f"form-{rows[str(first.pk)]}-price": "1.50", f"form-{rows[str(second.pk)]}-price": "2.50"}

    # The admin's save updates `first` then `second`; the other session holds `second`, then asks
    # for `first` once the admin waits on it. PostgreSQL aborts the admin's transaction (the
    # other session's deadlock_timeout is longer, so it is the one left to finish).
    other_connection.execute("SET deadlock_timeout = '10s'")
    other_connection.execute("SELECT 1 FROM catalog_product WHERE id = %s FOR UPDATE", [second.pk])

    def close_the_cycle() -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            other_connection.execute("SELECT pg_stat_clear_snapshot()")  # inside a transaction, a snapshot
            waiting = other_connection.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            ).fetchone()
            if waiting and waiting[0]:
                break
            time.sleep(0.05)
        other_connection.execute("SELECT 1 FROM catalog_product WHERE id = %s FOR UPDATE", [first.pk])

    closer = threading.Thread(target=close_the_cycle)
    closer.start()
    response = admin.post("/admin/catalog/product/", {**edited, "_save": "Save"})
    closer.join(15)
    other_connection.rollback()
    assert response.status_code == 409, response.content[:500]
    assert response.json()["code"] == "database_conflict"
    assert response["Retry-After"] == "1"
