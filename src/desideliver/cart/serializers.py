from rest_framework import serializers

from desideliver.cart.models import CartItem
from desideliver.catalog.serializers import ProductSerializer

MAX_QUANTITY = 10_000


class QuantityField(serializers.IntegerField):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(min_value=1, max_value=MAX_QUANTITY, **kwargs)  # type: ignore[arg-type]


class AddToCartSerializer(serializers.Serializer):
    product_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    quantity = QuantityField(default=1)


class SetQuantitySerializer(serializers.Serializer):
    quantity = QuantityField()


class CartItemSerializer(serializers.ModelSerializer):
    product = ProductSerializer(read_only=True)
    subtotal = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)

    class Meta:
        model = CartItem
        fields = ["id", "product", "quantity", "subtotal"]
        read_only_fields = fields


class CartSerializer(serializers.Serializer):
    items = CartItemSerializer(many=True)
    total = serializers.DecimalField(max_digits=14, decimal_places=2)
