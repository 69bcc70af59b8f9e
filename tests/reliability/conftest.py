"""A production deployment (gunicorn, 4 workers) on the session's PostgreSQL and Redis, shared by the
non-destructive scenarios. Fault-injecting scenarios start their own servers instead."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import servers
from tests.reliability import harness
from tests.service import Service

CORS_ORIGIN = "https://shop.example.com"
ADMIN_URL = "backoffice-7f3a/"
LIVE_REDIS_DB = 3


@pytest.fixture(scope="session")
def live_environment(
    postgres_server: servers.PostgreSQLExecutor, redis_server: servers.RedisExecutor
) -> dict[str, str]:
    return harness.deploy(
        postgres_server, redis_server, LIVE_REDIS_DB, CORS_ALLOWED_ORIGINS=CORS_ORIGIN, ADMIN_URL=ADMIN_URL
    )


@pytest.fixture(scope="session")
def live(live_environment: dict[str, str]) -> Iterator[Service]:
    with harness.serving(live_environment) as service:
        yield service
