import csv
from collections.abc import Iterable, Iterator
from decimal import Decimal

from django.db import transaction
from django.db.models import Case, F, QuerySet, Value, When

from desideliver.cart.models import CartItem
from desideliver.catalog.models import Product
from desideliver.catalog.services import invalidate_products
from desideliver.core.errors import ApplicationError
from desideliver.orders.models import Order, OrderItem
from desideliver.orders.tasks import send_confirmation
from desideliver.users.models import User


def user_orders(user: User) -> QuerySet[Order]:
    return Order.objects.filter(user=user).prefetch_related("items")


@transaction.atomic
def place_order(user: User) -> Order:
    """Turn the user's cart into an order in one transaction.

    The products are locked (in id order, so concurrent orders can't deadlock) before stock is
    checked, so two buyers of the last item never both succeed. Totals come from the locked
    rows' prices, never from the client.
    """
    lines = {item.product_id: item.quantity for item in CartItem.objects.select_for_update().filter(user=user)}
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
    order = Order.objects.create(user=user, total=sum((p.price * lines[p.pk] for p in products), Decimal("0.00")))
    OrderItem.objects.bulk_create(
        OrderItem(order=order, product=p, product_name=p.name, unit_price=p.price, quantity=lines[p.pk])
        for p in products
    )
    # One UPDATE for every line (the rows are locked above; the check constraint backs the check).
    Product.objects.filter(pk__in=lines).update(
        stock=F("stock") - Case(*(When(pk=pk, then=Value(quantity)) for pk, quantity in lines.items()))
    )
    CartItem.objects.filter(user=user).delete()
    invalidate_products(lines)
    # Queued in this transaction: a rollback leaves no e-mail behind, a commit leaves one to send.
    send_confirmation.defer(order_id=order.pk)
    return order


class _Echo:
    def write(self, value: str) -> str:
        return value


CSV_HEADER = ["order_id", "created_at", "status", "product", "quantity", "unit_price", "subtotal", "order_total"]


def orders_csv_rows(orders: Iterable[Order]) -> Iterator[str]:
    """CSV lines, one per order line, streamed."""
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_HEADER)
    for order in orders:
        for item in order.items.all():
            yield writer.writerow(
                [
                    order.pk,
                    order.created_at.isoformat(),
                    order.status,
                    item.product_name,
                    item.quantity,
                    item.unit_price,
                    item.subtotal,
                    order.total,
                ]
            )
