"""The service under gunicorn (`desideliver serve`, production settings) as a child process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import port_for

TEST_SECRET_KEY = "service-test-secret-key-not-used-anywhere-else-0123456789abcdef"


def production_environment(database_url: str, redis_url: str, **overrides: str) -> dict[str, str]:
    """The environment the image runs with, for plain HTTP on loopback."""
    static_root = Path(tempfile.gettempdir()) / "desideliver-test-static"
    static_root.mkdir(exist_ok=True)
    media_root = Path(tempfile.gettempdir()) / "desideliver-test-media-serve"
    media_root.mkdir(exist_ok=True)
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "DJANGO_SETTINGS_MODULE": "desideliver.settings.production",
        "SECRET_KEY": TEST_SECRET_KEY,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "STATIC_ROOT": str(static_root),
        "MEDIA_ROOT": str(media_root),
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


@dataclass
class Service:
    environment: dict[str, str]
    argv: list[str] = field(default_factory=lambda: desideliver_command("serve"))
    process: subprocess.Popen[bytes] | None = None
    log_path: Path = field(
        default_factory=lambda: Path(tempfile.mkstemp(prefix="desideliver-serve-", suffix=".log")[1])
    )

    @property
    def port(self) -> int:
        return int(self.environment["PORT"])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, ready_path: str = "/health/", timeout: float = 30.0) -> Service:
        self.environment.setdefault("PORT", str(port_for.select_random()))
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(self.argv, env=self.environment, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"desideliver serve exited with {self.process.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.base_url + ready_path, timeout=1) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, OSError):
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"desideliver serve did not answer {ready_path} within {timeout}s:\n{self.log()}")

    def signal(self, signum: int) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    def stop(self, timeout: float = 30.0) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]
