from decimal import Decimal

from django.conf import settings
from django.db import models

from desideliver.catalog.models import Product


class CartItem(models.Model):
    """A line of a user's cart; each user has one cart, made of their items."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cart_items")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField()
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "product"], name="one_cart_line_per_product"),
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="cart_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product_id} for {self.user_id}"

    @property
    def subtotal(self) -> Decimal:
        return self.product.price * self.quantity
