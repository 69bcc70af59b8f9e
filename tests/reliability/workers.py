"""`desideliver worker` as a child process, with the short heartbeat the job scenarios use."""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tests.reliability import harness
from tests.service import desideliver_command

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


@dataclass
class Worker:
    environment: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    log_path: Path = field(default_factory=lambda: Path(tempfile.mkstemp(prefix="desideliver-worker-")[1]))

    def start(self, timeout: float = 60) -> Worker:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                desideliver_command("worker"), env=self.environment, stdout=log, stderr=subprocess.STDOUT
            )
        harness.wait_until(self.healthy, timeout, interval=0.2)
        return self

    def healthy(self) -> bool:
        assert self.process is not None
        assert self.process.poll() is None, f"worker exited with {self.process.returncode}:\n{self.log()}"
        return healthcheck(self.environment) == 0

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


def healthcheck(environment: dict[str, str]) -> int:
    return subprocess.run(desideliver_command("worker-healthcheck"), env=environment, capture_output=True).returncode
