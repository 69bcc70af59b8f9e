from django.contrib import admin

from desideliver.orders.models import Order, OrderItem


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    extra = 0
    fields = ("product", "product_name", "unit_price", "quantity")
    readonly_fields = fields
    can_delete = False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "status", "total", "created_at"]
    list_filter = ["status", "created_at"]
    search_fields = ["id", "user__email", "items__product_name"]
    date_hierarchy = "created_at"
    readonly_fields = ["user", "total", "created_at"]
    inlines = [OrderItemInline]
    list_select_related = ["user"]
