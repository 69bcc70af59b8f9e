from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, QuerySet, Sum, Value, When
from django.utils import timezone

from desideliver.cart.models import CartItem
from desideliver.cart.services import MAX_TOTAL
from desideliver.catalog.models import Product
from desideliver.catalog.services import invalidate_products
from desideliver.core.errors import ApplicationError
from desideliver.orders.models import Order, OrderItem
from desideliver.orders.tasks import send_confirmation
from desideliver.users.models import User


def user_orders(user: User) -> QuerySet[Order]:
    return Order.objects.filter(user=user).prefetch_related("items")


def _replayed_order(user: User, key: str, fingerprint: str) -> Order | None:
    """The order an earlier request with this Idempotency-Key placed, if still within retention.

    A key past IDEMPOTENCY_KEY_RETENTION_HOURS is released (the old order keeps no key) and the
    request is a new one; a key reused with a different body is refused.
    """
    order = Order.objects.filter(user=user, idempotency_key=key).prefetch_related("items").first()
    if order is None:
        return None
    if order.created_at < timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_RETENTION_HOURS):
        Order.objects.filter(pk=order.pk).update(idempotency_key="")
        return None
    if order.request_fingerprint != fingerprint:
        raise ApplicationError(
            "This Idempotency-Key was already used with a different request body.",
            code="idempotency_key_reused",
            status=422,
        )
    return order


def _ensure_within_units_limit(user: User, units: int) -> None:
    """At most ORDER_UNITS_LIMIT units over the last ORDER_UNITS_WINDOW_HOURS (cancelled orders aside)."""
    since = timezone.now() - timedelta(hours=settings.ORDER_UNITS_WINDOW_HOURS)
    ordered = (
        OrderItem.objects.filter(order__user=user, order__created_at__gte=since)
        .exclude(order__status=Order.Status.CANCELLED)
        .aggregate(units=Sum("quantity"))["units"]
        or 0
    )
    limit = settings.ORDER_UNITS_LIMIT
    if ordered + units > limit:
        raise ApplicationError(
            f"At most {limit} units per {settings.ORDER_UNITS_WINDOW_HOURS} h: {ordered} ordered, {units} in the cart.",
            code="order_limit_reached",
            status=409,
        )


@transaction.atomic
def place_order(user: User, *, idempotency_key: str | None = None, fingerprint: str = "") -> tuple[Order, bool]:
    """Turn the user's cart into an order in one transaction: (the order, whether it is new).

    The user's row is locked first, so one user's orders are placed one at a time (the
    Idempotency-Key lookup and the units limit can't race). The cart lines and then the products
    are locked (in id order, so concurrent orders can't deadlock) before stock is checked, so two
    buyers of the last item never both succeed; only the locked lines are ordered and removed (a
    line added meanwhile stays in the cart). Totals come from the locked rows' prices, never from
    the client.
    """
    User.objects.select_for_update(no_key=True).filter(pk=user.pk).first()  # cart inserts still go ahead
    if idempotency_key is not None:
        replayed = _replayed_order(user, idempotency_key, fingerprint)
        if replayed is not None:
            return replayed, False
    cart = list(CartItem.objects.select_for_update().filter(user=user))
    lines = {item.product_id: item.quantity for item in cart}
    if not lines:
        raise ApplicationError("Your cart is empty.", code="empty_cart")
    products = list(Product.objects.select_for_update().filter(pk__in=lines).order_by("pk"))
    for product in products:
        if not product.is_active:
            raise ApplicationError(f"'{product.name}' is no longer sold.", code="product_unavailable", status=409)
        if product.stock < lines[product.pk]:
            raise ApplicationError(
                f"Not enough stock for '{product.name}': {lines[product.pk]} requested, {product.stock} available.",
                code="out_of_stock",
                status=409,
            )
    _ensure_within_units_limit(user, sum(lines.values()))
    total = sum((p.price * lines[p.pk] for p in products), Decimal("0.00"))
    if total > MAX_TOTAL:
        raise ApplicationError(
            f"An order's total is at most {MAX_TOTAL}; this one is {total}.", code="order_too_large", field="total"
        )
    order = Order.objects.create(
        user=user, total=total, idempotency_key=idempotency_key or "", request_fingerprint=fingerprint
    )
    OrderItem.objects.bulk_create(
        OrderItem(order=order, product=p, product_name=p.name, unit_price=p.price, quantity=lines[p.pk])
        for p in products
    )
    # One UPDATE for every line (the rows are locked above; the check constraint backs the check).
    Product.objects.filter(pk__in=lines).update(
        stock=F("stock") - Case(*(When(pk=pk, then=Value(quantity)) for pk, quantity in lines.items()))
    )
    CartItem.objects.filter(pk__in=[item.pk for item in cart]).delete()
    invalidate_products(lines)
    # Queued in this transaction: a rollback leaves no e-mail behind, a commit leaves one to send.
    send_confirmation.defer(order_id=order.pk)
    return order, True
