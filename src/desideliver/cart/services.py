from decimal import Decimal

from django.db import transaction
from django.db.models import F

from desideliver.cart.models import CartItem
from desideliver.catalog.models import Product
from desideliver.core.errors import ApplicationError
from desideliver.users.models import User

MAX_LINE_QUANTITY = 10_000
# The largest amount an order's total column (numeric(14, 2)) holds.
MAX_TOTAL = Decimal("999999999999.99")


def cart_items(user: User) -> list[CartItem]:
    return list(CartItem.objects.filter(user=user).select_related("product__category"))


def cart_total(items: list[CartItem]) -> Decimal:
    """What the cart would cost: lines whose product is no longer sold are shown but not counted."""
    return sum((item.subtotal for item in items if item.product.is_active), Decimal("0.00"))


def _ensure_in_stock(product: Product, quantity: int) -> None:
    if quantity > product.stock:
        raise ApplicationError(
            f"Only {product.stock} of '{product.name}' in stock; {quantity} requested.",
            code="insufficient_stock",
            status=409,
        )


def _ensure_line_fits(user: User, product: Product, quantity: int) -> None:
    """A line stays within MAX_LINE_QUANTITY, and the cart's total within what an order can hold."""
    if quantity > MAX_LINE_QUANTITY:
        raise ApplicationError(
            f"A cart line holds at most {MAX_LINE_QUANTITY} units; this one would hold {quantity}.",
            code="quantity_too_large",
            field="quantity",
        )
    others = [item for item in cart_items(user) if item.product_id != product.pk]
    if cart_total(others) + product.price * quantity > MAX_TOTAL:
        raise ApplicationError(
            f"The cart's total would exceed {MAX_TOTAL}; order what you have first.",
            code="cart_total_too_large",
            field="quantity",
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
        wanted = quantity if created else item.quantity + quantity
        _ensure_line_fits(user, product, wanted)
        _ensure_in_stock(product, wanted)
        if not created:
            CartItem.objects.filter(pk=item.pk).update(quantity=F("quantity") + quantity)
            item.refresh_from_db(fields=["quantity"])
    return item


def set_quantity(user: User, *, item_id: int, quantity: int) -> CartItem:
    """Lock the line, then change it: a line an order or a removal took meanwhile is a 404."""
    with transaction.atomic():
        lines = CartItem.objects.select_for_update(of=("self",)).select_related("product__category")
        item = lines.filter(user=user, pk=item_id).first()
        if item is None:
            raise ApplicationError(f"Cart item {item_id} does not exist.", code="not_found", status=404)
        _ensure_line_fits(user, item.product, quantity)
        _ensure_in_stock(item.product, quantity)
        CartItem.objects.filter(pk=item.pk).update(quantity=quantity)
        item.quantity = quantity
    return item


def remove_item(user: User, *, item_id: int) -> None:
    deleted, _ = CartItem.objects.filter(user=user, pk=item_id).delete()
    if not deleted:
        raise ApplicationError(f"Cart item {item_id} does not exist.", code="not_found", status=404)
