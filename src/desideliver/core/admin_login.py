"""The admin's login form, throttled per account and per client address.

Failed attempts are counted in Redis (shared by every worker) for ADMIN_LOGIN_WINDOW_SECONDS;
past the limit, every attempt for that account or from that address is refused with 429 before
the password is checked, until the window ends. If Redis can't be reached the counts are kept in
this process (bounded), so the throttle holds, per worker, instead of opening.
"""

import contextlib
import hashlib
import threading
import time
from collections import OrderedDict
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django_redis.exceptions import ConnectionInterrupted

from desideliver.core.errors import error_body

LOCAL_ENTRIES = 10_000


class _LocalCounts:
    """Failure counts for while Redis is unreachable: at most LOCAL_ENTRIES, oldest dropped first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: OrderedDict[str, tuple[int, float]] = OrderedDict()

    def get(self, key: str) -> int:
        with self._lock:
            count, expires = self._counts.get(key, (0, 0.0))
            return count if expires > time.monotonic() else 0

    def add_one(self, key: str, window: int) -> None:
        with self._lock:
            count, expires = self._counts.pop(key, (0, 0.0))
            if expires <= time.monotonic():
                count, expires = 0, time.monotonic() + window
            self._counts[key] = (count + 1, expires)
            while len(self._counts) > LOCAL_ENTRIES:
                self._counts.popitem(last=False)

    def forget(self, key: str) -> None:
        with self._lock:
            self._counts.pop(key, None)


local_counts = _LocalCounts()


def _failures(key: str) -> int:
    try:
        return int(cache.client.get(key) or 0)  # type: ignore[attr-defined]
    except ConnectionInterrupted:
        return local_counts.get(key)


def _record_failure(key: str) -> None:
    window = settings.ADMIN_LOGIN_WINDOW_SECONDS
    try:
        cache.client.add(key, 0, timeout=window)  # type: ignore[attr-defined]
        cache.client.incr(key)  # type: ignore[attr-defined]
    except (ConnectionInterrupted, ValueError):  # ValueError: the key expired between add and incr
        local_counts.add_one(key, window)


def _forget(key: str) -> None:
    with contextlib.suppress(ConnectionInterrupted):
        cache.client.delete(key)  # type: ignore[attr-defined]
    local_counts.forget(key)


def _digest(value: str) -> str:
    """Keys carry a hash, never an email or IP address."""
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def _keys(request: HttpRequest) -> dict[str, tuple[str, int]]:
    account = _digest(request.POST.get("username", "").strip().lower())
    address = _digest(request.META.get("REMOTE_ADDR", ""))
    return {
        "account": (f"admin-login-throttle:account:{account}", settings.ADMIN_LOGIN_FAILURES_PER_ACCOUNT),
        "address": (f"admin-login-throttle:address:{address}", settings.ADMIN_LOGIN_FAILURES_PER_ADDRESS),
    }


def throttled_admin_login(request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
    if request.method != "POST":
        return admin.site.login(request, extra_context)
    keys = _keys(request)
    if any(_failures(key) >= limit for key, limit in keys.values()):
        refused = JsonResponse(error_body("Too many failed admin logins; try again later.", "throttled"), status=429)
        refused["Retry-After"] = str(settings.ADMIN_LOGIN_WINDOW_SECONDS)
        return refused
    response = admin.site.login(request, extra_context)
    if response.status_code == 302:  # logged in
        _forget(keys["account"][0])
    else:
        for key, _limit in keys.values():
            _record_failure(key)
    return response
