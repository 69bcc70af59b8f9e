"""One error shape for the whole API: `{"detail", "code"}`, plus `"errors"` per field for bad input.

Business rules raise `ApplicationError` (services know nothing of HTTP status codes beyond it);
an unreachable database becomes a 503 the client can retry, never a 500 with a traceback.
"""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger(__name__)

DATABASE_RETRY_AFTER_SECONDS = 5
DATABASE_UNAVAILABLE = "The database is unavailable; retry shortly."


class ApplicationError(Exception):
    """A business rule refused the request; `status` is the HTTP status that explains it."""

    def __init__(
        self, message: str, *, code: str, status: int = status.HTTP_400_BAD_REQUEST, field: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.field = field


def error_body(detail: str, code: str, errors: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"detail": detail, "code": code}
    if errors is not None:
        body["errors"] = errors
    return body


def database_unavailable_response() -> JsonResponse:
    response = JsonResponse(
        error_body(DATABASE_UNAVAILABLE, "database_unavailable"), status=status.HTTP_503_SERVICE_UNAVAILABLE
    )
    response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    return response


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ApplicationError):
        field_errors = {exc.field: [exc.message]} if exc.field else None
        return Response(error_body(exc.message, exc.code, field_errors), status=exc.status)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, OperationalError | InterfaceError):
        logger.warning("database unavailable: %s", exc)
        return Response(
            error_body(DATABASE_UNAVAILABLE, "database_unavailable"),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    if isinstance(exc, exceptions.ValidationError):
        errors: dict[str, Any] = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = error_body(
            "Invalid input: " + ", ".join(str(field) for field in errors) + ".", "invalid", errors
        )
    elif isinstance(exc.detail, dict):  # simplejwt's token errors carry their own detail and code
        response.data = error_body(str(exc.detail.get("detail", "")), str(exc.detail.get("code", "error")))
    else:
        codes = exc.get_codes()
        response.data = error_body(str(exc.detail), codes if isinstance(codes, str) else "error")
    return response
