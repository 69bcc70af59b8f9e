import logging
from collections.abc import Iterable
from decimal import Decimal

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Case, F, QuerySet, Value, When

from desideliver.cart.models import CartItem
from desideliver.catalog.models import Product
from desideliver.catalog.services import invalidate_products
from desideliver.core.errors import ApplicationError
from desideliver.orders.models import Order, OrderItem
from desideliver.users.models import User

logger = logging.getLogger(__name__)


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
    items = OrderItem.objects.bulk_create(
        OrderItem(order=order, product=p, product_name=p.name, unit_price=p.price, quantity=lines[p.pk])
        for p in products
    )
    # One UPDATE for every line (the rows are locked above; the check constraint backs the check).
    Product.objects.filter(pk__in=lines).update(
        stock=F("stock") - Case(*(When(pk=pk, then=Value(quantity)) for pk, quantity in lines.items()))
    )
    CartItem.objects.filter(user=user).delete()
    invalidate_products(lines)
    transaction.on_commit(lambda: send_confirmation(order, items, user.email))
    return order


def send_confirmation(order: Order, items: Iterable[OrderItem], email: str) -> None:
    """Email the buyer; a mail failure is logged and never undoes the order.

    Built from the committed order's rows still in memory: reading them back costs two queries.
    """
    lines = "\n".join(f"  {item.quantity} × {item.product_name} @ {item.unit_price}" for item in items)
    try:
        send_mail(
            subject=f"DesiDeliver order {order.pk} confirmed",
            message=f"Thank you for your order.\n\n{lines}\n\nTotal: {order.total}\n",
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[email],
        )
    except Exception:
        logger.exception("confirmation email for order %s failed", order.pk)
