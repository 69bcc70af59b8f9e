"""E-mail jobs with real processes: gunicorn takes orders, `desideliver worker` sends the mail to a real
SMTP server on 127.0.0.1; the worker is killed, stopped, started late; SMTP is down, then up."""

from __future__ import annotations

import signal
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import port_for
import pytest

from tests import servers
from tests.mailbox import Mailbox, SMTPServer
from tests.reliability import harness
from tests.reliability.workers import HEARTBEAT, Worker, healthcheck, worker_environment
from tests.service import Service

pytestmark = pytest.mark.slow


@dataclass
class Shop:
    environment: dict[str, str]
    web: Service
    product_id: int

    def buyer(self) -> dict[str, Any]:
        return harness.make_users(self.environment, 1, prefix="jobs")[0]

    def order(self, buyer: dict[str, Any] | None = None) -> int:
        buyer = buyer or self.buyer()
        base, token = self.web.base_url, buyer["access"]
        added = harness.request(base, "POST", "/api/cart/add/", body={"product_id": self.product_id}, token=token)
        assert added.status == 201, added.body
        placed = harness.request(base, "POST", "/api/orders/create/", token=token)
        assert placed.status == 201, placed.body
        return placed.json()["id"]

    def job(self, order_id: int) -> dict[str, Any]:
        (row,) = self.query(
            "SELECT id, status, attempts FROM procrastinate_jobs WHERE args->>'order_id' = %s", str(order_id)
        )
        return {"id": row[0], "status": row[1], "attempts": row[2]}

    def finished_job(self, order_id: int) -> dict[str, Any]:
        """The job once its worker has recorded the outcome: that comes a moment after the SMTP session ends."""
        harness.wait_until(lambda: self.job(order_id)["status"] != "doing", timeout=30)
        return self.job(order_id)

    def events(self, job_id: int) -> list[str]:
        rows = self.query("SELECT type FROM procrastinate_events WHERE job_id = %s ORDER BY id", job_id)
        return [row[0] for row in rows]

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        return harness.query(self.environment["DATABASE_URL"], sql, *params)

    def worker(self, smtp_port: int) -> Worker:
        return Worker(worker_environment(self.environment, smtp_port))


@pytest.fixture(scope="module")
def shop(postgres_server: servers.PostgreSQLExecutor, redis_server: servers.RedisExecutor) -> Iterator[Shop]:
    environment = harness.deploy(postgres_server, redis_server, 6)
    (product_id,) = harness.make_products(environment, [("Jobs chai", "12.50", 10_000)])
    with harness.serving(environment) as web:
        yield Shop(environment, web, product_id)


@pytest.fixture
def workers() -> Iterator[list[Worker]]:
    started: list[Worker] = []
    yield started
    for worker in started:
        worker.kill()


def subject(order_id: int) -> str:
    return f"DesiDeliver order {order_id} confirmed"


def test_the_worker_sends_each_confirmation_soon_after_commit(shop: Shop, workers: list[Worker]) -> None:
    mailbox, port = Mailbox(), port_for.select_random()
    worker = shop.worker(port)
    assert healthcheck(worker.environment) == 1  # no worker yet
    with SMTPServer(port, mailbox):
        workers.append(worker.start())
        latencies = []
        for count in range(1, 6):
            order_id = shop.order()
            latencies.append(mailbox.wait_for(count, timeout=30))
            assert mailbox.subjects()[-1] == subject(order_id)
            assert shop.finished_job(order_id)["status"] == "succeeded"
    median, worst = statistics.median(latencies) * 1000, max(latencies) * 1000
    print(f"commit-to-send latency: median {median:.0f} ms, max {worst:.0f} ms")
    worker.process.send_signal(signal.SIGKILL)  # type: ignore[union-attr]
    worker.process.wait(10)  # type: ignore[union-attr]
    harness.wait_until(lambda: healthcheck(worker.environment) == 1, timeout=3 * HEARTBEAT + 5)


def test_a_job_survives_a_worker_killed_mid_delivery_and_is_sent_once(shop: Shop, workers: list[Worker]) -> None:
    mailbox, port = Mailbox(hold_first_recipient=True), port_for.select_random()
    with SMTPServer(port, mailbox):
        first = shop.worker(port)
        workers.append(first.start())
        order_id = shop.order()
        assert mailbox.held.wait(30), first.log()
        assert shop.job(order_id)["status"] == "doing"
        first.process.send_signal(signal.SIGKILL)  # type: ignore[union-attr]
        first.process.wait(10)  # type: ignore[union-attr]
        mailbox.release.set()  # the killed worker's SMTP session is gone: nothing was delivered
        time.sleep(0.5)
        assert mailbox.messages == []

        second = shop.worker(port)
        workers.append(second.start())
        mailbox.wait_for(1, timeout=3 * HEARTBEAT + 30)
        time.sleep(4 * HEARTBEAT)  # room for a duplicate to show up
    assert mailbox.subjects() == [subject(order_id)]
    job = shop.job(order_id)
    assert job["status"] == "succeeded"
    assert shop.events(job["id"]).count("started") == 2, second.log()


def test_smtp_down_then_up_the_email_is_sent_after_with_backoff(shop: Shop, workers: list[Worker]) -> None:
    order_id = shop.order()  # committed while no worker runs: it waits in PostgreSQL
    assert shop.job(order_id)["status"] == "todo"
    mailbox, port = Mailbox(), port_for.select_random()  # nothing listens on the port yet
    workers.append(shop.worker(port).start())
    harness.wait_until(lambda: shop.job(order_id)["attempts"] >= 1, timeout=30)
    assert shop.job(order_id)["status"] == "todo"  # failed once, scheduled again after the backoff
    ((backoff,),) = shop.query(
        "SELECT extract(epoch FROM j.scheduled_at - e.at) FROM procrastinate_jobs j JOIN procrastinate_events e"
        " ON e.job_id = j.id AND e.type = 'deferred_for_retry' WHERE j.args->>'order_id' = %s ORDER BY e.id LIMIT 1",
        str(order_id),
    )
    assert 1.5 < float(backoff) < 2.5  # the first wait of 2, 4, 8 … s
    with SMTPServer(port, mailbox):
        mailbox.wait_for(1, timeout=30)  # the next attempt is 4 s after the second failure at most
        job = shop.finished_job(order_id)
    assert mailbox.subjects() == [subject(order_id)]
    assert job["status"] == "succeeded"
    assert "deferred_for_retry" in shop.events(job["id"])


ROLLED_BACK = """
import json
from django.db import transaction
from procrastinate.contrib.django.models import ProcrastinateJob
from desideliver.orders.services import place_order
from desideliver.tickets import services
from desideliver.users.models import User

customer = User.objects.get(pk={user_id})
with transaction.atomic():
    order, _ = place_order(customer)
    ticket = services.open_ticket(customer, subject="Rolled back", body="?")
    staff = User.objects.create(email="rolled-back-staff@example.com", is_staff=True)
    services.add_staff_reply(ticket, staff, "This reply is rolled back.")
    queued = ProcrastinateJob.objects.filter(id__gt={after}).count()
    transaction.set_rollback(True)
print("RESULT " + json.dumps({{"order_id": order.pk, "queued_inside": queued}}))
"""


def test_a_rolled_back_order_or_reply_never_sends_email(shop: Shop, workers: list[Worker]) -> None:
    mailbox, port = Mailbox(), port_for.select_random()
    buyer = shop.buyer()
    with SMTPServer(port, mailbox):
        workers.append(shop.worker(port).start())
        ((last_job,),) = shop.query("SELECT coalesce(max(id), 0) FROM procrastinate_jobs")
        added = harness.request(
            shop.web.base_url, "POST", "/api/cart/add/", body={"product_id": shop.product_id}, token=buyer["access"]
        )
        assert added.status == 201
        rolled_back = harness.shell_json(shop.environment, ROLLED_BACK.format(user_id=buyer["id"], after=last_job))
        assert rolled_back["queued_inside"] == 2  # both e-mails were queued inside the transaction
        committed = shop.order(buyer)  # the rollback kept the cart; this order commits
        mailbox.wait_for(1, timeout=30)
        time.sleep(4 * HEARTBEAT)
    assert mailbox.subjects() == [subject(committed)]
    rows = shop.query("SELECT args FROM procrastinate_jobs WHERE id > %s", last_job)
    assert [row[0] for row in rows] == [{"order_id": committed}]


def test_sigterm_finishes_the_job_in_hand_and_takes_no_new_one(shop: Shop, workers: list[Worker]) -> None:
    mailbox, port = Mailbox(hold_first_recipient=True), port_for.select_random()
    with SMTPServer(port, mailbox):
        worker = shop.worker(port)
        workers.append(worker.start())
        in_hand = shop.order()
        assert mailbox.held.wait(30), worker.log()
        worker.process.send_signal(signal.SIGTERM)  # type: ignore[union-attr]
        time.sleep(0.5)
        queued_later = shop.order()
        time.sleep(1)
        assert worker.process.poll() is None, worker.log()  # still finishing the delivery in hand  # type: ignore[union-attr]
        mailbox.release.set()
        assert worker.process.wait(30) == 0, worker.log()  # type: ignore[union-attr]
        assert mailbox.subjects() == [subject(in_hand)], worker.log()
        assert shop.job(in_hand)["status"] == "succeeded"
        assert shop.job(queued_later)["status"] == "todo"

        workers.append(shop.worker(port).start())  # the next worker sends what was left
        mailbox.wait_for(2, timeout=30)
    assert mailbox.subjects() == [subject(in_hand), subject(queued_later)]
