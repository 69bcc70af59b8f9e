from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView
from rest_framework_simplejwt.views import TokenObtainPairView

from desideliver.core.schema import error_responses
from desideliver.users.serializers import RegisterSerializer, UserSerializer
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


class LoginView(TokenObtainPairView):
    """`{email, password}` → `{access, refresh}`; failed attempts are throttled per client."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"
