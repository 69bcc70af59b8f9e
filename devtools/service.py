"""The environment the image runs with, for `desideliver` started on loopback by tests and benchmarks."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

LOOPBACK_SECRET_KEY = "service-test-secret-key-not-used-anywhere-else-0123456789abcdef"


def production_environment(database_url: str, redis_url: str, **overrides: str) -> dict[str, str]:
    """Production settings for plain HTTP on loopback."""
    static_root = Path(tempfile.gettempdir()) / "desideliver-test-static"
    static_root.mkdir(exist_ok=True)
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "DJANGO_SETTINGS_MODULE": "desideliver.settings.production",
        "SECRET_KEY": LOOPBACK_SECRET_KEY,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "STATIC_ROOT": str(static_root),
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_HSTS_SECONDS": "0",
        "SECURE_COOKIES": "false",
        "PYTHONUNBUFFERED": "1",
        "WEB_CONCURRENCY": "4",
        "ACCESS_LOG": "false",
    }
    if "PYTHONPATH" in os.environ:  # the Nix dev shell and check put src/ there instead of installing it
        environment["PYTHONPATH"] = os.environ["PYTHONPATH"]
    environment.update(overrides)
    return environment


def desideliver_command(*arguments: str) -> list[str]:
    """`desideliver ARGS` with this interpreter (the console script of this environment)."""
    return [sys.executable, "-m", "desideliver", *arguments]
