"""`desideliver` as the image runs it: serve under gunicorn, healthcheck, wait-for-db."""

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import port_for
import psycopg
import pytest

from tests import servers
from tests.service import Service, desideliver_command, production_environment

pytestmark = pytest.mark.slow


def run(*arguments, environment, timeout=60):
    return subprocess.run(
        desideliver_command(*arguments), env=environment, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def environment(postgres_server, redis_server):
    with psycopg.connect(servers.database_url(postgres_server, "postgres"), autocommit=True) as connection:
        connection.execute("DROP DATABASE IF EXISTS cli_test")
        connection.execute("CREATE DATABASE cli_test")
    environment = production_environment(
        servers.database_url(postgres_server, "cli_test"), servers.redis_url(redis_server, 3), WEB_CONCURRENCY="2"
    )
    assert run("manage", "migrate", "--noinput", environment=environment).returncode == 0
    return environment


@pytest.fixture(scope="module")
def service(environment):
    service = Service({**environment, "ACCESS_LOG": "true"}).start(ready_path="/health/ready/")
    yield service
    service.stop()


def test_healthcheck_exits_0_while_ready(service):
    result = run("healthcheck", environment=service.environment)
    assert result.returncode == 0, result.stderr
    assert "healthy" in result.stdout


def test_healthcheck_exits_1_when_nothing_listens(environment):
    result = run("healthcheck", "--timeout", "1", environment={**environment, "PORT": str(port_for.select_random())})
    assert result.returncode == 1
    assert "unhealthy" in result.stderr


def test_healthcheck_exits_1_while_the_database_is_down(service, postgres_server):
    with postgres_server.stopped():
        result = run("healthcheck", environment=service.environment)
    assert result.returncode == 1
    assert "503" in result.stderr
    deadline = time.monotonic() + 10
    while run("healthcheck", environment=service.environment).returncode != 0:
        assert time.monotonic() < deadline, "the service did not recover after PostgreSQL came back"
        time.sleep(0.2)


def test_access_log_is_json_with_the_request_id(service):
    import urllib.request

    request = urllib.request.Request(service.base_url + "/health/", headers={"X-Request-ID": "cli-test-1"})
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200
    time.sleep(0.2)
    lines = [json.loads(line) for line in service.log().splitlines() if line.startswith("{")]
    access = [line for line in lines if line.get("request_id") == "cli-test-1"]
    assert access, service.log()
    assert access[0]["method"] == "GET"
    assert access[0]["path"] == "/health/"
    assert access[0]["status"] == 200
    assert isinstance(access[0]["duration_ms"], float)


def test_sigterm_stops_serve_cleanly(environment):
    service = Service(dict(environment)).start()
    assert service.stop(timeout=30) == 0


def test_wait_for_db_returns_once_the_database_answers(environment):
    result = run("wait-for-db", "--timeout", "5", environment=environment)
    assert result.returncode == 0
    assert "ready" in result.stdout


def test_wait_for_db_gives_up_with_one_clear_line(environment):
    unreachable = {**environment, "DATABASE_URL": f"postgres://app@127.0.0.1:{port_for.select_random()}/app"}
    started = time.monotonic()
    result = run("wait-for-db", "--timeout", "2", environment=unreachable)
    assert result.returncode == 1
    assert time.monotonic() - started < 15
    assert "not reachable after 2s" in result.stderr
    assert "Traceback" not in result.stderr


def test_manage_passes_arguments_through(environment):
    result = run("manage", "showmigrations", "orders", environment=environment)
    assert result.returncode == 0
    assert "[X] 0001_initial" in result.stdout


def test_serve_opens_no_control_socket_unless_asked_for(environment, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    service = Service({**environment, "HOME": str(home)}).start()
    service.stop()
    assert not (home / ".gunicorn").exists()
    assert "Control server" not in service.log()

    socket_path = tmp_path / "control" / "gunicorn.ctl"
    service = Service({**environment, "HOME": str(home), "GUNICORN_CONTROL_SOCKET": str(socket_path)}).start()
    try:
        deadline = time.monotonic() + 10
        while not socket_path.is_socket():
            assert time.monotonic() < deadline, f"no control socket at {socket_path}:\n{service.log()}"
            time.sleep(0.1)
    finally:
        service.stop()


def as_pid_1(argv, environment):
    """ARGV as PID 1 of a new PID namespace (as in a container): returns (unshare process, PID 1's host PID)."""
    namespace = ["unshare", "--pid", "--fork", "--kill-child"]
    if os.geteuid() != 0:
        namespace[1:1] = ["--user", "--map-root-user"]
    process = subprocess.Popen([*namespace, *argv], env=environment, stderr=subprocess.PIPE, text=True)
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    deadline = time.monotonic() + 10
    while not children.read_text().split():
        assert time.monotonic() < deadline, "unshare started no child"
        time.sleep(0.05)
    return process, int(children.read_text().split()[0])


@pytest.mark.skipif(shutil.which("unshare") is None, reason="unshare (util-linux) is not installed")
@pytest.mark.parametrize(
    "arguments",
    [("wait-for-db", "--timeout", "60"), ("manage", "shell", "-c", "import time; time.sleep(60)")],
    ids=["wait-for-db", "manage"],
)
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_every_command_stops_on_a_signal_as_pid_1(environment, arguments, signum):
    """The kernel drops signals PID 1 has no handler for: docker stop would wait, then SIGKILL."""
    unreachable = {**environment, "DATABASE_URL": f"postgres://app@127.0.0.1:{port_for.select_random()}/app"}
    process, pid_1 = as_pid_1(desideliver_command(*arguments), unreachable)
    time.sleep(3)  # past the imports, into the wait
    assert process.poll() is None
    os.kill(pid_1, signum)
    try:
        _, stderr = process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        raise AssertionError(f"PID 1 ignored {signum.name}") from None
    assert process.returncode == 128 + signum
    assert f"stopped by {signum.name}" in stderr
    assert "Traceback" not in stderr
