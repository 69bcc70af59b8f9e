"""Product reads are served from Redis; any product or category change invalidates them.

Entries are the rendered JSON bytes of the response (`views.PublicProductView.cached_response`);
their keys say `json`, so a release that cached Python data under the older keys never reads them.
List pages are stored with the catalog-wide version they were built under, and read together
with the current version in one MGET (one key to bump invalidates every page, filter and
ordering); details are cached per product and deleted one by one. If Redis is
down, reads go to PostgreSQL and writes only log; cached entries still expire after CACHE_TTL.
"""

import hashlib
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlencode

from django.core.cache import cache
from django.db import transaction

CATALOG_VERSION_KEY = "catalog:version"


def _catalog_version() -> str:
    version = cache.get(CATALOG_VERSION_KEY)
    if version is None:
        version = str(time.time_ns())
        cache.add(CATALOG_VERSION_KEY, version, timeout=None)
    return str(version)


def list_cache_key(query: Iterable[tuple[str, list[str]]]) -> str:
    canonical = urlencode(sorted((name, sorted(values)) for name, values in query), doseq=True)
    digest = hashlib.blake2b(canonical.encode(), digest_size=16).hexdigest()
    return f"catalog:list:json:{digest}"


def detail_cache_key(product_id: int) -> str:
    return f"catalog:product:json:{product_id}"


def cached(key: str, build: Callable[[], Any], *, refresh: bool = False) -> Any:
    """The value under `key`, built and stored on a miss (or always rebuilt when `refresh`)."""
    value = None if refresh else cache.get(key)
    if value is None:
        value = build()
        cache.set(key, value)
    return value


def cached_list(key: str, build: Callable[[], Any], *, refresh: bool = False) -> Any:
    """Like `cached`, for list pages: stored as (catalog version, value) and read in the same round
    trip as the current version; a page stored under an older version is a miss."""
    found = {} if refresh else cache.get_many([CATALOG_VERSION_KEY, key])
    version = found.get(CATALOG_VERSION_KEY)
    version = _catalog_version() if version is None else str(version)
    entry = found.get(key)
    if isinstance(entry, tuple) and len(entry) == 2 and entry[0] == version:
        return entry[1]
    value = build()
    cache.set(key, (version, value))
    return value


def invalidate_products(product_ids: Iterable[int] = ()) -> None:
    """After the current transaction commits, drop the listed details and every list page."""

    def invalidate() -> None:
        cache.set(CATALOG_VERSION_KEY, str(time.time_ns()), timeout=None)
        cache.delete_many([detail_cache_key(product_id) for product_id in product_ids])

    transaction.on_commit(invalidate)
