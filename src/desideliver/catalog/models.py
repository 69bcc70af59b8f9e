from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models


class Category(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    price = models.DecimalField(max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0"))])
    stock = models.PositiveIntegerField(default=0)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    is_active = models.BooleanField(default=True)
    # Public: served by the proxy from MEDIA_ROOT/products/ (re-encoded on upload, catalog/admin.py).
    image = models.ImageField(upload_to="products/", max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["category", "price"]),
            models.Index(fields=["price"]),
            models.Index(fields=["name"]),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(price__gte=0), name="product_price_not_negative"),
            models.CheckConstraint(condition=models.Q(stock__gte=0), name="product_stock_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name


class StockAdjustment(models.Model):
    """A manual change of a product's stock, relative and with its reason: the ledger staff write.

    Stock is never set to a number someone saw on a page (a sale since would be undone); it is
    moved by `change` under the product's row lock (`catalog.stock.adjust_stock`).
    """

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="stock_adjustments")
    change = models.IntegerField(help_text="Units added (positive) or removed (negative).")
    reason = models.CharField(max_length=200, help_text="Why: delivery, breakage, stock count, ...")
    stock_after = models.PositiveIntegerField(editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, editable=False, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=~models.Q(change=0), name="stock_adjustment_not_zero")]

    def __str__(self) -> str:
        return f"{self.change:+d} {self.product}: {self.reason}"
