"""Product reads are served from Redis; any product or category change invalidates them.

Entries are the rendered JSON of a response, stored as `[tag, body]`; an entry is a hit only if
its tag equals the current versions, read in the same MGET as the entry itself:
- list pages are tagged with the catalog version, which every product or category change bumps
  (one key invalidates every page, filter and ordering);
- a product's detail is tagged with the catalog epoch and that product's own version, which a
  change to that product (or its category) bumps.
A reader reads the versions *before* it reads PostgreSQL, so a reader that loaded the old row and
stores it after the writer's invalidation stores it under the old tag: nobody is served it.
Versions are random, so a version key that expires or is evicted only causes misses.

If an invalidation cannot reach Redis, the entries it should have dropped may still be there when
Redis answers again. The process that failed remembers it: until it has bumped the epoch and the
catalog version (which drops every entry), it reads PostgreSQL instead of the cache, and it retries
before its next read and every RETRY_SECONDS in the background. See docs/reliability.md.
"""

import contextlib
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

from django.core.cache import cache
from django.db import transaction
from django_redis.exceptions import ConnectionInterrupted

logger = logging.getLogger(__name__)

CATALOG_VERSION_KEY = "catalog:version"
CATALOG_EPOCH_KEY = "catalog:epoch"
RETRY_SECONDS = 0.5


def product_version_key(product_id: int) -> str:
    return f"catalog:product:version:{product_id}"


def list_cache_key(parameters: Mapping[str, str]) -> str:
    """The key of a list page: the parameters the view reads, already normalised by the view."""
    return "catalog:list:json:" + urlencode(sorted(parameters.items()))


def detail_cache_key(product_id: int) -> str:
    return f"catalog:product:json:{product_id}"


def _redis() -> Any:
    """django-redis's client itself: unlike `cache`, it raises ConnectionInterrupted instead of
    ignoring it, so a failed invalidation is known."""
    return cache.client  # type: ignore[attr-defined]


def _new_version() -> str:
    return secrets.token_hex(8)


class _FailedInvalidation:
    """Whether an invalidation of this process could not reach Redis and is not yet made good."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending = False
        self._retrying = False

    def record(self) -> None:
        with self._lock:
            self._pending = True
            if self._retrying:
                return
            self._retrying = True
        threading.Thread(target=self._retry_until_done, name="catalog-cache-recovery", daemon=True).start()

    def resolved(self) -> bool:
        """True once nothing is pending: every entry written before the failure is now a miss."""
        if not self._pending:
            return True
        try:
            _redis().set_many({CATALOG_EPOCH_KEY: _new_version(), CATALOG_VERSION_KEY: _new_version()}, timeout=None)
        except ConnectionInterrupted:
            return False
        with self._lock:
            self._pending = False
        logger.warning("catalog cache: Redis answers again; every cached product entry dropped")
        return True

    def _retry_until_done(self) -> None:
        while not self.resolved():
            time.sleep(RETRY_SECONDS)
        with self._lock:
            self._retrying = False
            retry_again = self._pending  # a failure recorded while this thread was finishing
        if retry_again:
            self.record()


failed_invalidation = _FailedInvalidation()


def _current(key: str, found: dict[str, Any]) -> str:
    """The version under `key`, read in the same MGET as the entry, or a new one if it is missing."""
    version = found.get(key)
    if version is None:
        _redis().add(key, _new_version())
        version = _redis().get(key)  # whoever added first
    return str(version)


def _cached(version_keys: list[str], key: str, build: Callable[[], str]) -> str:
    if not failed_invalidation.resolved():
        return build()
    try:
        found = _redis().get_many([*version_keys, key])
        tag = ":".join(_current(version_key, found) for version_key in version_keys)
    except ConnectionInterrupted:
        return build()
    entry = found.get(key)
    if isinstance(entry, list) and len(entry) == 2 and entry[0] == tag:
        return str(entry[1])
    value = build()
    with contextlib.suppress(ConnectionInterrupted):  # not stored: the next reader builds it again
        _redis().set(key, [tag, value])
    return value


def cached_list(key: str, build: Callable[[], str]) -> str:
    """The list page under `key`, built and stored on a miss or when the catalog changed since."""
    return _cached([CATALOG_VERSION_KEY], key, build)


def cached_detail(product_id: int, build: Callable[[], str]) -> str:
    """The product's detail, built and stored on a miss or when the product changed since."""
    return _cached([CATALOG_EPOCH_KEY, product_version_key(product_id)], detail_cache_key(product_id), build)


def invalidate_products(product_ids: Iterable[int] = ()) -> None:
    """After the current transaction commits, make the listed details and every list page misses."""
    versions = [CATALOG_VERSION_KEY, *(product_version_key(product_id) for product_id in product_ids)]

    def invalidate() -> None:
        try:
            _redis().set_many({key: _new_version() for key in versions}, timeout=None)
        except ConnectionInterrupted:
            logger.error("catalog cache: invalidation could not reach Redis; reading PostgreSQL until it does")
            failed_invalidation.record()

    transaction.on_commit(invalidate)
