from django.contrib import admin
from django.http import HttpRequest

from desideliver.throttling.models import ThrottleWindow


@admin.register(ThrottleWindow)
class ThrottleWindowAdmin(admin.ModelAdmin):
    """Current rate-limit windows, read-only; deleting one lifts that limit (a locked-out user)."""

    list_display = ["key", "hits", "expires_at"]
    search_fields = ["key"]
    ordering = ["-expires_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
