"""DRF throttles on the PostgreSQL counters: per client address, per account, per user.

Each class counts one hit in `allow_request` (atomically, see store.py) and refuses once the
scope's limit is passed; DRF then answers 429 with `Retry-After`. Rates are DRF's
`DEFAULT_THROTTLE_RATES` ("10/min"); the scope is the view's `throttle_scope` unless fixed here.
"""

import hashlib
import ipaddress
from typing import Any

from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle
from rest_framework_simplejwt.exceptions import TokenBackendError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.state import token_backend

from desideliver.throttling import store

PERIOD_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
IPV6_CLIENT_PREFIX = 64  # one subscriber usually holds a whole /64: rotating within it is free


def parse_rate(rate: str) -> tuple[int, int]:
    """ "10/min" → (10, 60), as DRF reads rates (the period's first letter: s, m, h or d)."""
    count, period = rate.split("/")
    return int(count), PERIOD_SECONDS[period[0]]


def client_address(request: Request) -> str:
    """The client's address under the trust model of `TRUSTED_PROXY_COUNT` (DRF's `NUM_PROXIES`).

    With 0 (the default) `X-Forwarded-For` is ignored and the peer address is the client; with n,
    the n-th address from the right of `X-Forwarded-For` is (the one our nearest trusted proxy
    saw). IPv6 clients are counted per /64; anything unparsable falls back to the peer address.
    """
    ident = BaseThrottle().get_ident(request)
    try:
        address = ipaddress.ip_address(ident)
    except ValueError:
        return str(request.META.get("REMOTE_ADDR", ""))
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/{IPV6_CLIENT_PREFIX}", strict=False))
    return str(address)


def digest(value: str) -> str:
    """Accounts are keyed by a hash: the counters table holds no email addresses."""
    return hashlib.sha256(value.encode()).hexdigest()[:40]


class WindowThrottle(BaseThrottle):
    """A fixed-window limit on one identity; subclasses say whose (`identity`, None: not counted)."""

    scope: str | None = None
    key: str | None = None
    remaining: float = 0.0

    def identity(self, request: Request, view: Any) -> str | None:
        raise NotImplementedError

    def allow_request(self, request: Request, view: Any) -> bool:
        scope = self.scope or getattr(view, "throttle_scope", None)
        identity = self.identity(request, view)
        if scope is None or identity is None:
            return True
        limit, seconds = parse_rate(str(api_settings.DEFAULT_THROTTLE_RATES[scope]))
        self.key = f"{scope}:{identity}"
        hits, self.remaining = store.hit(self.key, seconds)
        return hits <= limit

    def wait(self) -> float:
        return max(self.remaining, 1.0)

    def refund(self) -> None:
        if self.key is not None:
            store.refund(self.key)


class ClientAddressThrottle(WindowThrottle):
    def identity(self, request: Request, view: Any) -> str | None:
        return client_address(request)


class LoginAccountThrottle(WindowThrottle):
    """Attempts on one account from anywhere: rotating addresses doesn't buy more guesses."""

    scope = "login_account"

    def identity(self, request: Request, view: Any) -> str | None:
        data = request.data
        email = data.get("email") if isinstance(data, dict) else None
        if not isinstance(email, str) or not email.strip():
            return None
        return digest(email.strip().lower())


class UserThrottle(WindowThrottle):
    """Per authenticated user (the views behind IsAuthenticated)."""

    def identity(self, request: Request, view: Any) -> str | None:
        user_id = getattr(request.user, "pk", None)
        return None if user_id is None else str(user_id)


class RefreshTokenUserThrottle(WindowThrottle):
    """Per user named by a correctly signed refresh token in the body (the endpoint is anonymous).

    A token that doesn't verify is counted per client address instead; the view then refuses it.
    """

    def identity(self, request: Request, view: Any) -> str | None:
        data = request.data
        token = data.get("refresh") if isinstance(data, dict) else None
        if isinstance(token, str):
            try:
                payload = token_backend.decode(token, verify=True)  # type: ignore[arg-type]  # it takes the string
            except TokenBackendError:
                payload = {}
            user_id = payload.get(jwt_settings.USER_ID_CLAIM)
            if user_id is not None:
                return f"user-{user_id}"
        return f"address-{client_address(request)}"
