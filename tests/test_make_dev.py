"""`make dev` for real: a clone PostgreSQL's user can't enter, kill -9 and restart, ports held by others.

Each test copies the repository into a fresh 0700 directory under /tmp (as root this is what
`/root` is on Debian), runs `make dev` there with this environment's Python on random ports,
waits for `/health/ready/`, serves a request and stops it the way a user does (Ctrl-C).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import port_for
import psutil
import pytest
from devtools.dev import cluster_directory

from tests.reliability import harness

ROOT = Path(__file__).resolve().parent.parent
NOT_COPIED = shutil.ignore_patterns(".venv", ".dev", ".git", "__pycache__", "*_cache", "result*", "secrets", "backups")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("make") is None, reason="needs make"),
]


class MakeDev:
    def __init__(self, clone: Path, port: int, pg_port: int, redis_port: int) -> None:
        self.clone, self.port, self.pg_port, self.redis_port = clone, port, pg_port, redis_port
        self.output = clone / f"make-dev-{time.monotonic_ns()}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> MakeDev:
        argv = ["make", "--no-print-directory", "dev", f"PYTHON={sys.executable}", "DEPS="]
        argv += [f"DEV_PORT={self.port}", f"DEV_PG_PORT={self.pg_port}", f"DEV_REDIS_PORT={self.redis_port}"]
        environment = {**os.environ, "PYTHONPATH": str(self.clone / "src"), "PYTHONUNBUFFERED": "1"}
        with self.output.open("wb") as log:
            self.process = subprocess.Popen(
                argv, cwd=self.clone, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        return self

    def log(self) -> str:
        return self.output.read_text(errors="replace")

    def wait_ready(self, timeout: float = 240) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"make dev exited with {self.process.returncode}:\n{self.log()[-3000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health/ready/", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                time.sleep(0.5)
        pytest.fail(f"make dev not ready in {timeout}s:\n{self.log()[-3000:]}")

    def get(self, path: str) -> int:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=10) as response:
            return response.status

    def signal_group(self, signum: int) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signum)

    def wait(self, timeout: float = 60) -> int:
        assert self.process is not None
        return self.process.wait(timeout)


def postmaster_pid(cluster: Path) -> int | None:
    try:
        pid = int((cluster / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if psutil.pid_exists(pid) else None


@pytest.fixture
def clone() -> Iterator[Path]:
    """A copy of the repository in a 0700 directory; any dev servers it leaves are stopped."""
    private = Path(tempfile.mkdtemp(prefix="desideliver-clone-"))
    private.chmod(0o700)
    copy = private / "desideliver"
    shutil.copytree(ROOT, copy, ignore=NOT_COPIED, symlinks=True)
    yield copy
    cluster = cluster_directory(copy / ".dev")
    for pid_file in (cluster / "postmaster.pid", copy / ".dev" / "redis.pid"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)
    shutil.rmtree(private, ignore_errors=True)
    if cluster.parent != copy / ".dev":
        shutil.rmtree(cluster.parent, ignore_errors=True)


def free_ports() -> tuple[int, int, int]:
    first, second, third = port_for.select_random(), port_for.select_random(), port_for.select_random()
    assert len({first, second, third}) == 3
    return first, second, third


@pytest.mark.skipif(os.geteuid() != 0, reason="as non-root PostgreSQL runs as you and can always enter your clone")
def test_make_dev_as_root_in_a_directory_postgres_cannot_enter_survives_kill_9(clone: Path) -> None:
    cant_enter = subprocess.run(["runuser", "-u", "postgres", "--", "test", "-x", str(clone)], check=False)
    assert cant_enter.returncode != 0, "the clone must be one the postgres user cannot enter"

    first = MakeDev(clone, *free_ports()).start()
    first.wait_ready()
    assert first.get("/api/products/") == 200
    cluster = cluster_directory(clone / ".dev")
    assert str(cluster) in first.log(), "the user is told where PostgreSQL keeps its data"

    # The terminal dies: every process of make dev's group is killed without any cleanup.
    first.signal_group(signal.SIGKILL)
    first.wait()
    leftover = postmaster_pid(cluster)
    assert leftover, "PostgreSQL (daemonized) outlives kill -9 of make dev: the case being tested"

    second = MakeDev(clone, first.port, first.pg_port, first.redis_port).start()
    second.wait_ready()
    assert second.get("/api/products/1/") == 200
    assert f"already running (pid {leftover}" in second.log()

    second.signal_group(signal.SIGINT)  # Ctrl-C
    assert second.wait() in (0, 130, -signal.SIGINT), second.log()[-2000:]  # make re-raises SIGINT
    assert "stopped PostgreSQL and Redis" in second.log()
    assert postmaster_pid(cluster) is None


@pytest.mark.parametrize("variable", ["DEV_PORT", "DEV_PG_PORT"])
def test_make_dev_fails_naming_the_process_that_holds_its_port(clone: Path, variable: str) -> None:
    port, pg_port, redis_port = free_ports()
    held = {"DEV_PORT": port, "DEV_PG_PORT": pg_port}[variable]
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import socket, sys, time\n"
            "s = socket.socket(); s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen(); print('ok', flush=True); "
            "time.sleep(600)",
            str(held),
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == b"ok\n"
        run = MakeDev(clone, port, pg_port, redis_port).start()
        code = run.wait(timeout=120)
        output = run.log()
    finally:
        holder.kill()
        holder.wait()
    assert code != 0, output
    assert f"port {held} is in use by" in output
    assert f"pid {holder.pid}" in output, output
    assert f"{variable}=" in output, "the message says how to choose another port"
    assert postmaster_pid(cluster_directory(clone / ".dev")) is None, "nothing is left running"
    with socket.socket() as probe:  # Redis, if it was started, was stopped again
        assert probe.connect_ex(("127.0.0.1", redis_port)) != 0


def test_make_dev_names_postgres_log_when_it_cannot_start(clone: Path) -> None:
    cluster = cluster_directory(clone / ".dev")
    cluster.mkdir(parents=True)
    (cluster / "PG_VERSION").write_text("15\n")  # a cluster that looks initialised but has no files
    if os.geteuid() == 0:
        subprocess.run(["chown", "-R", "postgres:", str(cluster)], check=True)
    run = MakeDev(clone, *free_ports()).start()
    code = run.wait(timeout=120)
    output = run.log()
    assert code != 0
    assert f"PostgreSQL did not start; its log, {cluster / 'server.log'}, ends:" in output
    assert "postgresql.conf" in output.split("ends:")[1], "the log's own reason is shown"


def test_make_dev_runs_a_worker_that_sends_the_order_confirmation(clone: Path) -> None:
    dev = MakeDev(clone, *free_ports()).start()
    dev.wait_ready()
    api = f"http://127.0.0.1:{dev.port}"
    account = {"email": "worker-check@example.com", "password": "correct-horse-battery"}
    registered = harness.request(
        api, "POST", "/api/auth/register/", body={**account, "first_name": "W", "last_name": "C"}
    )
    assert registered.status == 201, registered
    token = harness.request(api, "POST", "/api/auth/login/", body=account).json()["access"]
    added = harness.request(api, "POST", "/api/cart/add/", body={"product_id": 1, "quantity": 1}, token=token)
    assert added.status == 201, added
    placed = harness.request(api, "POST", "/api/orders/create/", token=token, timeout=30)
    assert placed.status == 201, placed
    order = placed.json()

    # The local settings print e-mails (consolemail://): the worker's output is make dev's.
    subject = f"DesiDeliver order {order['id']} confirmed"
    deadline = time.monotonic() + 60
    while subject not in dev.log() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert subject in dev.log(), dev.log()[-3000:]

    dev.signal_group(signal.SIGINT)  # Ctrl-C stops the worker with the rest
    assert dev.wait() in (0, 130, -signal.SIGINT), dev.log()[-2000:]
    assert "stopped PostgreSQL and Redis" in dev.log()
