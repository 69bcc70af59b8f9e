from rest_framework import serializers

from desideliver.tickets.models import BODY_MAX_LENGTH, SUBJECT_MAX_LENGTH, Ticket, TicketMessage


class TicketMessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = TicketMessage
        fields = ["id", "body", "from_staff", "created_at"]
        read_only_fields = fields


class TicketSerializer(serializers.ModelSerializer):
    class Meta:
        model = Ticket
        fields = ["id", "subject", "status", "order", "created_at", "updated_at"]
        read_only_fields = fields


class TicketDetailSerializer(TicketSerializer):
    messages = TicketMessageSerializer(many=True, read_only=True)

    class Meta(TicketSerializer.Meta):
        fields = [*TicketSerializer.Meta.fields, "messages"]
        read_only_fields = fields


class OpenTicketSerializer(serializers.Serializer):
    subject = serializers.CharField(max_length=SUBJECT_MAX_LENGTH)
    message = serializers.CharField(max_length=BODY_MAX_LENGTH)
    order = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, help_text="One of your own orders, if the ticket is about one."
    )


class NewMessageSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=BODY_MAX_LENGTH)
