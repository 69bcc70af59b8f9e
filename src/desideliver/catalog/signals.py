from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from desideliver.catalog.models import Category, Product
from desideliver.catalog.services import invalidate_products


@receiver([post_save, post_delete], sender=Product)
def product_changed(sender: type[Product], instance: Product, **kwargs: Any) -> None:
    invalidate_products([instance.pk])


@receiver(post_delete, sender=Product)
def product_image_deleted(sender: type[Product], instance: Product, **kwargs: Any) -> None:
    """A deleted product's image file goes once the deletion is committed (never before: a rollback keeps it)."""
    if instance.image:
        name, storage = instance.image.name, instance.image.storage
        transaction.on_commit(lambda: storage.delete(name))


@receiver([post_save, post_delete], sender=Category)
def category_changed(sender: type[Category], instance: Category, **kwargs: Any) -> None:
    invalidate_products(instance.products.values_list("pk", flat=True) if instance.pk else ())
