"""OpenAPI descriptions of the error responses, so the schema tells the truth about failures."""

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, for people.")
    code = serializers.CharField(help_text="What went wrong, for programs.")
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Per-field messages, present when the input was invalid.",
    )


_DESCRIPTIONS = {
    400: "Invalid input; `errors` names each field.",
    401: "Missing or invalid access token; code `token_expired` when it has expired (refresh it).",
    404: "No such object, or it belongs to someone else.",
    409: "Refused by the current state (for example, not enough stock).",
    413: "The request body is larger than the limit.",
    422: "The Idempotency-Key was already used with a different request body.",
    429: "Too many requests; retry after `Retry-After` seconds.",
    503: "The database (or, for uploads and downloads, file storage) is unavailable; retry shortly.",
}


def error_responses(*statuses: int, **descriptions: str) -> dict[int, OpenApiResponse]:
    """Error responses by status; `descriptions` (`s401="..."`) replaces the generic text for one view."""
    return {
        code: OpenApiResponse(ErrorSerializer, description=descriptions.get(f"s{code}", _DESCRIPTIONS[code]))
        for code in statuses
    }
