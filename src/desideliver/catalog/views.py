from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from desideliver.catalog.filters import ProductFilter
from desideliver.catalog.models import Product
from desideliver.catalog.serializers import ProductSerializer
from desideliver.catalog.services import cached, detail_cache_key, list_cache_key
from desideliver.core.schema import error_responses


def bypasses_cache(request: Request) -> bool:
    """`Cache-Control: no-cache` asks for a fresh answer (which then refreshes the cache)."""
    return "no-cache" in request.headers.get("Cache-Control", "")


class PublicProductView(generics.GenericAPIView[Product]):
    permission_classes = [AllowAny]
    authentication_classes = []
    serializer_class = ProductSerializer
    queryset = Product.objects.filter(is_active=True).select_related("category")


# 404: a page number past the last page (DRF's paginator).
@extend_schema_view(get=extend_schema(responses={200: ProductSerializer(many=True), **error_responses(400, 404)}))
class ProductListView(PublicProductView, generics.ListAPIView[Product]):
    filterset_class = ProductFilter
    search_fields = ["name", "description"]
    ordering_fields = ["id", "name", "price", "created_at"]
    ordering = ["id"]

    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        key = list_cache_key(request.query_params.lists())
        return Response(
            cached(key, lambda: super(ProductListView, self).list(request).data, refresh=bypasses_cache(request))
        )


@extend_schema_view(get=extend_schema(responses={200: ProductSerializer, **error_responses(404)}))
class ProductDetailView(PublicProductView, generics.RetrieveAPIView[Product]):
    def retrieve(self, request: Request, *args: object, **kwargs: object) -> Response:
        key = detail_cache_key(self.kwargs["pk"])
        return Response(
            cached(key, lambda: super(ProductDetailView, self).retrieve(request).data, refresh=bypasses_cache(request))
        )
