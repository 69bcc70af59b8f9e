from rest_framework import serializers

from desideliver.cart.models import CartItem
from desideliver.cart.services import MAX_LINE_QUANTITY
from desideliver.catalog.serializers import ProductSerializer


class QuantityField(serializers.IntegerField):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(min_value=1, max_value=MAX_LINE_QUANTITY, **kwargs)  # type: ignore[arg-type]


class AddToCartSerializer(serializers.Serializer):
    product_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    quantity = QuantityField(default=1)


class SetQuantitySerializer(serializers.Serializer):
    quantity = QuantityField()


class CartItemSerializer(serializers.ModelSerializer):
    product = ProductSerializer(read_only=True)
    subtotal = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)
    available = serializers.BooleanField(
        source="product.is_active", read_only=True, help_text="False: no longer sold, not in the total."
    )

    class Meta:
        model = CartItem
        fields = ["id", "product", "quantity", "subtotal", "available"]
        read_only_fields = fields


class CartSerializer(serializers.Serializer):
    items = CartItemSerializer(many=True)
    # No digit limit: a price raised after a line was added may take the total past an order's.
    total = serializers.DecimalField(max_digits=None, decimal_places=2, help_text="Of the available lines.")
