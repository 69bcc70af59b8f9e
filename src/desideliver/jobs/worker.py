"""`desideliver worker`: runs queued jobs until SIGTERM or SIGINT, then finishes the jobs in hand.

procrastinate's worker does the work: it claims jobs with `FOR UPDATE SKIP LOCKED`, wakes on
PostgreSQL LISTEN/NOTIFY (polling as a fallback), retries failures with the task's backoff,
heartbeats, and on a stop signal stops fetching and waits for the running jobs. Beside it a
watchdog, every heartbeat interval:
- puts back in the queue the jobs of workers that stopped heartbeating (killed, crashed, lost
  their host) — procrastinate finds them (`get_stalled_jobs`) but leaves retrying them to us;
- keeps this worker's heartbeat going while it drains after a stop signal (procrastinate stops
  its own heartbeat first), so no other worker mistakes a job being finished for an orphan;
- refreshes the liveness file that `desideliver worker-healthcheck` reads.
"""

import asyncio
import contextlib
import logging
import sys
from collections.abc import Callable
from typing import Any

import django
from django.conf import settings
from django.db import close_old_connections
from procrastinate import App, JobContext
from procrastinate.contrib.django import app
from procrastinate.exceptions import ConnectorException
from procrastinate.worker import Worker
from psycopg import OperationalError
from psycopg_pool import PoolTimeout

from desideliver.jobs import health

logger = logging.getLogger(__name__)

STALLED_AFTER_HEARTBEATS = 3  # missed heartbeats before a worker's running jobs are retried elsewhere


def run() -> None:
    """Work until stopped; a lost job database ends the process with one line and exit 1 (restart it)."""
    django.setup()
    try:
        asyncio.run(work())
    except (PoolTimeout, ConnectorException, OperationalError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        print(f"desideliver worker: job database unreachable: {reason}", file=sys.stderr)
        raise SystemExit(1) from None


async def work() -> None:
    connector = app.connector.get_worker_connector()  # type: ignore[attr-defined]  # the DjangoConnector's
    with app.replace_connector(connector) as worker_app:
        async with worker_app.open_async():
            worker_app.perform_import_paths()
            worker = Worker(
                app=worker_app,
                name="desideliver",
                concurrency=settings.JOBS_CONCURRENCY,
                shutdown_graceful_timeout=settings.JOBS_SHUTDOWN_TIMEOUT,
                update_heartbeat_interval=settings.JOBS_HEARTBEAT_SECONDS,
                stalled_worker_timeout=stalled_after(),
                delete_jobs="never",  # finished jobs stay visible in the admin
                task_middleware=[with_usable_database_connection],
            )
            watchdog = asyncio.create_task(watch(worker), name="desideliver-watchdog")
            try:
                await worker.run()
            finally:
                watchdog.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watchdog
                health.clear()


def with_usable_database_connection(call_next: Callable[[], Any], context: JobContext, worker: Worker) -> Any:
    """Around each job, in its thread: what Django does around each request (drop broken or old connections)."""
    close_old_connections()
    try:
        return call_next()
    finally:
        close_old_connections()


def stalled_after() -> float:
    return settings.JOBS_HEARTBEAT_SECONDS * STALLED_AFTER_HEARTBEATS


async def watch(worker: Worker) -> None:
    interval = settings.JOBS_HEARTBEAT_SECONDS
    while True:
        try:
            if worker.worker_id is not None:
                await worker.app.job_manager.update_heartbeat(worker.worker_id)
                await retry_stalled_jobs(worker.app)
        except Exception as error:  # noqa: BLE001 — an unreachable database is reported, not fatal
            logger.warning("job database unreachable: %s", error)
        else:
            if worker.worker_id is not None:
                health.beat(alive_for=stalled_after())
        await asyncio.sleep(interval)


async def retry_stalled_jobs(worker_app: App) -> None:
    for job in await worker_app.job_manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after()):
        try:
            await worker_app.job_manager.retry_job(job)
        except Exception as error:  # noqa: BLE001 — another worker may have retried it first
            logger.info("stalled job %s not retried here: %s", job.id, error)
        else:
            logger.warning("job %s (%s) was running on a worker that stopped; queued again", job.id, job.task_name)
