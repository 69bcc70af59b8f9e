from django.conf import settings
from django.db import models

from desideliver.orders.models import Order

SUBJECT_MAX_LENGTH = 200
BODY_MAX_LENGTH = 5000


class Ticket(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        WAITING_ON_CUSTOMER = "waiting_on_customer", "Waiting on customer"
        WAITING_ON_STAFF = "waiting_on_staff", "Waiting on staff"
        RESOLVED = "resolved", "Resolved"

    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="tickets")
    order = models.ForeignKey(Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="tickets")
    subject = models.CharField(max_length=SUBJECT_MAX_LENGTH)
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["customer", "-updated_at"])]

    def __str__(self) -> str:
        return f"Ticket {self.pk}: {self.subject}"


class TicketMessage(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    from_staff = models.BooleanField(default=False)
    body = models.TextField(max_length=BODY_MAX_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{'Staff' if self.from_staff else 'Customer'} message {self.pk} on ticket {self.ticket_id}"


class TicketAttachment(models.Model):
    """An image on a message, re-encoded on upload; never public (the download view checks who asks)."""

    message = models.ForeignKey(TicketMessage, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="attachments/", max_length=200)  # a random, unguessable name
    content_type = models.CharField(max_length=20)
    size = models.PositiveIntegerField(help_text="Bytes, after re-encoding.")
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"Attachment {self.pk} on message {self.message_id}"
