"""One error shape for the whole API: `{"detail", "code"}`, plus `"errors"` per field for bad input.

Business rules raise `ApplicationError` (services know nothing of HTTP status codes beyond it).
A database error is never a 500 with a traceback; what the client should do depends on its kind
(PostgreSQL's SQLSTATE, docs/reliability.md):
- the database can't be reached or is shutting down: 503 `database_unavailable`, Retry-After 5;
- the query lost a race (deadlock, serialization failure, lock not available): 409
  `database_conflict`, Retry-After 1 — nothing was written, the same request may succeed now;
- the query ran past the statement timeout: 504 `query_timeout` — nothing was written either.
"""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpResponse, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger(__name__)

DATABASE_RETRY_AFTER_SECONDS = 5
DATABASE_UNAVAILABLE = "The database is unavailable; retry shortly."
CONFLICT_SQLSTATES = {"40001", "40P01", "55P03"}  # serialization failure, deadlock, lock not available
TIMEOUT_SQLSTATE = "57014"  # query_canceled: statement_timeout


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


# (detail, code, status, Retry-After seconds or None) by kind of database error.
DATABASE_ERRORS: dict[str, tuple[str, str, int, int | None]] = {
    "conflict": (
        "The request conflicted with a concurrent one and was rolled back; retry it.",
        "database_conflict",
        status.HTTP_409_CONFLICT,
        1,
    ),
    "timeout": (
        "The database took too long to answer; the request was cancelled and nothing was changed.",
        "query_timeout",
        status.HTTP_504_GATEWAY_TIMEOUT,
        None,
    ),
    "unavailable": (
        DATABASE_UNAVAILABLE,
        "database_unavailable",
        status.HTTP_503_SERVICE_UNAVAILABLE,
        DATABASE_RETRY_AFTER_SECONDS,
    ),
}


def database_error_kind(error: Exception) -> str:
    sqlstate = getattr(error.__cause__, "sqlstate", None)
    if sqlstate in CONFLICT_SQLSTATES:
        logger.warning("database conflict (SQLSTATE %s, %s)", sqlstate, type(error.__cause__).__name__)
        return "conflict"
    if sqlstate == TIMEOUT_SQLSTATE:
        logger.error("database query cancelled by the statement timeout (SQLSTATE %s)", sqlstate)
        return "timeout"
    logger.warning("database unavailable: %s", error)
    return "unavailable"


def database_error_response(error: Exception) -> JsonResponse:
    """The answer to an OperationalError or InterfaceError, by what PostgreSQL said went wrong."""
    detail, code, status_code, retry_after = DATABASE_ERRORS[database_error_kind(error)]
    response = JsonResponse(error_body(detail, code), status=status_code)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> HttpResponse | None:
    if isinstance(exc, ApplicationError):
        field_errors = {exc.field: [exc.message]} if exc.field else None
        return Response(error_body(exc.message, exc.code, field_errors), status=exc.status)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, OperationalError | InterfaceError):
        return database_error_response(exc)
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
