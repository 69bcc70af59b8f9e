"""Readiness: can this process serve real requests right now?

PostgreSQL is required: without it every request that matters fails, so readiness is 503.
Redis is only a cache (the API answers without it, slower), so a Redis outage is reported as
`degraded` with 200: taking every replica out of the load balancer would turn a slowdown
into an outage.
"""

from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django_redis import get_redis_connection


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    required: bool
    detail: str = "ok"

    @property
    def state(self) -> str:
        if self.ok:
            return "ok"
        return "failing" if self.required else "degraded"


_migrations_applied = False


def check_database() -> Check:
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as error:  # noqa: BLE001 — any failure means "not ready", reported by name
        connections[DEFAULT_DB_ALIAS].close_if_unusable_or_obsolete()
        return Check("database", False, True, f"{type(error).__name__}: {error}".strip()[:200])
    return Check("database", True, True)


def check_migrations() -> Check:
    """Unapplied migrations mean this code runs on an old schema. Once applied, they stay applied."""
    global _migrations_applied
    if not _migrations_applied:
        try:
            executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
            pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        except Exception as error:  # noqa: BLE001
            return Check("migrations", False, True, f"cannot read the migration state: {type(error).__name__}")
        if pending:
            return Check("migrations", False, True, f"{len(pending)} unapplied; run `desideliver manage migrate`")
        _migrations_applied = True
    return Check("migrations", True, True)


def check_redis() -> Check:
    try:
        get_redis_connection("default").ping()
    except Exception as error:  # noqa: BLE001
        return Check("redis", False, False, f"{type(error).__name__}: {error}".strip()[:200])
    return Check("redis", True, False)


def readiness() -> list[Check]:
    database = check_database()
    checks = [database, check_migrations() if database.ok else Check("migrations", False, True, "database unreachable")]
    return [*checks, check_redis()]
