import pytest
from django.contrib import admin
from django.core.management import call_command

from desideliver.catalog.models import Category, Product
from tests.factories import CartItemFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_scales(capsys):
    call_command("seed_demo")
    first = Product.objects.count()
    assert first >= 50
    assert Category.objects.count() >= 5
    assert not Product.objects.filter(stock=0).exists()
    call_command("seed_demo")
    assert Product.objects.count() == first
    call_command("seed_demo", products=1000)
    assert Product.objects.count() == 1000
    assert Product.objects.values("name").distinct().count() == 1000


@pytest.mark.parametrize(
    "model",
    [
        "users.user",
        "catalog.category",
        "catalog.product",
        "cart.cartitem",
        "orders.order",
        "tickets.ticket",
        "procrastinate.procrastinatejob",
    ],
)
def test_admin_pages_work_for_every_model(client, model):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    CartItemFactory(user=staff)
    app_label, model_name = model.split(".")
    listing = client.get(f"/admin/{app_label}/{model_name}/?q=a")
    assert listing.status_code == 200
    assert client.get(f"/admin/{app_label}/{model_name}/add/").status_code in (200, 403)


def test_every_model_is_registered():
    from django.apps import apps

    ours = [m for m in apps.get_models() if m.__module__.startswith("desideliver.")]
    unregistered = {m.__name__ for m in ours} - {m.__name__ for m in admin.site._registry}
    assert unregistered == {"OrderItem", "TicketMessage", "TicketAttachment"}  # shown inline on their order / ticket


def test_order_admin_shows_its_lines_inline(client, client_for):
    staff = UserFactory(is_staff=True, is_superuser=True)
    buyer = UserFactory()
    CartItemFactory(user=buyer, quantity=2)
    order_id = client_for(buyer).post("/api/orders/create/").json()["id"]
    client.force_login(staff)
    page = client.get(f"/admin/orders/order/{order_id}/change/")
    assert page.status_code == 200
    assert b"items-TOTAL_FORMS" in page.content
