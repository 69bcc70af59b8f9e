from decimal import Decimal

import factory

from desideliver.cart.models import CartItem
from desideliver.catalog.models import Category, Product
from desideliver.users.models import User

PASSWORD = "a-long-and-unusual-passphrase"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"buyer{n}@example.com")
    first_name = "Asha"
    last_name = "Rao"
    password = factory.django.Password(PASSWORD)


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"Product {n}")
    description = "Fresh from the shelf."
    price = Decimal("100.00")
    stock = 50
    category = factory.SubFactory(CategoryFactory)


class CartItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CartItem

    user = factory.SubFactory(UserFactory)
    product = factory.SubFactory(ProductFactory)
    quantity = 1
