import hashlib
import json
import re

from django.db import transaction
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from desideliver.core.errors import ApplicationError
from desideliver.core.schema import error_responses
from desideliver.orders import export, services
from desideliver.orders.models import Order
from desideliver.orders.serializers import OrderSerializer
from desideliver.throttling.throttles import UserThrottle
from desideliver.users.models import User
from desideliver.users.requests import AuthenticatedRequest

VALID_IDEMPOTENCY_KEY = re.compile(r"[!-~]{1,255}")


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "Any unique value (1-255 visible ASCII characters, a UUID for example) chosen by the client "
        "for this order. A retry with the same key within the retention window "
        "(IDEMPOTENCY_KEY_RETENTION_HOURS, 24 h by default) places no second order: it answers 201 "
        "with the order the first request placed (as it is now) and `Idempotent-Replayed: true`. "
        "The same key with a different request body is refused with 422 `idempotency_key_reused`. "
        "Keys are per user. A request that failed (4xx, 503) placed nothing and stored no key."
    ),
)


class CreateOrderView(APIView):
    """Throttled per user (THROTTLE_ORDER_RATE), and capped at ORDER_UNITS_LIMIT units per window."""

    throttle_classes = [UserThrottle]
    throttle_scope = "order"

    @extend_schema(
        request=None,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: OrderSerializer, **error_responses(400, 401, 409, 422, 429, 503)},
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        key = idempotency_key(request)
        # The answer is built before the COMMIT: after it, only the COMMIT's own reply can be lost
        # (not a query for the lines), so a 503 almost always means no order was placed.
        with transaction.atomic():
            order, created = services.place_order(
                request.user, idempotency_key=key, fingerprint=body_fingerprint(request.body) if key else ""
            )
            data = OrderSerializer(order).data
        response = Response(data, status=status.HTTP_201_CREATED)
        if not created:
            response["Idempotent-Replayed"] = "true"
        return response


def idempotency_key(request: Request) -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not VALID_IDEMPOTENCY_KEY.fullmatch(key):
        raise ApplicationError(
            "Idempotency-Key must be 1-255 visible ASCII characters.",
            code="invalid_idempotency_key",
            field="Idempotency-Key",
        )
    return key


def body_fingerprint(body: bytes) -> str:
    """SHA-256 of the body, JSON normalised (key order, spacing), so equal requests match."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode() if body else b""
    except ValueError:
        canonical = body
    return hashlib.sha256(canonical).hexdigest()


def own_orders(request: Request) -> QuerySet[Order]:
    assert isinstance(request.user, User)  # IsAuthenticated ran first
    return services.user_orders(request.user)


# 400: an invalid search or ordering value; 404: a page number past the last page (DRF's paginator).
@extend_schema_view(get=extend_schema(responses={200: OrderSerializer(many=True), **error_responses(400, 401, 404)}))
class OrderListView(generics.ListAPIView[Order]):
    serializer_class = OrderSerializer
    queryset = Order.objects.none()  # tells the schema generator the model; requests use get_queryset()

    def get_queryset(self) -> QuerySet[Order]:
        return own_orders(self.request)


@extend_schema_view(get=extend_schema(responses={200: OrderSerializer, **error_responses(401, 404)}))
class OrderDetailView(generics.RetrieveAPIView[Order]):
    serializer_class = OrderSerializer
    queryset = Order.objects.none()  # tells the schema generator the model; requests use get_queryset()

    def get_queryset(self) -> QuerySet[Order]:
        return own_orders(self.request)


class ExportOptionsSerializer(serializers.Serializer):
    bom = serializers.BooleanField(
        default=False, help_text="Start the file with a UTF-8 byte order mark (for Excel and non-ASCII names)."
    )


class OrderExportView(APIView):
    throttle_classes = [UserThrottle]
    throttle_scope = "export"

    @extend_schema(
        parameters=[ExportOptionsSerializer],
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description="One row per order line; cells that a spreadsheet would read as a formula start with '.",
            ),
            **error_responses(400, 401, 429),
        },
    )
    def get(self, request: AuthenticatedRequest) -> StreamingHttpResponse:
        options = ExportOptionsSerializer(data=request.query_params)
        options.is_valid(raise_exception=True)
        orders = services.user_orders(request.user).iterator(chunk_size=500)
        rows = export.orders_csv_rows(orders, bom=options.validated_data["bom"])
        response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="orders.csv"'
        return response
