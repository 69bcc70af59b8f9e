import json
import threading
import time
from decimal import Decimal

import pytest
import redis
from django.db import connection
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from desideliver.catalog import services, views
from desideliver.catalog.models import Product
from desideliver.catalog.serializers import ProductSerializer
from tests.factories import CategoryFactory, ProductFactory, UserFactory

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


@pytest.mark.parametrize("query", ["min_price=cheap", "max_price=1e999999", "page=999", "page=%C2%B2"])
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


def test_cache_values_are_json_not_pickle(api, shelf, redis_server):
    api.get(f"/api/products/{shelf[0].pk}/")
    raw = redis.Redis(host=redis_server.host, port=redis_server.port)
    (key,) = raw.keys("*catalog:product:json:*")
    _tag, body = json.loads(raw.get(key))
    assert json.loads(body)["name"] == "Garam Masala"


def test_anonymous_cache_control_no_cache_is_served_from_the_cache(api, shelf, django_assert_num_queries):
    api.get("/api/products/")
    with django_assert_num_queries(0):
        api.get("/api/products/", HTTP_CACHE_CONTROL="no-cache")
        api.get("/api/products/", HTTP_CACHE_CONTROL="no-cache", HTTP_AUTHORIZATION="Bearer forged")


def test_staff_cache_control_no_cache_reads_the_database(api, shelf, django_assert_num_queries):
    staff = UserFactory(is_staff=True)
    token = f"Bearer {RefreshToken.for_user(staff).access_token}"
    api.get("/api/products/")
    with django_assert_num_queries(3):  # the staff user + count + page
        api.get("/api/products/", HTTP_CACHE_CONTROL="no-cache", HTTP_AUTHORIZATION=token)


def test_unknown_parameters_share_one_cache_entry(api, shelf, redis_server):
    for n in range(20):
        assert api.get(f"/api/products/?category=spices&junk{n}={n}&utm={n}").status_code == 200
    assert len(redis.Redis(host=redis_server.host, port=redis_server.port).keys("*catalog:list:json:*")) == 1


def test_a_repeated_parameter_is_read_by_its_last_value_and_cached_so(api, shelf):
    assert names(api.get("/api/products/?ordering=name&ordering=-price")) == ["Kaju Katli", "Garam Masala", "Turmeric"]
    assert names(api.get("/api/products/?ordering=-price&ordering=name")) == ["Garam Masala", "Kaju Katli", "Turmeric"]


def test_pagination_links_are_relative_and_carry_only_what_the_list_reads(api):
    ProductFactory.create_batch(3)
    page = api.get("/api/products/?page_size=1&page=2&utm=x", HTTP_HOST="localhost").json()
    assert page["next"] == "/api/products/?page=3&page_size=1"
    assert page["previous"] == "/api/products/?page_size=1"
    assert api.get("/api/products/?page_size=1&page=2", HTTP_HOST="127.0.0.1").json() == page


def test_paging_by_a_non_unique_field_shows_every_row_once(api):
    ProductFactory.create_batch(60, price=Decimal("5.00"))
    seen = []
    for number in range(1, 7):
        page = api.get(f"/api/products/?ordering=price&page_size=10&page={number}").json()
        seen += [row["id"] for row in page["results"]]
    assert len(seen) == 60
    assert len(set(seen)) == 60


def set_price(product_id, price):
    """A real committed write (the test runs outside any transaction): its invalidation runs on commit."""
    product = Product.objects.get(pk=product_id)
    product.price = Decimal(price)
    product.save()


@pytest.mark.django_db(transaction=True)
def test_a_committed_change_invalidates_list_and_detail(api, django_assert_num_queries):
    product = ProductFactory(price=Decimal("10.00"))
    api.get("/api/products/")
    api.get(f"/api/products/{product.pk}/")
    with django_assert_num_queries(0):  # both really come from Redis
        api.get("/api/products/")
        api.get(f"/api/products/{product.pk}/")
    set_price(product.pk, "99.00")
    assert api.get(f"/api/products/{product.pk}/").json()["price"] == "99.00"
    assert api.get("/api/products/").json()["results"][0]["price"] == "99.00"


class PausedReader:
    """A real reader thread that has read PostgreSQL and is held before it stores its answer.

    The hold stands for a reader that is merely slow (a GC pause, a busy CPU) between reading the
    row and writing the cache; everything else (threads, commits, Redis) is real.
    """

    def __init__(self, monkeypatch, owner, method, path):
        self.loaded, self.resume, self.answer = threading.Event(), threading.Event(), {}
        original = getattr(owner, method)

        def held(*args, **kwargs):
            result = original(*args, **kwargs)
            if threading.current_thread().name == "paused-reader":
                self.loaded.set()
                self.resume.wait(10)
            return result

        monkeypatch.setattr(owner, method, held)
        self.thread = threading.Thread(target=self._read, args=(path,), name="paused-reader")
        self.thread.start()
        assert self.loaded.wait(10)

    def _read(self, path):
        try:
            self.answer.update(APIClient().get(path).json())
        finally:
            connection.close()

    def finish(self):
        self.resume.set()
        self.thread.join(10)
        return self.answer


@pytest.mark.django_db(transaction=True)
def test_a_reader_that_loaded_the_old_detail_cannot_cache_it_after_the_change(
    api, monkeypatch, django_assert_num_queries
):
    product = ProductFactory(price=Decimal("10.00"))
    reader = PausedReader(monkeypatch, ProductSerializer, "to_representation", f"/api/products/{product.pk}/")
    set_price(product.pk, "99.00")
    assert reader.finish()["price"] == "10.00"  # it did load the old row, and stored it last
    assert api.get(f"/api/products/{product.pk}/").json()["price"] == "99.00"
    with django_assert_num_queries(0):
        assert api.get(f"/api/products/{product.pk}/").json()["price"] == "99.00"


@pytest.mark.django_db(transaction=True)
def test_a_reader_that_loaded_the_old_list_cannot_cache_it_after_the_change(
    api, monkeypatch, django_assert_num_queries
):
    product = ProductFactory(price=Decimal("10.00"))
    reader = PausedReader(monkeypatch, views, "product_data", "/api/products/")
    set_price(product.pk, "99.00")
    assert reader.finish()["results"][0]["price"] == "10.00"
    assert api.get("/api/products/").json()["results"][0]["price"] == "99.00"
    with django_assert_num_queries(0):
        assert api.get("/api/products/").json()["results"][0]["price"] == "99.00"


@pytest.mark.django_db(transaction=True)
def test_an_invalidation_that_cannot_reach_redis_serves_nothing_it_should_have_dropped(api, redis_server):
    product = ProductFactory(price=Decimal("10.00"))
    api.get(f"/api/products/{product.pk}/")
    api.get("/api/products/")
    control = redis.Redis(host=redis_server.host, port=redis_server.port)
    control.client_pause(2000, all=False)  # writes hang (past the 0.25 s socket timeout); reads still answer
    set_price(product.pk, "99.00")
    assert api.get(f"/api/products/{product.pk}/").json()["price"] == "99.00"
    assert api.get("/api/products/").json()["results"][0]["price"] == "99.00"
    control.client_unpause()
    time.sleep(2 * services.RETRY_SECONDS)
    assert api.get(f"/api/products/{product.pk}/").json()["price"] == "99.00"
    assert api.get("/api/products/").json()["results"][0]["price"] == "99.00"
    assert services.failed_invalidation.resolved()


def test_the_lean_list_path_renders_exactly_what_the_serializer_would(shelf):
    from desideliver.catalog.serializers import ProductSerializer
    from desideliver.catalog.views import product_data, product_rows

    products = Product.objects.filter(is_active=True).select_related("category").order_by("id")
    assert [product_data(row) for row in product_rows(products)] == ProductSerializer(products, many=True).data
