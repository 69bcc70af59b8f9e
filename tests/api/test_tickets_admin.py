"""Staff work tickets in the admin: the real change form, its inlines, search and filters."""

from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.core import mail
from procrastinate.contrib.django.models import ProcrastinateJob

from desideliver.orders.models import Order
from desideliver.tickets.models import Ticket
from desideliver.tickets.tasks import send_staff_reply
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ADMIN = "/admin/tickets/ticket/"


class FormFields(HTMLParser):
    """The values a browser would submit from the page's change form."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        name = attributes.get("name")
        if tag == "input" and name and attributes.get("type") not in {"submit", "checkbox"}:
            self.fields[name] = attributes.get("value") or ""
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in attributes:
            self.fields[self._select] = attributes.get("value") or ""
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.fields[self._textarea] += data.lstrip("\n")


@pytest.fixture
def staff(client):
    member = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(member)
    return member


@pytest.fixture
def ticket(buyer, user) -> Ticket:
    order = Order.objects.create(user=user, total=Decimal("99.00"))
    response = buyer.post(
        "/api/tickets/create/", {"subject": "Wrong spice", "message": "I got cumin.", "order": order.pk}, format="json"
    )
    return Ticket.objects.get(pk=response.json()["id"])


def change_form(client, ticket: Ticket) -> dict[str, str]:
    page = client.get(f"{ADMIN}{ticket.pk}/change/")
    assert page.status_code == 200
    parser = FormFields()
    parser.feed(page.content.decode())
    return parser.fields


def test_a_staff_reply_in_the_admin_queues_the_customers_email(client, staff, ticket, user):
    fields = change_form(client, ticket)
    assert "I got cumin." in client.get(f"{ADMIN}{ticket.pk}/change/").content.decode()
    reply_field = next(name for name in fields if name.endswith("-0-body"))
    response = client.post(f"{ADMIN}{ticket.pk}/change/", {**fields, reply_field: "Coriander is on its way."})
    assert response.status_code == 302, response.content.decode()[-2000:]

    ticket.refresh_from_db()
    assert ticket.status == "waiting_on_customer"
    reply = ticket.messages.get(from_staff=True)
    assert (reply.author, reply.body) == (staff, "Coriander is on its way.")
    (job,) = ProcrastinateJob.objects.filter(task_name="tickets.send_staff_reply")
    assert job.args == {"message_id": reply.pk}
    assert mail.outbox == []  # the worker sends it

    send_staff_reply(**job.args)
    (message,) = mail.outbox
    assert message.to == [user.email]
    assert message.subject == f"Re: [DesiDeliver ticket {ticket.pk}] Wrong spice"
    assert "Coriander is on its way." in message.body


def test_staff_change_the_status_without_replying(client, staff, ticket):
    fields = change_form(client, ticket)
    response = client.post(f"{ADMIN}{ticket.pk}/change/", {**fields, "status": "resolved"})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "resolved"
    assert ticket.messages.count() == 1
    assert not ProcrastinateJob.objects.exists()


def test_a_reply_while_resolving_keeps_the_ticket_resolved(client, staff, ticket):
    fields = change_form(client, ticket)
    reply_field = next(name for name in fields if name.endswith("-0-body"))
    client.post(f"{ADMIN}{ticket.pk}/change/", {**fields, "status": "resolved", reply_field: "Refunded."})
    ticket.refresh_from_db()
    assert ticket.status == "resolved"
    assert ProcrastinateJob.objects.filter(task_name="tickets.send_staff_reply").count() == 1


def test_search_by_customer_and_order_and_filter_by_status(client, staff, ticket, user, client_for):
    other = client_for(UserFactory(email="someone@example.net"))
    other.post("/api/tickets/create/", {"subject": "Late delivery", "message": "Where is it?"}, format="json")

    def listed(**query) -> str:
        page = client.get(ADMIN, query)
        assert page.status_code == 200
        return page.content.decode()

    assert "Wrong spice" in listed(q=user.email)
    assert "Late delivery" not in listed(q=user.email)
    assert "Wrong spice" in listed(q=str(ticket.order_id))
    assert "Late delivery" in listed(q="someone@example.net")
    assert "Wrong spice" not in listed(status__exact="resolved")
    assert "Late delivery" in listed(status__exact="open")


def test_staff_cannot_edit_or_delete_what_was_written(client, staff, ticket):
    fields = change_form(client, ticket)
    assert "messages-2-0-body" in fields  # the reply form
    assert "messages-0-body" not in fields  # the conversation is shown read-only
    assert not any(name.endswith("-DELETE") for name in fields)
    assert client.get(f"{ADMIN}add/").status_code == 403
