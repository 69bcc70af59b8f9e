import json
from collections.abc import Callable
from functools import cache
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from desideliver.catalog.filters import ProductFilter
from desideliver.catalog.models import Product
from desideliver.catalog.serializers import ProductSerializer
from desideliver.catalog.services import cached, cached_list, detail_cache_key, list_cache_key
from desideliver.core.schema import error_responses


def bypasses_cache(request: Request) -> bool:
    """`Cache-Control: no-cache` asks for a fresh answer (which then refreshes the cache)."""
    return "no-cache" in request.headers.get("Cache-Control", "")


class PublicProductView(generics.GenericAPIView[Product]):
    permission_classes = [AllowAny]
    authentication_classes = []
    serializer_class = ProductSerializer
    queryset = Product.objects.filter(is_active=True).select_related("category")

    def cached_response(
        self, request: Request, key: str, build: Callable[[], Any], store: Callable[..., Any] = cached
    ) -> HttpResponse:
        """The response body as rendered JSON bytes from Redis, built and stored on a miss.

        The bytes are what DRF's JSONRenderer makes of `build()` (the same renderer, settings and
        no indent), so a hit skips serialization and rendering. Only a client asking for other
        rendering (`Accept: application/json; indent=4`) gets the cached data re-rendered by DRF.
        """

        def render() -> bytes:
            return JSONRenderer().render(build())

        body = store(key, render, refresh=bypasses_cache(request))
        if request.accepted_media_type != JSONRenderer.media_type:
            return Response(json.loads(body))
        return HttpResponse(body, content_type=JSONRenderer.media_type)


@cache
def _product_fields() -> Any:
    """ProductSerializer's own price and timestamp fields, so their formatting is DRF's."""
    return ProductSerializer().fields


PRODUCT_VALUES = (
    "id",
    "name",
    "description",
    "price",
    "stock",
    "category_id",
    "category__name",
    "category__slug",
    "created_at",
    "updated_at",
)


def product_rows(queryset: QuerySet[Product]) -> QuerySet[Any]:
    """Only the columns ProductSerializer shows, as dicts (no model instances)."""
    return queryset.values(*PRODUCT_VALUES)


def product_data(row: dict[str, Any]) -> dict[str, Any]:
    """Exactly ProductSerializer's representation of one `product_rows()` row."""
    fields = _product_fields()
    return {
        "id": row["id"],
        "name": row["name"],
        "description": row["description"],
        "price": fields["price"].to_representation(row["price"]),
        "stock": row["stock"],
        "category": {"id": row["category_id"], "name": row["category__name"], "slug": row["category__slug"]},
        "created_at": fields["created_at"].to_representation(row["created_at"]),
        "updated_at": fields["updated_at"].to_representation(row["updated_at"]),
    }


# 404: a page number past the last page (DRF's paginator).
@extend_schema_view(get=extend_schema(responses={200: ProductSerializer(many=True), **error_responses(400, 404)}))
class ProductListView(PublicProductView, generics.ListAPIView[Product]):
    filterset_class = ProductFilter
    search_fields = ["name", "description"]
    ordering_fields = ["id", "name", "price", "created_at"]
    ordering = ["id"]

    def list(self, request: Request, *args: object, **kwargs: object) -> HttpResponse:  # type: ignore[override]
        key = list_cache_key(request.query_params.lists())
        return self.cached_response(request, key, self.page_data, cached_list)

    def page_data(self) -> Any:
        """What ListAPIView.list would answer, built from `product_rows()` without the serializer."""
        rows = product_rows(self.filter_queryset(self.get_queryset()))
        page = self.paginate_queryset(rows)
        assert page is not None  # the pagination class is always set
        return self.get_paginated_response([product_data(row) for row in page]).data


@extend_schema_view(get=extend_schema(responses={200: ProductSerializer, **error_responses(404)}))
class ProductDetailView(PublicProductView, generics.RetrieveAPIView[Product]):
    def retrieve(self, request: Request, *args: object, **kwargs: object) -> HttpResponse:  # type: ignore[override]
        key = detail_cache_key(self.kwargs["pk"])
        return self.cached_response(request, key, lambda: super(ProductDetailView, self).retrieve(request).data)
