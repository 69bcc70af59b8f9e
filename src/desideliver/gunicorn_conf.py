"""gunicorn's configuration for `desideliver serve`, from the environment.

Sync workers: every request is short and bounded by the database's connect and statement
timeouts, so one request per process is the simplest model that uses both cores fully.
A reverse proxy in front buffers slow clients (see docs/reliability.md).
"""

import math
import os
from pathlib import Path
from typing import Any

from desideliver.settings.environment import config


def available_cpus(cpu_max: Path = Path("/sys/fs/cgroup/cpu.max")) -> int:
    """The CPUs this process may use: its affinity, capped by a cgroup v2 CPU quota if any.

    In a container limited with `--cpus` (compose's `deploy.resources.limits.cpus`) the
    affinity still lists every host CPU; the quota in cpu.max ("QUOTA PERIOD" or "max PERIOD")
    is the real limit.
    """
    cpus = len(os.sched_getaffinity(0))
    try:
        quota, period = cpu_max.read_text().split()
        if quota != "max":
            cpus = min(cpus, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass  # no cgroup v2 quota visible: the affinity is the limit
    return cpus


def default_workers() -> int:
    """CPUs + 2.

    Not gunicorn's 2 × CPUs + 1: on 2 cores, 3, 4 and 5 sync workers served the same requests
    per second within noise (docs/performance.md) while 5 took 438 MB RSS and 4 took 364 MB.
    One worker per core plus two to cover requests waiting on PostgreSQL or Redis.
    """
    return available_cpus() + 2


def options() -> dict[str, Any]:
    host = config.str("BIND_HOST", default="0.0.0.0")  # noqa: S104 — a container listens on all interfaces
    port = config.int("PORT", default=8000, minimum=1, maximum=65535)
    log_format = config.str(
        "LOG_FORMAT", default="json" if os.environ.get("DJANGO_SETTINGS_MODULE", "").endswith("production") else "text"
    )
    access_formatter = (
        "desideliver.core.logs.GunicornAccessJsonFormatter" if log_format == "json" else "logging.Formatter"
    )
    error_formatter = "desideliver.core.logs.JsonFormatter" if log_format == "json" else "logging.Formatter"
    # gunicorn >= 25.1 opens a control socket (for `gunicornc`) under $XDG_RUNTIME_DIR or $HOME by
    # default: the image's HOME is read-only, and two servers sharing a HOME replace each other's
    # socket. Off unless GUNICORN_CONTROL_SOCKET names where it goes.
    control_socket = config.str("GUNICORN_CONTROL_SOCKET", default="") or None
    return {
        "control_socket": control_socket,
        "control_socket_disable": control_socket is None,
        "bind": [f"{host}:{port}"],
        "workers": config.int("WEB_CONCURRENCY", default=default_workers(), minimum=1),
        "worker_class": "sync",
        "timeout": config.int("GUNICORN_TIMEOUT", default=30, minimum=1),
        "graceful_timeout": config.int("GUNICORN_GRACEFUL_TIMEOUT", default=20, minimum=1),
        "keepalive": config.int("GUNICORN_KEEPALIVE", default=5, minimum=0),
        "max_requests": config.int("GUNICORN_MAX_REQUESTS", default=0, minimum=0),
        "max_requests_jitter": 50,
        "preload_app": config.bool("GUNICORN_PRELOAD", default=True),
        # Heartbeat files in memory: a slow or read-only disk must not get workers killed.
        "worker_tmp_dir": "/dev/shm" if os.path.isdir("/dev/shm") else None,  # noqa: S108
        "accesslog": "-" if config.bool("ACCESS_LOG", default=True) else None,
        "errorlog": "-",
        "loglevel": config.str("LOG_LEVEL", default="info").lower(),
        "proc_name": "desideliver",
        "logconfig_dict": {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {
                "access": {"()": access_formatter, "format": "%(message)s"},
                "error": {"()": error_formatter, "format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
            },
            "handlers": {
                "access": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": "access"},
                "error": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": "error"},
            },
            # gunicorn merges this over its defaults key by key: without our own root, its root would
            # name its `console` handler, which our `handlers` replace, and gunicorn would not start.
            "root": {"handlers": ["error"], "level": "WARNING"},
            "loggers": {
                "gunicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
                "gunicorn.error": {
                    "handlers": ["error"],
                    "level": config.str("LOG_LEVEL", default="INFO").upper(),
                    "propagate": False,
                },
            },
        },
    }
