"""PostgreSQL stopped under a running worker: the worker reports unhealthy, stays up, and sends what is
queued once the database is back; a worker that can't reach the database at all says so and exits 1."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator

import port_for
import pytest

from tests import servers
from tests.mailbox import Mailbox, SMTPServer
from tests.reliability import harness
from tests.reliability.workers import Worker, healthcheck, worker_environment
from tests.service import desideliver_command

pytestmark = pytest.mark.slow

PLACE_ORDER = """
import json
from decimal import Decimal
from desideliver.cart.models import CartItem
from desideliver.catalog.models import Category, Product
from desideliver.orders.services import place_order
from desideliver.users.models import User

category, _ = Category.objects.get_or_create(slug="outage", defaults={"name": "Outage"})
product = Product.objects.create(name="Outage ghee", description="-", price=Decimal("5.00"), stock=5, category=category)
customer = User.objects.create(email=f"outage-{Product.objects.count()}@example.com")
CartItem.objects.create(user=customer, product=product, quantity=1)
order, _ = place_order(customer)
print("RESULT " + json.dumps(order.pk))
"""


@pytest.fixture(scope="module")
def own_database() -> Iterator[tuple[servers.PostgreSQLExecutor, dict[str, str]]]:
    with harness.own_postgres() as postgres, harness.own_redis() as redis:
        servers.wait_until_accepting(postgres)
        yield postgres, harness.deploy(postgres, redis)


def test_a_database_outage_pauses_the_worker_and_it_resumes(own_database) -> None:
    postgres, environment = own_database
    mailbox, port = Mailbox(), port_for.select_random()
    with SMTPServer(port, mailbox):
        worker = Worker(worker_environment(environment, port)).start()
        try:
            with postgres.stopped():
                harness.wait_until(lambda: healthcheck(worker.environment) == 1, timeout=30)
                time.sleep(3)
                assert worker.process.poll() is None, worker.log()  # type: ignore[union-attr]
            servers.wait_until_accepting(postgres)
            order_id = harness.shell_json(environment, PLACE_ORDER)
            waited = mailbox.wait_for(1, timeout=30)
            print(f"sent {waited:.1f} s after the order committed, after the outage")
            assert mailbox.subjects() == [f"DesiDeliver order {order_id} confirmed"]
            harness.wait_until(lambda: healthcheck(worker.environment) == 0, timeout=30)
        finally:
            worker.kill()


def test_a_worker_without_its_database_exits_1_with_one_line(own_database) -> None:
    _, environment = own_database
    closed = f"postgres://postgres@127.0.0.1:{port_for.select_random()}/nowhere"
    result = subprocess.run(
        desideliver_command("worker"),
        env={**worker_environment(environment, 25), "DATABASE_URL": closed, "LOG_LEVEL": "ERROR"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("desideliver worker: job database unreachable: ")
    assert "Traceback" not in result.stderr
