from collections.abc import Iterable

from django.db.models import QuerySet, prefetch_related_objects
from django.http.response import HttpResponseBase
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser, JSONParser, MultiPartParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from desideliver.core.schema import error_responses
from desideliver.throttling.throttles import UserThrottle
from desideliver.tickets import attachments, services
from desideliver.tickets.models import Ticket
from desideliver.tickets.serializers import (
    NewMessageSerializer,
    NewMessageWithImagesSerializer,
    OpenTicketSerializer,
    TicketDetailSerializer,
    TicketSerializer,
)
from desideliver.users.authentication import ExpiryAwareJWTAuthentication
from desideliver.users.models import User
from desideliver.users.requests import AuthenticatedRequest


def detail(ticket: Ticket, status_code: int = status.HTTP_200_OK) -> Response:
    prefetch_related_objects([ticket], "messages__attachments")
    return Response(TicketDetailSerializer(ticket).data, status=status_code)


class TicketFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=Ticket.Status.choices)

    class Meta:
        model = Ticket
        fields = ["status"]


# 400: an unknown status; 404: a page number past the last page (DRF's paginator).
@extend_schema_view(get=extend_schema(responses={200: TicketSerializer(many=True), **error_responses(400, 401, 404)}))
class TicketListView(generics.ListAPIView[Ticket]):
    serializer_class = TicketSerializer
    queryset = Ticket.objects.none()  # tells the schema generator the model; requests use get_queryset()
    filterset_class = TicketFilter
    ordering_fields = ["updated_at", "created_at"]

    def get_queryset(self) -> QuerySet[Ticket]:
        assert isinstance(self.request.user, User)  # IsAuthenticated ran first
        return services.customer_tickets(self.request.user)


class OpenTicketView(APIView):
    throttle_classes = [UserThrottle]
    throttle_scope = "ticket_create"

    @extend_schema(
        request=OpenTicketSerializer, responses={201: TicketDetailSerializer, **error_responses(400, 401, 404, 429)}
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        data = OpenTicketSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ticket = services.open_ticket(
            request.user,
            subject=data.validated_data["subject"],
            body=data.validated_data["message"],
            order_id=data.validated_data.get("order"),
        )
        return detail(ticket, status.HTTP_201_CREATED)


class TicketDetailView(APIView):
    @extend_schema(responses={200: TicketDetailSerializer, **error_responses(401, 404)})
    def get(self, request: AuthenticatedRequest, pk: int) -> Response:
        return detail(services.customer_ticket(request.user, pk))


class TicketMessageView(APIView):
    """JSON for text; multipart/form-data to attach images (the one route with the larger body limit)."""

    parser_classes = [JSONParser, MultiPartParser]

    @extend_schema(
        request={"application/json": NewMessageSerializer, "multipart/form-data": NewMessageWithImagesSerializer},
        responses={201: TicketDetailSerializer, **error_responses(400, 401, 404, 413, 503)},
    )
    def post(self, request: AuthenticatedRequest, pk: int) -> Response:
        data = NewMessageWithImagesSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ticket = services.add_customer_message(
            request.user, pk, data.validated_data["body"], data.validated_data.get("attachments", [])
        )
        return detail(ticket, status.HTTP_201_CREATED)


ATTACHMENT_TYPES = ("image/jpeg", "image/png", "image/webp")


class AnyAccept(BaseContentNegotiation):
    """The download's body is an image whatever Accept says (`Accept: image/*` is not a 406); errors are JSON."""

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser | None:
        return next(iter(parsers), None)

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type


class AttachmentDownloadView(APIView):
    """The ticket's customer (access token) or staff (token or admin session); anyone else: 404."""

    authentication_classes = [ExpiryAwareJWTAuthentication, SessionAuthentication]
    content_negotiation_class = AnyAccept

    @extend_schema(
        responses={
            (200, content_type): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="The image, as an attachment. Behind the proxy its bytes come from the proxy "
                "(X-Accel-Redirect); the body is the same.",
            )
            for content_type in ATTACHMENT_TYPES
        }
        | error_responses(401, 404, 503),
    )
    def get(self, request: AuthenticatedRequest, pk: int) -> HttpResponseBase:
        return attachments.download_response(attachments.visible_attachment(request.user, pk))


class CloseTicketView(APIView):
    @extend_schema(request=None, responses={200: TicketDetailSerializer, **error_responses(401, 404)})
    def post(self, request: AuthenticatedRequest, pk: int) -> Response:
        return detail(services.close_ticket(request.user, pk))
