"""The test session's own PostgreSQL and Redis, started from binaries on PATH, stopped at the end."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from tests import servers


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[servers.PostgreSQLExecutor]:
    try:
        server = servers.postgresql()
    except servers.MissingBinary as error:
        pytest.exit(str(error), returncode=3)
    with server:
        servers.wait_until_accepting(server)
        yield server
    shutil.rmtree(Path(server.datadir).parent, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[servers.RedisExecutor]:
    try:
        server = servers.redis()
    except servers.MissingBinary as error:
        pytest.exit(str(error), returncode=3)
    with server:
        yield server


@pytest.fixture(scope="session")
def django_db_modify_db_settings(postgres_server: servers.PostgreSQLExecutor) -> None:
    """pytest-django's hook: point the test database at the session's server."""
    settings.DATABASES["default"].update(
        HOST=postgres_server.host, PORT=str(postgres_server.port), USER=postgres_server.user, PASSWORD=""
    )


@pytest.fixture(scope="session", autouse=True)
def _cache_on_session_redis(redis_server: servers.RedisExecutor) -> None:
    settings.CACHES["default"]["LOCATION"] = servers.redis_url(redis_server)


@pytest.fixture(autouse=True)
def _empty_cache(_cache_on_session_redis: None) -> None:
    """Each test starts with an empty cache (cached pages, throttle counters)."""
    from django.core.cache import cache

    cache.clear()
