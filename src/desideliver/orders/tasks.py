"""The order confirmation e-mail, a job queued in the order's own transaction (see services.place_order)."""

from procrastinate.contrib.django import app

from desideliver.jobs import mail
from desideliver.jobs.policy import EMAIL_QUEUE, email_retry
from desideliver.orders.models import Order


@app.task(name="orders.send_confirmation", queue=EMAIL_QUEUE, retry=email_retry())
def send_confirmation(order_id: int) -> None:
    order = Order.objects.select_related("user").prefetch_related("items").get(pk=order_id)
    lines = "\n".join(f"  {item.quantity} × {item.product_name} @ {item.unit_price}" for item in order.items.all())
    mail.send(
        subject=f"DesiDeliver order {order.pk} confirmed",
        body=f"Thank you for your order.\n\n{lines}\n\nTotal: {order.total}\n",
        to=order.user.email,
        message_key=f"order-{order.pk}-confirmation",
    )
