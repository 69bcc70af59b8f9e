from django.db.models import QuerySet
from django_filters import rest_framework as filters

from desideliver.catalog.models import Product


class ProductFilter(filters.FilterSet):
    category = filters.CharFilter(field_name="category__slug", help_text="Category slug.")
    min_price = filters.NumberFilter(field_name="price", lookup_expr="gte", help_text="Lowest price, inclusive.")
    max_price = filters.NumberFilter(field_name="price", lookup_expr="lte", help_text="Highest price, inclusive.")
    in_stock = filters.BooleanFilter(method="filter_in_stock", help_text="Only products with stock left.")

    class Meta:
        model = Product
        fields = ["category", "min_price", "max_price", "in_stock"]

    def filter_in_stock(self, queryset: QuerySet[Product], name: str, value: bool) -> QuerySet[Product]:
        return queryset.filter(stock__gt=0) if value else queryset.filter(stock=0)
