"""`desideliver worker` (devtools/worker.py) with the short heartbeat the job scenarios use."""

from __future__ import annotations

import tempfile
from pathlib import Path

from devtools.worker import Worker, healthcheck

__all__ = ["HEARTBEAT", "Worker", "healthcheck", "worker_environment"]

HEARTBEAT = 0.5  # JOBS_HEARTBEAT_SECONDS: a killed worker's jobs are retried after 3 missed beats


def worker_environment(environment: dict[str, str], smtp_port: int) -> dict[str, str]:
    heartbeat_file = Path(tempfile.mkdtemp(prefix="desideliver-worker-")) / "alive"
    return {
        **environment,
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "JOBS_HEARTBEAT_SECONDS": str(HEARTBEAT),
        "WORKER_HEARTBEAT_FILE": str(heartbeat_file),
        "LOG_LEVEL": "INFO",
        "EMAIL_TIMEOUT": "20",  # longer than any hold in the tests, so only the test decides when a delivery ends
    }
