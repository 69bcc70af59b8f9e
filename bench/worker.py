"""The worker scenario: how soon after an order commits `desideliver worker` sends its confirmation e-mail.

A real SMTP server on 127.0.0.1 (devtools/mailbox.py, aiosmtpd) receives the mail. Orders are
placed through the API one at a time, each by its own prepared user and cart (bench/prepare.py),
so the worker is idle when each job arrives: the figure is the queue's reaction time (the commit's
NOTIFY waking the worker, the job's claim, building and sending the message), not a throughput.
Each latency runs from the client having read the 201 (the order and its job committed before
the response was sent) to the end of the message's DATA at the SMTP server. The worker runs with
the image's defaults; only EMAIL_URL and the liveness file's path are set.
"""

from __future__ import annotations

import collections
import contextlib
import json
import statistics
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import port_for
from devtools.mailbox import Mailbox, SMTPServer
from devtools.worker import Worker

from bench.server import http_get

MAIL_TIMEOUT = 30.0  # seconds an order's e-mail may take before the run fails
DUPLICATE_WINDOW = 2.0  # seconds after the last e-mail in which a duplicate would still be seen
WORKER_START_TIMEOUT = 60.0  # the first heartbeat comes one JOBS_HEARTBEAT_SECONDS (10 s) after start


def subject(order_id: int) -> str:
    return f"DesiDeliver order {order_id} confirmed"


@contextlib.contextmanager
def stopped_at_the_end(worker: Worker) -> Iterator[subprocess.Popen[bytes]]:
    """The started worker's process; SIGTERM afterwards (it finishes the job in hand)."""
    assert worker.process is not None
    try:
        yield worker.process
    finally:
        worker.stop()


def measure(environment: dict[str, str], app_port: int, tokens: list[str], workdir: Path) -> dict[str, Any]:
    """One order per token, each e-mail awaited before the next order; the figures and what went wrong."""
    mailbox, smtp_port = Mailbox(), port_for.select_random()
    worker_environment = {
        **environment,
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "WORKER_HEARTBEAT_FILE": str(workdir / "worker.alive"),
    }
    order_ids: list[int] = []
    latencies: list[float] = []
    problems: list[str] = []
    worker = Worker(worker_environment, log_path=workdir / "worker.log")
    with SMTPServer(smtp_port, mailbox), stopped_at_the_end(worker.start(WORKER_START_TIMEOUT)) as process:
        for token in tokens:
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            status, body = http_get(app_port, "/api/orders/create/", headers, "POST", "{}")
            answered = time.monotonic()
            if status != 201:
                problems.append(f"an order answered {status}: {body[:200]!r}")
                break
            order_ids.append(json.loads(body)["id"])
            arrived = mailbox.arrival(subject(order_ids[-1]), MAIL_TIMEOUT)
            if arrived is None:
                exited = "" if process.poll() is None else f" (the worker exited with {process.returncode})"
                problems.append(
                    f"order {order_ids[-1]}'s e-mail did not arrive within {MAIL_TIMEOUT:g} s{exited}; "
                    f"the worker's log ends: {worker.log(600)!r}"
                )
                break
            latencies.append(arrived - answered)
        time.sleep(DUPLICATE_WINDOW)
    received = collections.Counter(mailbox.subjects())
    expected = {subject(order_id) for order_id in order_ids}
    delivered_once = sum(received[name] == 1 for name in expected)
    duplicated = sorted(name for name in expected if received[name] > 1)
    unexpected = sorted(name for name in received if name not in expected)
    if duplicated:
        problems.append(f"sent more than once: {duplicated}")
    if unexpected:
        problems.append(f"e-mails for no order of this scenario: {unexpected}")
    if len(order_ids) < len(tokens):
        problems.append(f"{len(order_ids)} of {len(tokens)} orders placed")
    milliseconds = sorted(round(latency * 1000, 1) for latency in latencies)
    return {
        "orders": len(tokens),
        "created_201": len(order_ids),
        "delivered_once": delivered_once,
        "messages_received": sum(received.values()),
        "median_ms": round(statistics.median(milliseconds), 1) if milliseconds else None,
        "p90_ms": percentile(milliseconds, 90),
        "max_ms": milliseconds[-1] if milliseconds else None,
        "latencies_ms": milliseconds,
        "problems": problems,
    }


def percentile(values: list[float], percent: int) -> float | None:
    """The inclusive percentile (linear between the two nearest of the sorted values)."""
    if len(values) < 2:
        return values[0] if values else None
    return round(statistics.quantiles(values, n=100, method="inclusive")[percent - 1], 1)
