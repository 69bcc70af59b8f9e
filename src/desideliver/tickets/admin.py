"""Staff work tickets here: read the conversation, reply (the customer is e-mailed), change the status."""

from typing import Any

from django.contrib import admin
from django.forms import BaseInlineFormSet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html_join

from desideliver.tickets import services
from desideliver.tickets.models import Ticket, TicketMessage


class ConversationInline(admin.TabularInline):
    """The messages so far, as they were written: nobody edits or deletes them."""

    model = TicketMessage
    verbose_name_plural = "conversation"
    extra = 0
    fields = ("created_at", "author", "from_staff", "body", "images")
    readonly_fields = fields
    can_delete = False

    @admin.display(description="attachments")
    def images(self, message: TicketMessage) -> str:
        """Links to the download view (staff's admin session is accepted there)."""
        return format_html_join(
            ", ",
            '<a href="{}">{}×{} {}</a>',
            (
                (reverse("ticket-attachment", args=[item.pk]), item.width, item.height, item.content_type)
                for item in message.attachments.all()
            ),
        )

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class StaffReplyFormSet(BaseInlineFormSet):
    """New replies only; saved through the ticket rules, which also queue the customer's e-mail."""


class StaffReplyInline(admin.StackedInline):
    model = TicketMessage
    formset = StaffReplyFormSet
    verbose_name = "reply"
    verbose_name_plural = "reply to the customer"
    extra = 1
    fields = ("body",)

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).none()

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = ["id", "subject", "customer", "order", "status", "updated_at"]
    list_filter = ["status", "created_at", "updated_at"]
    search_fields = ["=id", "subject", "customer__email", "=order__id"]
    readonly_fields = ["customer", "order", "created_at", "updated_at"]
    fields = ["subject", "status", "customer", "order", "created_at", "updated_at"]
    date_hierarchy = "created_at"
    list_select_related = ["customer", "order"]
    inlines = [ConversationInline, StaffReplyInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # customers open tickets; staff answer them

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if not isinstance(formset, StaffReplyFormSet):
            return super().save_formset(request, form, formset, change)
        for reply in formset.save(commit=False):
            services.add_staff_reply(form.instance, request.user, reply.body)  # type: ignore[arg-type]
        return None
