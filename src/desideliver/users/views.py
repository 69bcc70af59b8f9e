from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView
from rest_framework_simplejwt.views import TokenBlacklistView, TokenObtainPairView, TokenRefreshView

from desideliver.core.schema import error_responses
from desideliver.throttling.throttles import (
    ClientAddressThrottle,
    LoginAccountThrottle,
    RefreshTokenUserThrottle,
    WindowThrottle,
)
from desideliver.users.serializers import (
    RefreshedTokensSerializer,
    RegisterSerializer,
    TokenPairSerializer,
    UserSerializer,
)
from desideliver.users.services import register_user
from desideliver.users.tokens import LogoutSerializer


class RegisterView(APIView):
    """Throttled per client address; an email already registered answers 400 `email_taken`
    (a decision: see "Security decisions" in docs/reliability.md)."""

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [ClientAddressThrottle]
    throttle_scope = "register"

    @extend_schema(request=RegisterSerializer, responses={201: UserSerializer, **error_responses(400, 429)})
    def post(self, request: Request) -> Response:
        data = RegisterSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            user = register_user(**data.validated_data)
        except DjangoValidationError as error:
            raise serializers.ValidationError({"password": error.messages}) from None
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    post=extend_schema(
        responses={
            200: TokenPairSerializer,
            **error_responses(400, 401, 429, s401="Wrong email or password (code `no_active_account`)."),
        }
    )
)
class LoginView(TokenObtainPairView):
    """`{email, password}` → `{access, refresh}`. Attempts are limited per client address and per
    account; a successful login gives its attempts back, so only failures add up."""

    throttle_classes = [ClientAddressThrottle, LoginAccountThrottle]
    throttle_scope = "login"
    counted: list[BaseThrottle]

    def get_throttles(self) -> list[BaseThrottle]:
        self.counted = super().get_throttles()
        return self.counted

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().post(request, *args, **kwargs)
        for throttle in self.counted:
            if isinstance(throttle, WindowThrottle):
                throttle.refund()
        return response


@extend_schema_view(
    post=extend_schema(
        responses={
            200: RefreshedTokensSerializer,
            **error_responses(400, 401, 429, s401="The refresh token is invalid, expired or already used."),
        }
    )
)
class RefreshView(TokenRefreshView):
    """`{refresh}` → `{access, refresh}`: the refresh token rotates and the old one is blacklisted
    (exactly one of concurrent uses succeeds). Throttled per user."""

    throttle_classes = [RefreshTokenUserThrottle]
    throttle_scope = "refresh"


@extend_schema_view(
    post=extend_schema(request=LogoutSerializer, responses={204: None, **error_responses(400, 401, 429)})
)
class LogoutView(TokenBlacklistView):
    """`{refresh}` → 204: the refresh token is blacklisted. The access token expires on its own
    (`JWT_ACCESS_MINUTES`); a client discards both."""

    throttle_classes = [RefreshTokenUserThrottle]
    throttle_scope = "refresh"

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        super().post(request, *args, **kwargs)
        return Response(status=status.HTTP_204_NO_CONTENT)
