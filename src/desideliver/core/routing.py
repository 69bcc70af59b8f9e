"""What a client meets before any view: the slash forms of API routes, unknown API URLs, HTTP→HTTPS.

Under /api/ every answer is JSON, with DEBUG on or off: `/api/auth/login` (no slash) is served
as `/api/auth/login/` (a redirect would drop a POST's body, and with DEBUG Django raises instead);
an unknown route is a JSON 404 pointing at the documentation, not Django's HTML 404 page.
"""

import json
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve

from desideliver.core.errors import error_body

API_PREFIX = "/api/"


def _resolves(path: str) -> bool:
    try:
        resolve(path)
    except Resolver404:
        return False
    return True


class ApiRouteMiddleware:
    """Serve both slash forms of an API route; a JSON 404 for any other /api/ URL."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if not path.startswith(API_PREFIX) or _resolves(path):
            return self.get_response(request)
        other = path.removesuffix("/") if path.endswith("/") else path + "/"
        if _resolves(other):
            request.path_info = other
            request.path = request.path.removesuffix(path) + other
            return self.get_response(request)
        return JsonResponse(
            error_body(f"No API route at {path}. Every route is listed at {API_PREFIX}docs/.", "not_found"),
            status=404,
        )


class HttpsRedirectExplainedMiddleware:
    """SecurityMiddleware's HTTP→HTTPS 301 is empty: say why, so a client on plain HTTP isn't puzzled.

    Listed before SecurityMiddleware, so it sees that redirect on the way out.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        location = response.get("Location", "")
        if (
            settings.SECURE_SSL_REDIRECT
            and response.status_code == 301
            and not request.is_secure()
            and location.startswith("https://")
            and not response.content
        ):
            detail = (
                f"This service answers over HTTPS only: repeat the request at {location}. "
                "Behind a TLS-terminating proxy, have it send X-Forwarded-Proto: https; "
                "on a trusted plain-HTTP network, set SECURE_SSL_REDIRECT=false."
            )
            response.content = json.dumps(error_body(detail, "https_required")).encode()
            response["Content-Type"] = "application/json"
        return response
