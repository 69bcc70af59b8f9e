from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from desideliver.catalog.models import Category, Product
from desideliver.catalog.services import invalidate_products


@receiver([post_save, post_delete], sender=Product)
def product_changed(sender: type[Product], instance: Product, **kwargs: Any) -> None:
    invalidate_products([instance.pk])


@receiver([post_save, post_delete], sender=Category)
def category_changed(sender: type[Category], instance: Category, **kwargs: Any) -> None:
    invalidate_products(instance.products.values_list("pk", flat=True) if instance.pk else ())
