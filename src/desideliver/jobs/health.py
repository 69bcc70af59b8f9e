"""The worker's liveness file: standard library only, so `desideliver worker-healthcheck` starts fast.

The worker writes, after each successful round trip to the job database, the time until which it
should be considered alive; the healthcheck compares that with the clock.
"""

import os
import sys
import time
from pathlib import Path


def heartbeat_file() -> Path:
    return Path(os.environ.get("WORKER_HEARTBEAT_FILE", "/tmp/desideliver-worker.alive"))  # noqa: S108 — the image's tmpfs


def beat(alive_for: float) -> None:
    path = heartbeat_file()
    partial = path.with_name(path.name + ".new")
    partial.write_text(f"{time.time() + alive_for:.3f}\n")
    partial.replace(path)


def clear() -> None:
    heartbeat_file().unlink(missing_ok=True)


def check() -> None:
    """Exit 0 if the worker reported in time, else 1 with the reason."""
    path = heartbeat_file()
    try:
        alive_until = float(path.read_text())
    except (OSError, ValueError) as error:
        print(
            f"unhealthy: no worker heartbeat in {path} ({getattr(error, 'strerror', None) or error})", file=sys.stderr
        )
        raise SystemExit(1) from None
    late = time.time() - alive_until
    if late > 0:
        print(f"unhealthy: the worker's last heartbeat is {late:.1f}s overdue", file=sys.stderr)
        raise SystemExit(1)
    print("healthy: worker")
