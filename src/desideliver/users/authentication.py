"""JWT authentication that tells an expired access token from a bad one, so clients know to refresh."""

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import ExpiredTokenError, InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token

EXPIRED_MESSAGE = "The access token has expired: get a new one from POST /api/auth/token/refresh/."


class ExpiryAwareJWTAuthentication(JWTAuthentication):
    def get_validated_token(self, raw_token: bytes) -> Token:
        # simplejwt checks the signature before the expiry: only a token we issued is "expired".
        for token_class in api_settings.AUTH_TOKEN_CLASSES:
            try:
                return token_class(raw_token)
            except ExpiredTokenError:
                raise InvalidToken({"detail": EXPIRED_MESSAGE, "code": "token_expired"}) from None
            except TokenError:
                continue
        return super().get_validated_token(raw_token)  # raises simplejwt's own "not valid" error


class ExpiryAwareJWTScheme(SimpleJWTScheme):
    """The schema's `jwtAuth` bearer scheme, as drf-spectacular describes simplejwt's own class."""

    target_class = "desideliver.users.authentication.ExpiryAwareJWTAuthentication"
