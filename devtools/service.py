"""The environment the image runs with, for `desideliver` started on loopback by tests and benchmarks."""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import subprocess
import sys
import tempfile

LOOPBACK_SECRET_KEY = "service-test-secret-key-not-used-anywhere-else-0123456789abcdef"


def production_environment(database_url: str, redis_url: str, **overrides: str) -> dict[str, str]:
    """Production settings for plain HTTP on loopback, with the static files collected (as in the image)."""
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "DJANGO_SETTINGS_MODULE": "desideliver.settings.production",
        "SECRET_KEY": LOOPBACK_SECRET_KEY,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
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
    # Only when not given: collecting the static files takes a few seconds of a subprocess.
    if "STATIC_ROOT" not in environment:
        environment["STATIC_ROOT"] = collected_static_root()
    if "MEDIA_ROOT" not in environment:
        environment["MEDIA_ROOT"] = media_root()
    return environment


@functools.cache
def media_root() -> str:
    """A writable directory standing for the media volume (`serve` refuses to start without one)."""
    root = tempfile.mkdtemp(prefix="desideliver-media-")
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    return root


@functools.cache
def collected_static_root() -> str:
    """A directory this process collected the static files into once, as nix/static.nix does."""
    static_root = tempfile.mkdtemp(prefix="desideliver-static-")
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DJANGO_SETTINGS_MODULE": "desideliver.settings.production",
        "SECRET_KEY": LOOPBACK_SECRET_KEY,
        "DATABASE_URL": "postgres://collectstatic@127.0.0.1:9/unused",  # collectstatic opens no connection
        "REDIS_URL": "redis://127.0.0.1:9/0",
        "ALLOWED_HOSTS": "localhost",
        "STATIC_ROOT": static_root,
        **({"PYTHONPATH": os.environ["PYTHONPATH"]} if "PYTHONPATH" in os.environ else {}),
    }
    command = desideliver_command("manage", "collectstatic", "--noinput", "--verbosity", "0")
    subprocess.run(command, env=environment, check=True)
    atexit.register(shutil.rmtree, static_root, ignore_errors=True)
    return static_root


def desideliver_command(*arguments: str) -> list[str]:
    """`desideliver ARGS` with this interpreter (the console script of this environment)."""
    return [sys.executable, "-m", "desideliver", *arguments]
