"""The admin's login form, throttled per account and per client address.

The same mechanism as the API's throttles (desideliver.throttling): fixed-window counters in
PostgreSQL (`store.hit`, one atomic upsert shared by every worker and replica; Redis would evict
them, or lose them in an outage), and the client address under `TRUSTED_PROXY_COUNT`
(`throttles.client_address`: a forged `X-Forwarded-For` is no new client). Every attempt counts
in both windows before the password is checked; once either passes its limit the attempt is
refused with 429 until that window ends. A successful login is refunded: it was no guess.
"""

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework.request import Request

from desideliver.core.errors import error_body
from desideliver.throttling import store
from desideliver.throttling.throttles import client_address, digest


def _windows(request: HttpRequest) -> list[tuple[str, int]]:
    """(counter key, failures allowed) for the account tried and the client; keys hold hashes only."""
    account = digest(request.POST.get("username", "").strip().lower())
    address = digest(client_address(Request(request)))  # DRF's view of the request: its META
    return [
        (f"admin_login_account:{account}", settings.ADMIN_LOGIN_FAILURES_PER_ACCOUNT),
        (f"admin_login_address:{address}", settings.ADMIN_LOGIN_FAILURES_PER_ADDRESS),
    ]


def throttled_admin_login(request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
    if request.method != "POST":
        return admin.site.login(request, extra_context)
    windows = _windows(request)
    seconds = settings.ADMIN_LOGIN_WINDOW_SECONDS
    waits = []
    for key, limit in windows:
        hits, remaining = store.hit(key, seconds)
        if hits > limit:
            waits.append(remaining)
    if waits:
        refused = JsonResponse(error_body("Too many failed admin logins; try again later.", "throttled"), status=429)
        refused["Retry-After"] = str(max(1, round(max(waits))))
        return refused
    response = admin.site.login(request, extra_context)
    if response.status_code == 302:  # logged in
        for key, _limit in windows:
            store.refund(key)
    return response
