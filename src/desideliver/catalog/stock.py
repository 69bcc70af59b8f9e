"""Stock changes made by staff: relative, locked, recorded (`StockAdjustment`)."""

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from desideliver.catalog.models import Product, StockAdjustment
from desideliver.catalog.services import invalidate_products
from desideliver.core.errors import ApplicationError
from desideliver.users.models import User


def locked_stock(product_id: int) -> int:
    """The product's stock, its row locked until the current transaction ends (as orders lock it)."""
    return Product.objects.select_for_update().values_list("stock", flat=True).get(pk=product_id)


@transaction.atomic
def adjust_stock(product_id: int, change: int, reason: str, user: User | None) -> StockAdjustment:
    """Move the stock by `change` units (never below 0) and record who did it and why."""
    stock = locked_stock(product_id)
    if change == 0 or stock + change < 0:
        raise ApplicationError(
            f"Stock is {stock}; a change of {change:+d} would leave {stock + change}.", code="invalid_stock_change"
        )
    Product.objects.filter(pk=product_id).update(stock=F("stock") + change, updated_at=timezone.now())
    invalidate_products([product_id])
    return StockAdjustment.objects.create(
        product_id=product_id, change=change, reason=reason, stock_after=stock + change, created_by=user
    )
