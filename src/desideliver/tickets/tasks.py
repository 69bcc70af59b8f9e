"""The customer's "staff replied" e-mail, a job queued in the reply's own transaction."""

from procrastinate.contrib.django import app

from desideliver.jobs import mail
from desideliver.jobs.policy import EMAIL_QUEUE, email_retry
from desideliver.tickets.models import TicketMessage


@app.task(name="tickets.send_staff_reply", queue=EMAIL_QUEUE, retry=email_retry())
def send_staff_reply(message_id: int) -> None:
    message = TicketMessage.objects.select_related("ticket__customer").get(pk=message_id)
    ticket = message.ticket
    mail.send(
        subject=f"Re: [DesiDeliver ticket {ticket.pk}] {ticket.subject}",
        body=f"DesiDeliver support replied to your ticket {ticket.pk}:\n\n{message.body}\n\n"
        "Answer in the app; replies to this e-mail are not read.\n",
        to=ticket.customer.email,
        message_key=f"ticket-message-{message.pk}",
    )
