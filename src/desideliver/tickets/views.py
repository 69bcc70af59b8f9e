from django.db.models import QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from desideliver.core.schema import error_responses
from desideliver.throttling.throttles import UserThrottle
from desideliver.tickets import services
from desideliver.tickets.models import Ticket
from desideliver.tickets.serializers import (
    NewMessageSerializer,
    OpenTicketSerializer,
    TicketDetailSerializer,
    TicketSerializer,
)
from desideliver.users.models import User
from desideliver.users.requests import AuthenticatedRequest


def detail(ticket: Ticket, status_code: int = status.HTTP_200_OK) -> Response:
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
    @extend_schema(
        request=NewMessageSerializer, responses={201: TicketDetailSerializer, **error_responses(400, 401, 404)}
    )
    def post(self, request: AuthenticatedRequest, pk: int) -> Response:
        data = NewMessageSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return detail(
            services.add_customer_message(request.user, pk, data.validated_data["body"]), status.HTTP_201_CREATED
        )


class CloseTicketView(APIView):
    @extend_schema(request=None, responses={200: TicketDetailSerializer, **error_responses(401, 404)})
    def post(self, request: AuthenticatedRequest, pk: int) -> Response:
        return detail(services.close_ticket(request.user, pk))
