"""Idempotent demo data: the same categories and products, however often it runs.

The default 60 are 60 different products; past them (the benchmark loads 1,000), each product
comes again in other pack sizes, which are distinct products a shop sells too.
"""

from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from desideliver.catalog.models import Category, Product

CATEGORIES = {
    "spices": ("Spices", ["Garam Masala", "Turmeric", "Cumin Seeds", "Cardamom", "Kashmiri Chilli", "Hing"]),
    "grains": ("Rice & Grains", ["Basmati Rice", "Sona Masoori", "Poha", "Rava", "Jowar Flour", "Atta"]),
    "lentils": ("Lentils", ["Toor Dal", "Moong Dal", "Chana Dal", "Urad Dal", "Masoor Dal", "Rajma"]),
    "snacks": ("Snacks", ["Bhujia", "Chakli", "Banana Chips", "Mathri", "Khakhra", "Chivda"]),
    "sweets": ("Sweets", ["Gulab Jamun", "Kaju Katli", "Soan Papdi", "Rasgulla", "Mysore Pak", "Peda"]),
    "pickles": (
        "Pickles",
        ["Mango Pickle", "Lime Pickle", "Gongura", "Mixed Pickle", "Garlic Pickle", "Chilli Pickle"],
    ),
    "beverages": ("Beverages", ["Assam Tea", "Filter Coffee", "Rooh Afza", "Masala Chai Mix", "Thandai", "Jaljeera"]),
    "frozen": ("Frozen", ["Paratha", "Samosa", "Paneer", "Malai Kofta", "Aloo Tikki", "Idli Batter"]),
    "sauces": (
        "Chutneys & Sauces",
        ["Tamarind Chutney", "Mint Chutney", "Schezwan Sauce", "Tomato Ketchup", "Coriander Chutney", "Garlic Chutney"],
    ),
    "dairy": ("Dairy", ["Desi Ghee", "Dahi", "Khoa", "Malai", "Chaas", "Shrikhand"]),
}
PACK_SIZES = ["family pack", "value pack", "party pack", "mini pack", "gift box", "bulk pack", "twin pack"]


def product_name(base: str, batch: int) -> str:
    """`base` for the first batch, then "Hing (family pack)", ..., "Hing (family pack, 2)" past the sizes."""
    if batch == 0:
        return base
    size = PACK_SIZES[(batch - 1) % len(PACK_SIZES)]
    repeat = (batch - 1) // len(PACK_SIZES)
    return f"{base} ({size})" if repeat == 0 else f"{base} ({size}, {repeat + 1})"


class Command(BaseCommand):
    help = "Create demo categories and products (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--products", type=int, default=60, help="How many products in total (default 60).")

    @transaction.atomic
    def handle(self, *args: Any, products: int, **options: Any) -> None:
        categories = [
            Category.objects.update_or_create(slug=slug, defaults={"name": name})[0]
            for slug, (name, _) in CATEGORIES.items()
        ]
        names = [
            (category, base)
            for category, (_, bases) in zip(categories, CATEGORIES.values(), strict=True)
            for base in bases
        ]
        existing = set(Product.objects.values_list("name", flat=True))
        new = []
        for number in range(products):
            category, base = names[number % len(names)]
            batch = number // len(names)
            name = product_name(base, batch)
            if name not in existing:
                new.append(
                    Product(
                        name=name,
                        description=f"{base} from our {category.name.lower()} shelf.",
                        price=Decimal(49 + (number * 37) % 950) + Decimal("0.99"),
                        stock=20 + (number * 13) % 180,
                        category=category,
                    )
                )
        Product.objects.bulk_create(new, batch_size=1000)
        self.stdout.write(f"{len(categories)} categories, {len(new)} new products ({Product.objects.count()} in all).")
