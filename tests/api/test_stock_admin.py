"""The product admin never writes back the stock it loaded: real admin POSTs racing real sales."""

import pytest
from django.test import Client

from desideliver.catalog.models import Product, StockAdjustment
from tests.api.admin_forms import form_fields
from tests.factories import CartItemFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)  # every step commits, as in production


@pytest.fixture
def admin_client() -> Client:
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def sell(product: Product, quantity: int, client_for) -> None:
    buyer = UserFactory()
    CartItemFactory(user=buyer, product=product, quantity=quantity)
    assert client_for(buyer).post("/api/orders/create/").status_code == 201


def stock(product: Product) -> int:
    return Product.objects.values_list("stock", flat=True).get(pk=product.pk)


def test_saving_a_price_after_a_sale_keeps_the_sale(admin_client, client_for):
    product = ProductFactory(stock=50, price="10.00")
    url = f"/admin/catalog/product/{product.pk}/change/"
    fields = form_fields(admin_client.get(url).content.decode(), "product_form")  # the page shows 50
    sell(product, 5, client_for)
    response = admin_client.post(url, {**fields, "price": "12.00"})
    assert response.status_code == 302, response.content[:2000]
    assert stock(product) == 45
    assert Product.objects.get(pk=product.pk).price == 12


def test_saving_the_change_list_after_a_sale_keeps_the_sale(admin_client, client_for):
    product = ProductFactory(stock=50, price="10.00")
    fields = form_fields(admin_client.get("/admin/catalog/product/").content.decode(), "changelist-form")
    assert not [name for name in fields if name.endswith("-stock")]  # not editable in the list
    sell(product, 5, client_for)
    response = admin_client.post("/admin/catalog/product/", {**fields, "form-0-price": "12.00", "_save": "Save"})
    assert response.status_code == 302, response.content[:2000]
    assert stock(product) == 45
    assert Product.objects.get(pk=product.pk).price == 12


def test_adjustments_are_relative_and_recorded(admin_client, client_for):
    product = ProductFactory(stock=50)
    url = f"/admin/catalog/product/{product.pk}/change/"
    fields = form_fields(admin_client.get(url).content.decode(), "product_form")
    sell(product, 5, client_for)
    for change, reason in ((10, "delivery"), (-3, "broken jars")):  # both from the page loaded at 50
        adjusted = {**fields, "stock_adjustments-0-change": str(change), "stock_adjustments-0-reason": reason}
        assert admin_client.post(url, adjusted).status_code == 302
    assert stock(product) == 52
    ledger = list(StockAdjustment.objects.filter(product=product).order_by("id").values_list("change", "stock_after"))
    assert ledger == [(10, 55), (-3, 52)]


def test_an_adjustment_below_zero_is_refused_with_the_current_stock(admin_client, client_for):
    product = ProductFactory(stock=50)
    url = f"/admin/catalog/product/{product.pk}/change/"
    fields = form_fields(admin_client.get(url).content.decode(), "product_form")
    sell(product, 5, client_for)
    refused = {**fields, "stock_adjustments-0-change": "-50", "stock_adjustments-0-reason": "count"}
    response = admin_client.post(url, refused)
    assert response.status_code == 200
    assert b"Stock is 45" in response.content
    assert stock(product) == 45
    assert not StockAdjustment.objects.exists()


def test_stock_is_read_only_on_the_form(admin_client):
    product = ProductFactory(stock=50)
    fields = form_fields(
        admin_client.get(f"/admin/catalog/product/{product.pk}/change/").content.decode(), "product_form"
    )
    assert "stock" not in fields
    assert (
        admin_client.post(f"/admin/catalog/product/{product.pk}/change/", {**fields, "stock": "999"}).status_code == 302
    )
    assert stock(product) == 50
