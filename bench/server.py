"""The processes the benchmark measures: `desideliver serve` (or the bare WSGI app) as a child on a free port.

Also the small helpers every part of the harness uses: its log line, running a command, one HTTP request.
"""

from __future__ import annotations

import http.client
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import port_for
import psutil

ROOT = Path(__file__).resolve().parent.parent


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def run(argv: list[str], environment: dict[str, str], **kwargs: Any) -> str:
    completed = subprocess.run(argv, env=environment, cwd=ROOT, capture_output=True, text=True, check=False, **kwargs)
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({completed.returncode}):\n{completed.stdout}\n{completed.stderr}")
    return completed.stdout


def http_get(
    port: int, path: str, headers: dict[str, str] | None = None, method: str = "GET", body: str | None = None
) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request(method, path, body=body, headers={"Host": "127.0.0.1", **(headers or {})})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


class Server:
    """`desideliver serve` (or the bare WSGI app) as a child process on a free port."""

    def __init__(self, environment: dict[str, str], argv: list[str], log_path: Path) -> None:
        self.environment = {**environment, "PORT": str(port_for.select_random())}
        self.argv = argv
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def port(self) -> int:
        return int(self.environment["PORT"])

    def start(self, ready_path: str = "/health/", timeout: float = 30.0) -> float:
        """Start and wait for the first 200 from `ready_path`; returns the seconds that took."""
        with self.log_path.open("ab") as log_file:
            started = time.perf_counter()
            self.process = subprocess.Popen(
                self.argv, env=self.environment, cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT
            )
        deadline = started + timeout
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}; see {self.log_path}")
            try:
                if http_get(self.port, ready_path)[0] == 200:
                    return time.perf_counter() - started
            except OSError:
                pass
            time.sleep(0.005)
        self.stop()
        raise RuntimeError(f"server did not answer {ready_path} within {timeout}s; see {self.log_path}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def memory(self) -> dict[str, Any]:
        """RSS of each worker and of the whole server; PSS counts shared (preloaded) pages once."""
        assert self.process is not None
        master = psutil.Process(self.process.pid)
        workers = master.children()
        mib = 1024 * 1024

        def info(process: psutil.Process) -> tuple[float, float]:
            full = process.memory_full_info()
            return full.rss / mib, full.pss / mib

        master_rss, master_pss = info(master)
        worker_info = [info(worker) for worker in workers]
        return {
            "workers": len(workers),
            "master_rss_mb": round(master_rss, 1),
            "worker_rss_mb": [round(rss, 1) for rss, _ in worker_info],
            "worker_rss_max_mb": round(max(rss for rss, _ in worker_info), 1),
            "worker_pss_mb": [round(pss, 1) for _, pss in worker_info],
            "total_rss_mb": round(master_rss + sum(rss for rss, _ in worker_info), 1),
            "total_pss_mb": round(master_pss + sum(pss for _, pss in worker_info), 1),
        }
