from decimal import Decimal

import pytest

from desideliver.catalog.models import Product
from tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shelf():
    spices, sweets = CategoryFactory(slug="spices", name="Spices"), CategoryFactory(slug="sweets", name="Sweets")
    return [
        ProductFactory(name="Garam Masala", description="warm blend", price=Decimal("120.00"), category=spices),
        ProductFactory(name="Turmeric", description="golden", price=Decimal("60.50"), category=spices),
        ProductFactory(name="Kaju Katli", description="cashew fudge", price=Decimal("450.00"), category=sweets),
        ProductFactory(name="Hidden", price=Decimal("1.00"), category=sweets, is_active=False),
    ]


def names(response):
    return [product["name"] for product in response.json()["results"]]


def test_list_is_public_and_paginated_with_drf_envelope(api):
    ProductFactory.create_batch(25)
    page = api.get("/api/products/").json()
    assert set(page) == {"count", "next", "previous", "results"}
    assert page["count"] == 25
    assert len(page["results"]) == 20
    assert page["previous"] is None
    second = api.get(page["next"]).json()
    assert len(second["results"]) == 5


def test_product_fields_and_decimal_price(api, shelf):
    product = api.get(f"/api/products/{shelf[1].pk}/").json()
    assert product["price"] == "60.50"
    assert product["category"] == {"id": shelf[1].category_id, "name": "Spices", "slug": "spices"}
    assert {"id", "name", "description", "price", "stock", "category"} <= set(product)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("category=spices", ["Garam Masala", "Turmeric"]),
        ("min_price=100", ["Garam Masala", "Kaju Katli"]),
        ("max_price=100", ["Turmeric"]),
        ("min_price=100&max_price=200", ["Garam Masala"]),
        ("search=cashew", ["Kaju Katli"]),
        ("search=masala", ["Garam Masala"]),
        ("ordering=-price", ["Kaju Katli", "Garam Masala", "Turmeric"]),
        ("ordering=name", ["Garam Masala", "Kaju Katli", "Turmeric"]),
        ("category=none", []),
    ],
)
def test_filter_search_and_ordering(api, shelf, query, expected):
    assert names(api.get(f"/api/products/?{query}")) == expected


def test_inactive_products_are_invisible(api, shelf):
    assert api.get(f"/api/products/{shelf[3].pk}/").status_code == 404


@pytest.mark.parametrize("query", ["min_price=cheap", "max_price=1e999999", "page=999"])
def test_bad_query_values_are_4xx_naming_the_problem(api, shelf, query):
    response = api.get(f"/api/products/?{query}")
    assert 400 <= response.status_code < 500
    body = response.json()
    assert body["detail"]
    if response.status_code == 400:
        assert query.split("=")[0] in body["errors"]


@pytest.mark.parametrize("product_id", ["999999", "9223372036854775808", "99999999999999999999999"])
def test_unknown_product_is_404(api, product_id):
    response = api.get(f"/api/products/{product_id}/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_second_read_comes_from_redis_without_queries(api, shelf, django_assert_num_queries):
    first = api.get("/api/products/?category=spices").json()
    detail = api.get(f"/api/products/{shelf[0].pk}/").json()
    with django_assert_num_queries(0):
        assert api.get("/api/products/?category=spices").json() == first
        assert api.get(f"/api/products/{shelf[0].pk}/").json() == detail


def test_cache_control_no_cache_reads_the_database(api, shelf, django_assert_num_queries):
    api.get("/api/products/")
    with django_assert_num_queries(2):  # count + page
        api.get("/api/products/", HTTP_CACHE_CONTROL="no-cache")


def test_changing_a_product_invalidates_list_and_detail(api, shelf, django_capture_on_commit_callbacks):
    api.get("/api/products/?category=spices")
    api.get(f"/api/products/{shelf[0].pk}/")
    with django_capture_on_commit_callbacks(execute=True):
        product = Product.objects.get(pk=shelf[0].pk)
        product.price = Decimal("99.00")
        product.save()
    assert api.get(f"/api/products/{shelf[0].pk}/").json()["price"] == "99.00"
    listed = api.get("/api/products/?category=spices").json()["results"]
    assert listed[0]["price"] == "99.00"


def test_products_still_served_when_redis_is_down(api, shelf, redis_server):
    api.get("/api/products/")
    with redis_server.stopped():
        response = api.get("/api/products/?category=spices")
        assert response.status_code == 200
        assert names(response) == ["Garam Masala", "Turmeric"]
        assert api.get(f"/api/products/{shelf[0].pk}/").status_code == 200
    assert api.get("/api/products/").status_code == 200


def test_the_lean_list_path_renders_exactly_what_the_serializer_would(shelf):
    from desideliver.catalog.serializers import ProductSerializer
    from desideliver.catalog.views import product_data, product_rows

    products = Product.objects.filter(is_active=True).select_related("category").order_by("id")
    assert [product_data(row) for row in product_rows(products)] == ProductSerializer(products, many=True).data
