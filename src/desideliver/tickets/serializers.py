from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from desideliver.media.fields import ImageListField
from desideliver.tickets.models import BODY_MAX_LENGTH, SUBJECT_MAX_LENGTH, Ticket, TicketAttachment, TicketMessage


class AttachmentSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="Download it with the same access token.")

    class Meta:
        model = TicketAttachment
        fields = ["id", "url", "content_type", "size", "width", "height"]
        read_only_fields = fields

    @extend_schema_field({"type": "string", "format": "uri-reference", "example": "/api/tickets/attachments/7/"})
    def get_url(self, attachment: TicketAttachment) -> str:
        return reverse("ticket-attachment", args=[attachment.pk])


class TicketMessageSerializer(serializers.ModelSerializer):
    attachments = AttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = TicketMessage
        fields = ["id", "body", "from_staff", "created_at", "attachments"]
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


class NewMessageWithImagesSerializer(NewMessageSerializer):
    attachments = ImageListField(
        required=False,
        max_length=settings.MAX_ATTACHMENTS_PER_MESSAGE,
        help_text=(
            f"Up to {settings.MAX_ATTACHMENTS_PER_MESSAGE} JPEG, PNG or WebP images of at most "
            f"{settings.MAX_ATTACHMENT_BYTES} bytes each (repeat the part). Each is re-encoded: metadata "
            "such as EXIF GPS is dropped."
        ),
    )
