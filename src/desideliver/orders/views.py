from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from desideliver.core.schema import error_responses
from desideliver.orders import export, services
from desideliver.orders.models import Order
from desideliver.orders.serializers import OrderSerializer
from desideliver.users.models import User
from desideliver.users.requests import AuthenticatedRequest


class CreateOrderView(APIView):
    @extend_schema(request=None, responses={201: OrderSerializer, **error_responses(400, 401, 409, 503)})
    def post(self, request: AuthenticatedRequest) -> Response:
        order = services.place_order(request.user)
        return Response(OrderSerializer(order).data, status=status.HTTP_201_CREATED)


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
    @extend_schema(
        parameters=[ExportOptionsSerializer],
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description="One row per order line; cells that a spreadsheet would read as a formula start with '.",
            ),
            **error_responses(400, 401),
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
