"""Refresh tokens that work exactly once, die with a password change, and can be logged out.

simplejwt checks the blacklist and then blacklists with `get_or_create`, so concurrent refreshes
of one token all pass the check and all succeed. Here a token is *claimed* instead: inserting its
blacklist row is the check, and the unique row lets exactly one request win.
"""

from typing import Any

from django.db import transaction
from rest_framework import serializers
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.serializers import TokenRefreshSerializer
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch, get_md5_hash_password

from desideliver.users.models import User


def token_user(refresh: RefreshToken) -> User:
    """The active user the token names, whose password has not changed since it was issued."""
    user_id = refresh.payload.get(api_settings.USER_ID_CLAIM)
    user = User.objects.filter(pk=user_id).first() if isinstance(user_id, str | int) else None
    if user is None or not api_settings.USER_AUTHENTICATION_RULE(user):
        raise AuthenticationFailed("No active account found for the given token.", "no_active_account")
    if refresh.payload.get(api_settings.REVOKE_TOKEN_CLAIM) != get_md5_hash_password(user.password):
        raise AuthenticationFailed("The password has changed since this token was issued.", "password_changed")
    return user


def claim(refresh: RefreshToken, user: User) -> None:
    """Blacklist the token, refusing it if another request already did (one use, atomically)."""
    with transaction.atomic():
        outstanding, _ = OutstandingToken.objects.get_or_create(
            jti=refresh.payload[api_settings.JTI_CLAIM],
            defaults={
                "user": user,
                "token": str(refresh),
                "created_at": refresh.current_time,
                "expires_at": datetime_from_epoch(refresh.payload["exp"]),
            },
        )
        _, created = BlacklistedToken.objects.get_or_create(token=outstanding)
    if not created:
        raise InvalidToken("Token is blacklisted")


class RotatingRefreshSerializer(TokenRefreshSerializer):
    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        refresh = RefreshToken(attrs["refresh"])  # signature, expiry, type and blacklist
        claim(refresh, token_user(refresh))
        data = {"access": str(refresh.access_token)}
        refresh.set_jti()
        refresh.set_exp()
        refresh.set_iat()
        refresh.outstand()
        data["refresh"] = str(refresh)
        return data


class LogoutSerializer(serializers.Serializer):
    refresh = serializers.CharField(write_only=True, help_text="The refresh token to revoke.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        refresh = RefreshToken(attrs["refresh"])
        claim(refresh, token_user(refresh))
        return {}
