import json
import re
from collections.abc import Callable
from functools import cache
from typing import Any
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.http import HttpResponse, QueryDict
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, generics
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework_simplejwt.authentication import JWTAuthentication

from desideliver.catalog.filters import ProductFilter
from desideliver.catalog.models import Product
from desideliver.catalog.serializers import ProductSerializer
from desideliver.catalog.services import cached_detail, cached_list, list_cache_key
from desideliver.core.filters import StableOrderingFilter
from desideliver.core.pagination import PageNumberPagination
from desideliver.core.schema import error_responses
from desideliver.media.fields import stored_file_url


def bypasses_cache(request: Request) -> bool:
    """`Cache-Control: no-cache` reads PostgreSQL, but only for staff (a valid staff access token).

    Anyone else's no-cache is ignored: honouring it would let any client turn every read into
    database queries.
    """
    if "no-cache" not in request.headers.get("Cache-Control", ""):
        return False
    try:
        authenticated = JWTAuthentication().authenticate(request)
    except exceptions.APIException:
        return False
    return authenticated is not None and bool(getattr(authenticated[0], "is_staff", False))


class PublicProductView(generics.GenericAPIView[Product]):
    permission_classes = [AllowAny]
    authentication_classes = []
    serializer_class = ProductSerializer
    queryset = Product.objects.filter(is_active=True).select_related("category")

    def cached_response(
        self, request: Request, store: Callable[[Callable[[], str]], str], build: Callable[[], Any]
    ) -> HttpResponse:
        """The response body as rendered JSON from Redis, built and stored on a miss.

        The body is what DRF's JSONRenderer makes of `build()` (the same renderer, settings and
        no indent), so a hit skips serialization and rendering. Only a client asking for other
        rendering (`Accept: application/json; indent=4`) gets the cached data re-rendered by DRF.
        """

        def render() -> str:
            return JSONRenderer().render(build()).decode()

        body = render() if bypasses_cache(request) else store(render)
        if request.accepted_media_type != JSONRenderer.media_type:
            return Response(json.loads(body))
        return HttpResponse(body.encode(), content_type=JSONRenderer.media_type)


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
    "image",
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
        "image": stored_file_url(row["image"]),
        "created_at": fields["created_at"].to_representation(row["created_at"]),
        "updated_at": fields["updated_at"].to_representation(row["updated_at"]),
    }


# The query parameters the list reads (ProductFilter's, search, ordering, pagination's).
LIST_PARAMETERS = ("category", "min_price", "max_price", "in_stock", "search", "ordering", "page", "page_size")


# 404: a page number past the last page (DRF's paginator).
@extend_schema_view(get=extend_schema(responses={200: ProductSerializer(many=True), **error_responses(400, 404)}))
class ProductListView(PublicProductView, generics.ListAPIView[Product]):
    filterset_class = ProductFilter
    search_fields = ["name", "description"]
    ordering_fields = ["id", "name", "price", "created_at"]
    ordering = ["id"]

    def list(self, request: Request, *args: object, **kwargs: object) -> HttpResponse:  # type: ignore[override]
        parameters = self.canonical_parameters(request)
        # The filters, the paginator and its links read exactly what the key says.
        request._request.GET = QueryDict(urlencode(parameters))
        key = list_cache_key(parameters)
        return self.cached_response(request, lambda build: cached_list(key, build), self.page_data)

    def canonical_parameters(self, request: Request) -> dict[str, str]:
        """The parameters the list reads, each by its LAST value (as DRF and django-filter read a
        repeated parameter), without empty ones, defaults or anything else the client sent."""
        given = {name: request.query_params[name].strip() for name in LIST_PARAMETERS if name in request.query_params}
        parameters = {name: value for name, value in given.items() if value}
        if "ordering" in parameters:
            del parameters["ordering"]
            # Unknown terms are a 400 here, before any cache lookup.
            terms = StableOrderingFilter().checked_terms(request, self.get_queryset(), self)
            if terms and terms != self.ordering:
                parameters["ordering"] = ",".join(terms)
        paginator = self.paginator
        assert isinstance(paginator, PageNumberPagination)
        if "page_size" in parameters:
            size = paginator.get_page_size(request)
            del parameters["page_size"]
            if size != paginator.page_size:
                parameters["page_size"] = str(size)
        if re.fullmatch(r"[0-9]+", parameters.get("page", "")):
            parameters["page"] = str(int(parameters["page"]))
            if parameters["page"] == "1":
                del parameters["page"]
        return parameters

    def page_data(self) -> Any:
        """What ListAPIView.list would answer, built from `product_rows()` without the serializer."""
        rows = product_rows(self.filter_queryset(self.get_queryset()))
        page = self.paginate_queryset(rows)
        assert page is not None  # the pagination class is always set
        return self.get_paginated_response([product_data(row) for row in page]).data


@extend_schema_view(get=extend_schema(responses={200: ProductSerializer, **error_responses(404)}))
class ProductDetailView(PublicProductView, generics.RetrieveAPIView[Product]):
    def retrieve(self, request: Request, *args: object, **kwargs: object) -> HttpResponse:  # type: ignore[override]
        product_id = int(self.kwargs["pk"])
        return self.cached_response(
            request,
            lambda build: cached_detail(product_id, build),
            lambda: super(ProductDetailView, self).retrieve(request).data,
        )
