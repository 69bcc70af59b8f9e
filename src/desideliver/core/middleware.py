"""Request plumbing shared by every view: ids, body limits, database outages."""

import re
import uuid
from collections.abc import Callable

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve

from desideliver.core.errors import database_error_response, error_body
from desideliver.core.logs import request_id_var

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


class RequestIdMiddleware:
    """Every request gets an id: a proxy's well-formed X-Request-ID, or a new one."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request_id
        return response


class DatabaseUnavailableMiddleware:
    """Outside DRF views (admin, landing), a database error is a JSON 503/409/504, not a 500."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, OperationalError | InterfaceError):
            return database_error_response(exception)
        return None


# The routes that take images (multipart): their limit is UPLOAD_REQUEST_BODY_BYTES.
UPLOAD_VIEW_NAMES = frozenset({"ticket-message", "admin:catalog_product_add", "admin:catalog_product_change"})


def body_limit(request: HttpRequest) -> int:
    """UPLOAD_REQUEST_BODY_BYTES on an upload route, else DATA_UPLOAD_MAX_MEMORY_SIZE."""
    try:
        view_name = resolve(request.path_info).view_name
    except Resolver404:
        return settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return (
        settings.UPLOAD_REQUEST_BODY_BYTES if view_name in UPLOAD_VIEW_NAMES else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    )


class RequestBodyLimitMiddleware:
    """Refuse a declared body above its route's limit (`body_limit`) before anything reads it.

    A chunked body (no Content-Length) is refused with 411: Django reads a WSGI body only up to
    Content-Length, so it would otherwise be taken for an empty one.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            return JsonResponse(
                error_body("Chunked request bodies are not accepted: send Content-Length.", "length_required"),
                status=411,
            )
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse(error_body("Content-Length is not a number.", "bad_content_length"), status=400)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if length > limit:
            limit = body_limit(request)
        if length > limit:
            return JsonResponse(
                error_body(f"The request body is {length} bytes; the limit is {limit}.", "request_too_large"),
                status=413,
            )
        return self.get_response(request)
