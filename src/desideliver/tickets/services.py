"""The ticket rules: who may see what, and how each message moves the status.

open ──staff reply──▶ waiting_on_customer ──customer message──▶ waiting_on_staff ──staff reply──▶ …
any ──close (customer) or staff──▶ resolved ──customer message──▶ open (reopened)

A staff reply enqueues the customer's e-mail in the same transaction as the message (see
desideliver.tickets.tasks): if the reply is rolled back, no e-mail is ever sent.
"""

from collections.abc import Sequence

from django.db import transaction
from django.db.models import QuerySet
from rest_framework import status

from desideliver.core.errors import ApplicationError
from desideliver.media.images import CleanImage
from desideliver.orders.models import Order
from desideliver.tickets import attachments
from desideliver.tickets.models import Ticket, TicketMessage
from desideliver.tickets.tasks import send_staff_reply
from desideliver.users.models import User

Status = Ticket.Status


def customer_tickets(customer: User) -> QuerySet[Ticket]:
    return Ticket.objects.filter(customer=customer)


def customer_ticket(customer: User, ticket_id: int, *, for_update: bool = False) -> Ticket:
    """The customer's own ticket; anyone else's is indistinguishable from a missing one."""
    tickets = customer_tickets(customer)
    ticket = (tickets.select_for_update() if for_update else tickets).filter(pk=ticket_id).first()
    if ticket is None:
        raise ApplicationError("No such ticket.", code="not_found", status=status.HTTP_404_NOT_FOUND)
    return ticket


@transaction.atomic
def open_ticket(customer: User, *, subject: str, body: str, order_id: int | None = None) -> Ticket:
    order = None
    if order_id is not None:
        order = Order.objects.filter(user=customer, pk=order_id).first()
        if order is None:
            raise ApplicationError("No such order.", code="not_found", status=status.HTTP_404_NOT_FOUND, field="order")
    ticket = Ticket.objects.create(customer=customer, order=order, subject=subject)
    TicketMessage.objects.create(ticket=ticket, author=customer, body=body)
    return ticket


def add_customer_message(customer: User, ticket_id: int, body: str, images: Sequence[CleanImage] = ()) -> Ticket:
    """A customer's message, with its images: staff's turn next; on a resolved ticket it reopens it.

    The files are stored inside the transaction and deleted again if it rolls back.
    """
    with attachments.removed_on_failure() as stored, transaction.atomic():
        return _add_customer_message(customer, ticket_id, body, images, stored)


def _add_customer_message(
    customer: User, ticket_id: int, body: str, images: Sequence[CleanImage], stored: list[str]
) -> Ticket:
    ticket = customer_ticket(customer, ticket_id, for_update=True)
    message = TicketMessage.objects.create(ticket=ticket, author=customer, body=body)
    attachments.attach(message, images, stored)
    if ticket.status == Status.RESOLVED:
        ticket.status = Status.OPEN
    elif ticket.status == Status.WAITING_ON_CUSTOMER:
        ticket.status = Status.WAITING_ON_STAFF
    ticket.save(update_fields=["status", "updated_at"])
    return ticket


@transaction.atomic
def close_ticket(customer: User, ticket_id: int) -> Ticket:
    ticket = customer_ticket(customer, ticket_id, for_update=True)
    if ticket.status != Status.RESOLVED:
        ticket.status = Status.RESOLVED
        ticket.save(update_fields=["status", "updated_at"])
    return ticket


@transaction.atomic
def add_staff_reply(ticket: Ticket, author: User, body: str) -> TicketMessage:
    """Staff's answer: the customer's turn next (unless staff resolved it) and an e-mail, queued here."""
    message = TicketMessage.objects.create(ticket=ticket, author=author, from_staff=True, body=body)
    if ticket.status != Status.RESOLVED:
        ticket.status = Status.WAITING_ON_CUSTOMER
    ticket.save(update_fields=["status", "updated_at"])
    send_staff_reply.defer(message_id=message.pk)
    return message
