from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from desideliver.cart import services
from desideliver.cart.serializers import AddToCartSerializer, CartItemSerializer, CartSerializer, SetQuantitySerializer
from desideliver.core.schema import error_responses
from desideliver.throttling.throttles import UserThrottle
from desideliver.users.requests import AuthenticatedRequest


class CartView(APIView):
    @extend_schema(responses={200: CartSerializer, **error_responses(401)})
    def get(self, request: AuthenticatedRequest) -> Response:
        items = services.cart_items(request.user)
        return Response(CartSerializer({"items": items, "total": services.cart_total(items)}).data)


class CartWriteView(APIView):
    """Cart changes are throttled per user (THROTTLE_CART_RATE); reading the cart is not."""

    throttle_classes = [UserThrottle]
    throttle_scope = "cart"


class AddToCartView(CartWriteView):
    @extend_schema(
        request=AddToCartSerializer, responses={201: CartItemSerializer, **error_responses(400, 401, 409, 429)}
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        data = AddToCartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        item = services.add_to_cart(request.user, **data.validated_data)
        return Response(CartItemSerializer(item).data, status=status.HTTP_201_CREATED)


class UpdateCartItemView(CartWriteView):
    @extend_schema(
        request=SetQuantitySerializer, responses={200: CartItemSerializer, **error_responses(400, 401, 404, 409, 429)}
    )
    def put(self, request: AuthenticatedRequest, item_id: int) -> Response:
        data = SetQuantitySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        item = services.set_quantity(request.user, item_id=item_id, **data.validated_data)
        return Response(CartItemSerializer(item).data)


class RemoveCartItemView(CartWriteView):
    @extend_schema(responses={204: None, **error_responses(401, 404, 429)})
    def delete(self, request: AuthenticatedRequest, item_id: int) -> Response:
        services.remove_item(request.user, item_id=item_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
