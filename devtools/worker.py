"""`desideliver worker` as a child process, healthy by its own healthcheck: for the bench and the tests."""

from __future__ import annotations

import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from devtools.service import desideliver_command


def healthcheck(environment: dict[str, str]) -> int:
    """`desideliver worker-healthcheck`'s exit status: 0 while a worker's heartbeat is fresh."""
    return subprocess.run(desideliver_command("worker-healthcheck"), env=environment, capture_output=True).returncode


@dataclass
class Worker:
    environment: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    log_path: Path = field(default_factory=lambda: Path(tempfile.mkstemp(prefix="desideliver-worker-")[1]))

    def start(self, timeout: float = 60) -> Worker:
        """Started, and healthy: its first heartbeat comes one JOBS_HEARTBEAT_SECONDS after start."""
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                desideliver_command("worker"), env=self.environment, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        try:
            while not self.healthy():
                if time.monotonic() > deadline:
                    raise RuntimeError(f"no healthy worker after {timeout:g} s:\n{self.log()}")
                time.sleep(0.2)
        except BaseException:
            self.kill()  # never left running by a start that failed
            raise
        return self

    def healthy(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"the worker exited with {self.process.returncode}:\n{self.log()}")
        return healthcheck(self.environment) == 0

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM: the worker finishes the job in hand and exits; SIGKILL after `timeout`."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def log(self, characters: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-characters:]
