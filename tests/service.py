"""The service under gunicorn (`desideliver serve`, production settings) as a child process.

`production_environment` and `desideliver_command` live in devtools (bench/ uses them too).
"""

from __future__ import annotations

import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import port_for
from devtools.service import LOOPBACK_SECRET_KEY, desideliver_command, production_environment

TEST_SECRET_KEY = LOOPBACK_SECRET_KEY

__all__ = ["TEST_SECRET_KEY", "Service", "desideliver_command", "production_environment"]


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
