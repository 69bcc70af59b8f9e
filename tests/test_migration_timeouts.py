"""`desideliver manage migrate` is bounded by a lock timeout, not by the requests' statement timeout.

A real long transaction holds a lock the migration needs (an uncommitted UPDATE of a product row
blocks catalog 0002's foreign key to catalog_product); the migration runs as the image runs it.
"""

import subprocess
import threading
import time
import uuid

import psycopg
import pytest

from tests import servers
from tests.service import desideliver_command, production_environment

pytestmark = pytest.mark.slow


def migrate(environment, *arguments, timeout=60):
    return subprocess.run(
        desideliver_command("manage", "migrate", "--noinput", *arguments),
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def before_stock_ledger(postgres_server, redis_server):
    """A fresh database migrated up to catalog 0001, and a session holding a product row lock."""
    name = f"migrate_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(servers.database_url(postgres_server, "postgres"), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = servers.database_url(postgres_server, name)
    environment = production_environment(url, servers.redis_url(redis_server, 5))
    result = migrate(environment, "catalog", "0001")
    assert result.returncode == 0, result.stderr
    with psycopg.connect(url.replace("postgres://", "postgresql://")) as blocker:
        blocker.execute("UPDATE catalog_product SET stock = stock WHERE false")  # ROW EXCLUSIVE until commit
        yield environment, blocker


def test_a_migration_gives_up_on_a_held_lock_after_the_lock_timeout(before_stock_ledger):
    environment, blocker = before_stock_ledger
    started = time.monotonic()
    result = migrate({**environment, "DATABASE_MIGRATION_LOCK_TIMEOUT_MS": "500"}, timeout=30)
    assert result.returncode != 0
    assert "lock timeout" in result.stderr
    assert time.monotonic() - started < 20
    blocker.rollback()
    assert migrate(environment).returncode == 0  # rerun once the lock is free


def release_after_waited(blocker, seconds):
    """Once a migration waits on the held lock, keep it waiting `seconds`, then let it through."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        blocker.execute("SELECT pg_stat_clear_snapshot()")  # inside a transaction, the view is a snapshot
        (waiting,) = blocker.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        ).fetchone()
        if waiting:
            break
        time.sleep(0.05)
    time.sleep(seconds)
    blocker.rollback()


def test_a_migration_may_run_longer_than_the_statement_timeout(before_stock_ledger):
    environment, blocker = before_stock_ledger
    releaser = threading.Thread(target=release_after_waited, args=(blocker, 1.5))
    releaser.start()
    result = migrate({**environment, "DATABASE_STATEMENT_TIMEOUT_MS": "500"})
    releaser.join(60)
    assert result.returncode == 0, result.stderr[-2000:]
