from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from desideliver.core.schema import error_responses
from desideliver.users.serializers import (
    RefreshedTokensSerializer,
    RegisterSerializer,
    TokenPairSerializer,
    UserSerializer,
)
from desideliver.users.services import register_user


class RegisterView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [ScopedRateThrottle]
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
    """`{email, password}` → `{access, refresh}`; failed attempts are throttled per client."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"


@extend_schema_view(
    post=extend_schema(
        responses={
            200: RefreshedTokensSerializer,
            **error_responses(400, 401, s401="The refresh token is invalid, expired or already used."),
        }
    )
)
class RefreshView(TokenRefreshView):
    """`{refresh}` → `{access, refresh}`: the refresh token rotates and the old one is blacklisted."""
