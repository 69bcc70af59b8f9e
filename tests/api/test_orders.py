import csv
import io
import threading
from datetime import datetime
from decimal import Decimal

import port_for
import pytest
from django.core import mail
from django.db import connection
from procrastinate.contrib.django.models import ProcrastinateJob

from desideliver.cart.models import CartItem
from desideliver.catalog.models import Product
from desideliver.jobs.mail import RecipientRefused
from desideliver.orders.models import Order
from desideliver.orders.services import place_order
from desideliver.orders.tasks import send_confirmation
from tests.factories import CartItemFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_order_from_cart_in_one_step(buyer, user):
    masala, tea = ProductFactory(name="Masala", price="120.00", stock=5), ProductFactory(price="35.50", stock=9)
    CartItemFactory(user=user, product=masala, quantity=2)
    CartItemFactory(user=user, product=tea, quantity=1)
    response = buyer.post("/api/orders/create/")
    assert response.status_code == 201
    order = response.json()
    assert order["status"] == "confirmed"
    assert order["total"] == "275.50"
    assert [(item["product"], item["quantity"], item["unit_price"]) for item in order["items"]] == [
        (masala.pk, 2, "120.00"),
        (tea.pk, 1, "35.50"),
    ]
    assert {"id", "status", "total", "items", "created_at"} <= set(order)
    masala.refresh_from_db()
    assert masala.stock == 3
    assert not CartItem.objects.filter(user=user).exists()
    (job,) = ProcrastinateJob.objects.filter(task_name="orders.send_confirmation")
    assert (job.args, job.status, job.queue_name) == ({"order_id": order["id"]}, "todo", "email")
    assert mail.outbox == []  # sent by the worker, never in the request


def test_the_confirmation_job_emails_the_buyer(buyer, user):
    CartItemFactory(user=user, product=ProductFactory(name="Masala", price="120.00"), quantity=2)
    order = buyer.post("/api/orders/create/").json()
    (job,) = ProcrastinateJob.objects.filter(task_name="orders.send_confirmation")
    send_confirmation(**job.args)
    (message,) = mail.outbox
    assert message.to == [user.email]
    assert message.subject == f"DesiDeliver order {order['id']} confirmed"
    assert "2 × Masala @ 120.00" in message.body
    assert "Total: 240.00" in message.body
    assert message.extra_headers["Message-ID"] == f"<order-{order['id']}-confirmation@desideliver.invalid>"


def test_empty_cart_is_400(buyer):
    response = buyer.post("/api/orders/create/")
    assert response.status_code == 400
    assert response.json()["code"] == "empty_cart"


def test_out_of_stock_is_409_and_changes_nothing(buyer, user):
    product = ProductFactory(name="Last Jar", stock=1)
    CartItemFactory(user=user, product=product, quantity=1)
    Product.objects.filter(pk=product.pk).update(stock=0)
    response = buyer.post("/api/orders/create/")
    assert response.status_code == 409
    assert response.json()["code"] == "out_of_stock"
    assert "Last Jar" in response.json()["detail"]
    assert Order.objects.count() == 0
    assert CartItem.objects.filter(user=user).count() == 1


def test_orders_list_detail_and_isolation(buyer, user, client_for):
    CartItemFactory(user=user, quantity=1)
    mine = buyer.post("/api/orders/create/").json()
    other = UserFactory()
    CartItemFactory(user=other, quantity=1)
    theirs = client_for(other).post("/api/orders/create/").json()
    listed = buyer.get("/api/orders/").json()
    assert [order["id"] for order in listed["results"]] == [mine["id"]]
    assert buyer.get(f"/api/orders/{mine['id']}/").json()["id"] == mine["id"]
    assert buyer.get(f"/api/orders/{theirs['id']}/").status_code == 404


def test_orders_require_authentication(api):
    for path in ("/api/orders/", "/api/orders/1/", "/api/orders/export.csv"):
        assert api.get(path).status_code == 401
    assert api.post("/api/orders/create/").status_code == 401


def test_export_csv_has_one_row_per_line(buyer, user):
    CartItemFactory(user=user, product=ProductFactory(name="Poha", price="40.00"), quantity=3)
    order = buyer.post("/api/orders/create/").json()
    response = buyer.get("/api/orders/export.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows == [
        {
            "order_id": str(order["id"]),
            "created_at": datetime.fromisoformat(order["created_at"]).isoformat(),
            "status": "confirmed",
            "product": "Poha",
            "quantity": "3",
            "unit_price": "40.00",
            "subtotal": "120.00",
            "order_total": "120.00",
        }
    ]


FORMULAS = ['=HYPERLINK("http://evil.example")', "+1+1", "-2+3", "@SUM(A1)", "\tTab", "\rReturn"]


def export_rows(buyer, query=""):
    response = buyer.get(f"/api/orders/export.csv{query}")
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def test_export_neutralises_cells_a_spreadsheet_would_run(buyer, user):
    for name in FORMULAS:
        CartItemFactory(user=user, product=ProductFactory(name=name, price="1.00"), quantity=1)
    buyer.post("/api/orders/create/")
    content = export_rows(buyer)
    assert not content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(content.decode(), newline="")))
    assert sorted(row["product"] for row in rows) == sorted(f"'{name}" for name in FORMULAS)
    assert all(line.startswith('"') for line in content.decode().split("\r\n") if line)  # every cell quoted


def test_export_can_start_with_a_utf8_byte_order_mark(buyer, user):
    CartItemFactory(user=user, product=ProductFactory(name="Jalebi जलेबी"), quantity=1)
    buyer.post("/api/orders/create/")
    content = export_rows(buyer, "?bom=true")
    assert content.startswith(b"\xef\xbb\xbf")
    assert "Jalebi जलेबी" in content.decode("utf-8-sig")


def test_export_with_a_bad_bom_value_is_400_naming_it(buyer):
    response = buyer.get("/api/orders/export.csv?bom=maybe")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"bom"}


@pytest.mark.django_db(transaction=True)
def test_concurrent_buyers_never_oversell():
    """12 buyers, real threads and transactions, 5 in stock: exactly 5 orders, stock 0."""
    product = ProductFactory(stock=5, price=Decimal("10.00"))
    buyers = UserFactory.create_batch(12)
    for user in buyers:
        CartItemFactory(user=user, product=product, quantity=1)
    barrier = threading.Barrier(len(buyers))
    outcomes: list[str] = []

    def buy(user):
        try:
            barrier.wait()
            place_order(user)
            outcomes.append("ordered")
        except Exception as error:  # noqa: BLE001 — the outcome is what is asserted
            outcomes.append(getattr(error, "code", repr(error)))
        finally:
            connection.close()

    threads = [threading.Thread(target=buy, args=(user,)) for user in buyers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    product.refresh_from_db()
    assert sorted(outcomes) == ["ordered"] * 5 + ["out_of_stock"] * 7
    assert product.stock == 0
    assert Order.objects.count() == 5


def test_a_hung_mail_server_neither_blocks_the_order_nor_loses_its_email(buyer, user, settings):
    """A real listening socket that never answers SMTP: the order doesn't wait for it, and the job's
    attempt fails after EMAIL_TIMEOUT with an error (so the worker retries it) instead of passing."""
    import smtplib
    import socket
    import time

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = silent.getsockname()
        settings.EMAIL_TIMEOUT = 3
        CartItemFactory(user=user, quantity=1)
        started = time.monotonic()
        response = buyer.post("/api/orders/create/")
        elapsed = time.monotonic() - started
        assert response.status_code == 201
        assert elapsed < 3  # shorter than EMAIL_TIMEOUT: the request never waited for SMTP
        attempt_started = time.monotonic()
        with pytest.raises(smtplib.SMTPServerDisconnected, match="timed out"):
            send_confirmation(order_id=response.json()["id"])
        assert time.monotonic() - attempt_started < 8
    assert Order.objects.filter(pk=response.json()["id"]).exists()


def test_a_refused_recipient_fails_the_job_without_naming_the_address(buyer, user, settings):
    """A real SMTP server (aiosmtpd) answering 550 to RCPT TO: the job raises, so it is retried and,
    after the last attempt, shown as failed — and its error, which is logged, carries no address."""
    from tests.mailbox import Mailbox, SMTPServer

    mailbox, port = Mailbox(refuse_recipients=True), port_for.select_random()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    CartItemFactory(user=user, quantity=1)
    order_id = buyer.post("/api/orders/create/").json()["id"]
    with SMTPServer(port, mailbox), pytest.raises(RecipientRefused) as refused:
        send_confirmation(order_id=order_id)
    assert str(refused.value) == "the mail server refused the recipient (SMTP 550)"
    assert user.email not in str(refused.value)
    assert refused.value.__suppress_context__  # the traceback won't show smtplib's error, which names it
    assert mailbox.messages == []
