import logging

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache

from desideliver.core.errors import error_body
from desideliver.core.health import readiness

logger = logging.getLogger(__name__)


@never_cache
def liveness(request: HttpRequest) -> JsonResponse:
    """The process answers: no I/O, so it never fails because of a dependency."""
    return JsonResponse({"status": "ok"})


@never_cache
def ready(request: HttpRequest) -> JsonResponse:
    """Each check by name and state only: the details (driver errors name hosts, ports, users)
    go to the log, never to whoever asks."""
    checks = readiness()
    for check in checks:
        if not check.ok:
            logger.warning("readiness: %s is %s: %s", check.name, check.state, check.detail)
    failing = [check for check in checks if check.state == "failing"]
    degraded = [check for check in checks if check.state == "degraded"]
    overall = "unavailable" if failing else "degraded" if degraded else "ok"
    return JsonResponse(
        {"status": overall, "checks": {check.name: {"state": check.state} for check in checks}},
        status=503 if failing else 200,
    )


def landing(request: HttpRequest) -> HttpResponse:
    return render(request, "landing.html")


def favicon(request: HttpRequest) -> HttpResponseRedirect:
    """Browsers ask for /favicon.ico whatever the page says; the icon itself is a hashed static file."""
    response = HttpResponseRedirect(static("desideliver/favicon.svg"))
    response["Cache-Control"] = "public, max-age=86400"
    return response


def bad_request(request: HttpRequest, exception: Exception) -> JsonResponse:
    return JsonResponse(error_body("Bad request.", "bad_request"), status=400)


def permission_denied(request: HttpRequest, exception: Exception) -> JsonResponse:
    return JsonResponse(error_body("You do not have permission to do this.", "permission_denied"), status=403)


def not_found(request: HttpRequest, exception: Exception) -> JsonResponse:
    return JsonResponse(error_body(f"No route or object at {request.path}.", "not_found"), status=404)


def server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse(error_body("Internal error; it has been logged.", "server_error"), status=500)
