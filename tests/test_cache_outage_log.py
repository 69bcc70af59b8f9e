"""A Redis outage is one WARNING line per interval in the log, not an ERROR with a traceback per cache call.

django-redis's real client against a port nobody listens on (a refused connection, as when the
Redis container is stopped), through the logging configuration the settings build.
"""

from __future__ import annotations

import logging
import logging.config

import port_for
import pytest
from django.conf import settings
from django_redis.cache import RedisCache


@pytest.fixture
def unreachable_cache() -> RedisCache:
    # A fresh copy of the configured filters (their interval starts now); before the test's own
    # log capture is installed, which configuring logging would otherwise remove.
    logging.config.dictConfig(settings.LOGGING)
    location = f"redis://127.0.0.1:{port_for.select_random()}/0"  # nothing listens there
    return RedisCache(location, {**settings.CACHES["default"], "LOCATION": location})


def test_a_redis_outage_logs_one_warning_without_traceback(
    unreachable_cache: RedisCache, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        for _ in range(20):
            assert unreachable_cache.get("any-key") is None  # ignored: the request goes on
    records = [r for r in caplog.records if r.name == settings.DJANGO_REDIS_LOGGER]
    assert len(records) == 1, [r.getMessage() for r in records]
    (record,) = records
    assert record.levelname == "WARNING"
    assert record.exc_info is None
    assert "ConnectionError" in record.getMessage(), record.getMessage()
