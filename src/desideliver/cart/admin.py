from django.contrib import admin

from desideliver.cart.models import CartItem


@admin.register(CartItem)
class CartItemAdmin(admin.ModelAdmin):
    list_display = ["user", "product", "quantity", "added_at"]
    search_fields = ["user__email", "product__name"]
    list_select_related = ["user", "product"]
    raw_id_fields = ["user", "product"]
