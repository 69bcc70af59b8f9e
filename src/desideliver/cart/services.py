from decimal import Decimal

from django.db import transaction
from django.db.models import F

from desideliver.cart.models import CartItem
from desideliver.catalog.models import Product
from desideliver.core.errors import ApplicationError
from desideliver.users.models import User


def cart_items(user: User) -> list[CartItem]:
    return list(CartItem.objects.filter(user=user).select_related("product__category"))


def cart_total(items: list[CartItem]) -> Decimal:
    return sum((item.subtotal for item in items), Decimal("0.00"))


def _ensure_in_stock(product: Product, quantity: int) -> None:
    if quantity > product.stock:
        raise ApplicationError(
            f"Only {product.stock} of '{product.name}' in stock; {quantity} requested.",
            code="insufficient_stock",
            status=409,
        )


def add_to_cart(user: User, *, product_id: int, quantity: int) -> CartItem:
    """Add `quantity` of a product; adding a product already in the cart increases its line."""
    product = Product.objects.filter(pk=product_id, is_active=True).first()
    if product is None:
        raise ApplicationError(f"Product {product_id} does not exist.", code="unknown_product", field="product_id")
    with transaction.atomic():
        item, created = CartItem.objects.select_for_update().get_or_create(
            user=user, product=product, defaults={"quantity": quantity}
        )
        if not created:
            _ensure_in_stock(product, item.quantity + quantity)
            CartItem.objects.filter(pk=item.pk).update(quantity=F("quantity") + quantity)
            item.refresh_from_db(fields=["quantity"])
        else:
            _ensure_in_stock(product, quantity)
    return item


def set_quantity(user: User, *, item_id: int, quantity: int) -> CartItem:
    item = CartItem.objects.select_related("product__category").filter(user=user, pk=item_id).first()
    if item is None:
        raise ApplicationError(f"Cart item {item_id} does not exist.", code="not_found", status=404)
    _ensure_in_stock(item.product, quantity)
    item.quantity = quantity
    item.save(update_fields=["quantity"])
    return item


def remove_item(user: User, *, item_id: int) -> None:
    deleted, _ = CartItem.objects.filter(user=user, pk=item_id).delete()
    if not deleted:
        raise ApplicationError(f"Cart item {item_id} does not exist.", code="not_found", status=404)
