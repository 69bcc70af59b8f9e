import pytest

from desideliver.cart.models import CartItem
from tests.factories import CartItemFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


def add(client, product_id, quantity=1):
    return client.post("/api/cart/add/", {"product_id": product_id, "quantity": quantity}, format="json")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/cart/"),
        ("post", "/api/cart/add/"),
        ("put", "/api/cart/update/1/"),
        ("delete", "/api/cart/remove/1/"),
    ],
)
def test_cart_requires_authentication(api, method, path):
    response = getattr(api, method)(path, {}, format="json")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_add_then_view_with_subtotals_and_total(buyer):
    masala, tea = ProductFactory(price="120.00", stock=10), ProductFactory(price="35.50", stock=10)
    first = add(buyer, masala.pk, 2)
    assert first.status_code == 201
    assert first.json()["quantity"] == 2
    assert first.json()["subtotal"] == "240.00"
    add(buyer, tea.pk, 3)
    cart = buyer.get("/api/cart/").json()
    assert [(item["product"]["id"], item["quantity"], item["subtotal"]) for item in cart["items"]] == [
        (masala.pk, 2, "240.00"),
        (tea.pk, 3, "106.50"),
    ]
    assert cart["total"] == "346.50"


def test_adding_the_same_product_again_increases_the_line(buyer):
    product = ProductFactory(stock=10)
    add(buyer, product.pk, 2)
    again = add(buyer, product.pk, 3)
    assert again.status_code == 201
    assert again.json()["quantity"] == 5
    assert len(buyer.get("/api/cart/").json()["items"]) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"product_id": 1, "quantity": 0}, "quantity"),
        ({"product_id": 1, "quantity": -3}, "quantity"),
        ({"product_id": 1, "quantity": 10**30}, "quantity"),
        ({"product_id": 1, "quantity": "many"}, "quantity"),
        ({"product_id": "abc"}, "product_id"),
        ({"product_id": 10**30}, "product_id"),
        ({"quantity": 1}, "product_id"),
        ({"product_id": 987654}, "product_id"),
    ],
)
def test_bad_additions_are_400_naming_the_field(buyer, body, field):
    ProductFactory(pk=1, stock=10)
    response = buyer.post("/api/cart/add/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_quantity_above_stock_is_409(buyer):
    product = ProductFactory(stock=3)
    assert add(buyer, product.pk, 4).status_code == 409
    add(buyer, product.pk, 2)
    response = add(buyer, product.pk, 2)
    assert response.status_code == 409
    assert response.json()["code"] == "insufficient_stock"


def test_update_and_remove_own_items(buyer, user):
    item = CartItemFactory(user=user, product=ProductFactory(stock=9))
    updated = buyer.put(f"/api/cart/update/{item.pk}/", {"quantity": 7}, format="json")
    assert updated.status_code == 200
    assert updated.json()["quantity"] == 7
    assert buyer.put(f"/api/cart/update/{item.pk}/", {"quantity": 10}, format="json").status_code == 409
    assert buyer.put(f"/api/cart/update/{item.pk}/", {"quantity": 0}, format="json").status_code == 400
    assert buyer.delete(f"/api/cart/remove/{item.pk}/").status_code == 204
    assert buyer.get("/api/cart/").json() == {"items": [], "total": "0.00"}


def test_someone_elses_cart_item_is_404(buyer):
    theirs = CartItemFactory(user=UserFactory())
    assert buyer.put(f"/api/cart/update/{theirs.pk}/", {"quantity": 1}, format="json").status_code == 404
    assert buyer.delete(f"/api/cart/remove/{theirs.pk}/").status_code == 404
    assert CartItem.objects.filter(pk=theirs.pk).exists()
