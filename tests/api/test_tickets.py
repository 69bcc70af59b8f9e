"""Support tickets over HTTP: a customer's own tickets only, the status rules, validation, throttling."""

from decimal import Decimal

import pytest
from procrastinate.contrib.django.models import ProcrastinateJob

from desideliver.orders.models import Order
from desideliver.tickets import services
from desideliver.tickets.models import Ticket
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def open_ticket(client, subject="Damaged jar", message="The lid was broken.", **extra):
    return client.post("/api/tickets/create/", {"subject": subject, "message": message, **extra}, format="json")


def order_of(user) -> Order:
    return Order.objects.create(user=user, total=Decimal("120.00"))


def reply_emails() -> list[dict]:
    return [job.args for job in ProcrastinateJob.objects.filter(task_name="tickets.send_staff_reply")]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/tickets/"),
        ("post", "/api/tickets/create/"),
        ("get", "/api/tickets/1/"),
        ("post", "/api/tickets/1/messages/"),
        ("post", "/api/tickets/1/close/"),
    ],
)
def test_tickets_require_authentication(api, method, path):
    response = getattr(api, method)(path, {}, format="json")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_open_a_ticket_about_an_own_order(buyer, user):
    order = order_of(user)
    response = open_ticket(buyer, order=order.pk)
    assert response.status_code == 201
    ticket = response.json()
    assert (ticket["subject"], ticket["status"], ticket["order"]) == ("Damaged jar", "open", order.pk)
    assert [(m["body"], m["from_staff"]) for m in ticket["messages"]] == [("The lid was broken.", False)]
    assert buyer.get(f"/api/tickets/{ticket['id']}/").json() == ticket
    assert reply_emails() == []  # the customer is e-mailed about staff replies, not their own messages


def test_someone_elses_order_is_a_404_naming_the_field_and_opens_nothing(buyer):
    response = open_ticket(buyer, order=order_of(UserFactory()).pk)
    assert response.status_code == 404
    assert response.json()["errors"] == {"order": ["No such order."]}
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({}, {"subject", "message"}),
        ({"subject": "   ", "message": "x"}, {"subject"}),
        ({"subject": "x" * 201, "message": "x"}, {"subject"}),
        ({"subject": "Late", "message": "x" * 5001}, {"message"}),
        ({"subject": "Late", "message": "x", "order": "first"}, {"order"}),
        ({"subject": "Late", "message": "x", "order": 0}, {"order"}),
        ({"subject": ["Late"], "message": {"a": 1}}, {"subject", "message"}),
    ],
)
def test_invalid_tickets_are_400_naming_each_field(buyer, payload, fields):
    response = buyer.post("/api/tickets/create/", payload, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["errors"]) == fields
    assert not Ticket.objects.exists()


def test_list_is_own_paginated_and_filtered_by_status(buyer, user, client_for):
    for number in range(3):
        open_ticket(buyer, subject=f"Question {number}")
    open_ticket(client_for(UserFactory()), subject="Not yours")
    closed = Ticket.objects.filter(customer=user).order_by("id").first()
    buyer.post(f"/api/tickets/{closed.pk}/close/")

    listed = buyer.get("/api/tickets/", {"page_size": 2}).json()
    assert listed["count"] == 3
    assert len(listed["results"]) == 2
    assert listed["next"]
    assert listed["results"][0]["subject"] == "Question 0"  # most recently updated first
    assert "messages" not in listed["results"][0]
    resolved = buyer.get("/api/tickets/", {"status": "resolved"}).json()
    assert [t["id"] for t in resolved["results"]] == [closed.pk]
    assert buyer.get("/api/tickets/", {"status": "open"}).json()["count"] == 2
    bad = buyer.get("/api/tickets/", {"status": "lost"})
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"status"}


def test_someone_elses_ticket_is_a_404_for_every_route(buyer, client_for):
    theirs = open_ticket(client_for(UserFactory())).json()
    for method, path in (
        ("get", f"/api/tickets/{theirs['id']}/"),
        ("post", f"/api/tickets/{theirs['id']}/close/"),
        ("post", f"/api/tickets/{theirs['id']}/messages/"),
        ("get", "/api/tickets/999999/"),
    ):
        response = getattr(buyer, method)(path, {"body": "mine now"}, format="json")
        assert response.status_code == 404, path
        assert response.json()["code"] == "not_found"
    ticket = Ticket.objects.get(pk=theirs["id"])
    assert (ticket.status, ticket.messages.count()) == ("open", 1)


def test_status_follows_the_conversation(buyer, user):
    ticket_id = open_ticket(buyer).json()["id"]
    staff = UserFactory(is_staff=True)

    def status() -> str:
        return buyer.get(f"/api/tickets/{ticket_id}/").json()["status"]

    assert buyer.post(f"/api/tickets/{ticket_id}/messages/", {"body": "Any news?"}, format="json").status_code == 201
    assert status() == "open"  # nobody has answered yet
    services.add_staff_reply(Ticket.objects.get(pk=ticket_id), staff, "Sorry! A new jar is on its way.")
    assert status() == "waiting_on_customer"
    answered = buyer.post(f"/api/tickets/{ticket_id}/messages/", {"body": "When?"}, format="json").json()
    assert answered["status"] == "waiting_on_staff"
    assert [m["from_staff"] for m in answered["messages"]] == [False, False, True, False]
    assert buyer.post(f"/api/tickets/{ticket_id}/close/").json()["status"] == "resolved"
    assert buyer.post(f"/api/tickets/{ticket_id}/close/").json()["status"] == "resolved"  # closing twice is fine
    reopened = buyer.post(f"/api/tickets/{ticket_id}/messages/", {"body": "It broke again."}, format="json")
    assert reopened.json()["status"] == "open"
    assert len(reply_emails()) == 1


def test_empty_message_is_400_and_changes_nothing(buyer):
    ticket_id = open_ticket(buyer).json()["id"]
    response = buyer.post(f"/api/tickets/{ticket_id}/messages/", {"body": ""}, format="json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"body"}
    assert Ticket.objects.get(pk=ticket_id).messages.count() == 1


def test_opening_tickets_is_throttled_per_customer(buyer, client_for, settings):
    limit = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["ticket_create"].split("/")[0])
    statuses = [open_ticket(buyer, subject=f"Question {n}").status_code for n in range(limit + 1)]
    assert statuses == [201] * limit + [429]
    refused = open_ticket(buyer)
    assert refused.json()["code"] == "throttled"
    assert int(refused["Retry-After"]) > 0
    assert Ticket.objects.count() == limit
    assert open_ticket(client_for(UserFactory())).status_code == 201  # another customer is not affected
    assert buyer.get("/api/tickets/").status_code == 200  # reading is not throttled
