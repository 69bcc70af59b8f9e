"""compose.yaml's stack under a real Docker Engine, driven through the Makefile as README says.

One stack for the module, in the order an operator meets things: `make secrets`, `make up` from
empty volumes, README's walkthrough, outages, hardening, restarts and crashes, stop, down/up,
backup/restore, migrate and createsuperuser, the logs, the dev override, memory. Every request
goes to the published port, which is the proxy's (web is not published). The images are the
stand-ins of tests/container/images.py (not the Nix images: see README, "What is verified where");
test_proxy_stack.py tests what the proxy itself does.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis

from tests.container import figures
from tests.container.stack import ROOT, Stack

pytestmark = [pytest.mark.container, pytest.mark.slow]

CUSTOMER_EMAIL = "asha@example.com"  # README's walkthrough registers this address


@pytest.fixture(scope="module")
def stack(make_stack: Callable[..., Stack]) -> Stack:
    stack = make_stack()
    stack.make("secrets")
    started = time.monotonic()
    stack.make("up")
    figures.record("up --wait from empty volumes (s)", round(time.monotonic() - started, 1))
    return stack


def health(stack: Stack) -> tuple[int, Any]:
    return stack.request("/health/ready/")


def wait_for_health(stack: Stack, status: int, check: Callable[[Any], bool], timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = health(stack)
            if last[0] == status and check(last[1]):
                return last[1]
        except OSError as error:
            last = repr(error)
        time.sleep(0.5)
    raise AssertionError(f"/health/ready/ never answered {status} as expected; last: {last}")


def test_up_waits_until_every_service_is_healthy(stack: Stack) -> None:
    for service in ("db", "redis", "web", "worker", "proxy"):
        assert stack.container(service)["State"]["Health"]["Status"] == "healthy", service
    migrate = stack.container("migrate")["State"]
    assert migrate["Status"] == "exited"
    assert migrate["ExitCode"] == 0
    status, body = health(stack)
    assert status == 200
    assert body["status"] == "ok"


def test_readme_walkthrough_after_make_seed(stack: Stack) -> None:
    assert stack.request("/api/products/1/")[0] == 404, "a fresh stack has no catalogue"
    stack.make("seed")
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Use the API") :]
    walkthrough = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert walkthrough, "README's walkthrough block moved: update this test"
    script = walkthrough[1]
    assert "API=http://127.0.0.1:8000/api" in script
    # Verbatim but for the port, and with curl made to fail on an HTTP error instead of printing it.
    script = script.replace("127.0.0.1:8000", f"127.0.0.1:{stack.web_port}").replace(
        "curl -s ", "curl -sS --fail-with-body "
    )
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT
    )  # in the checkout, as README says: the photo is docs/cracked-jar.jpg
    assert result.returncode == 0, result.stdout + result.stderr
    assert '{"id":1,"name":' in result.stdout, "product 1 exists once the demo data is loaded"
    assert '"status":"' in result.stdout, "the order was placed"
    assert '"order_id","created_at","status","product"' in result.stdout  # every cell quoted (OWASP)
    assert "cart is empty" not in result.stdout.lower()
    # The ticket's photo: stored (re-encoded) with the message, and downloaded through the proxy.
    assert '"attachments":[{"id":1,"url":"/api/tickets/attachments/1/","content_type":"image/jpeg"' in result.stdout
    stored = re.search(r'"content_type":"image/jpeg","size":(\d+)', result.stdout)
    assert stored, result.stdout[-2000:]
    assert f"200 image/jpeg {stored[1]} bytes\n" in result.stdout, result.stdout[-2000:]


def test_readiness_follows_the_database_and_redis(stack: Stack) -> None:
    stack.compose("stop", "db")
    body = wait_for_health(stack, 503, lambda b: b["checks"]["database"]["state"] == "failing")
    assert body["status"] != "ok"
    stack.compose("start", "db")
    wait_for_health(stack, 200, lambda b: b["status"] == "ok")
    stack.compose("stop", "redis")
    body = wait_for_health(stack, 200, lambda b: b["checks"]["redis"]["state"] == "degraded")
    assert stack.request("/api/products/1/")[0] == 200, "the API answers without its cache"
    stack.compose("start", "redis")
    wait_for_health(stack, 200, lambda b: b["status"] == "ok")
    stack.wait_healthy("db")
    stack.wait_healthy("redis")


def test_the_app_container_is_hardened(stack: Stack) -> None:
    for command in (["sh", "-c", "true"], ["/bin/sh", "-c", "true"], ["/usr/bin/env"]):
        result = stack.compose("exec", "-T", "web", *command, check=False)
        assert result.returncode != 0, command
        assert re.search("no such file|executable file not found", (result.stdout + result.stderr).lower()), result
    probe = (
        "import os; s = open('/proc/1/status').read();"
        "caps = [l.split()[1] for l in s.splitlines() if l.startswith('CapEff')];"
        "print('ids', os.getuid(), os.getgid(), 'capeff', caps[0]);"
        "open('/tmp/probe', 'w').write('ok'); print('tmp', open('/tmp/probe').read());\n"
        "try:\n    open('/probe', 'w')\nexcept OSError as error:\n    print('root', error.errno)"
    )
    output = stack.compose("exec", "-T", "web", "desideliver", "manage", "shell", "-c", probe).stdout
    assert "ids 10001 10001" in output
    assert "capeff 0000000000000000" in output
    assert "tmp ok" in output
    assert "root 30" in output, output  # EROFS: the root file system is read-only


def test_restart_and_a_crash_of_pid_1_bring_web_back(stack: Stack) -> None:
    stack.compose("restart", "web")
    stack.wait_healthy("web")
    before = stack.container("web")
    # A real crash: SIGKILL to the container's PID 1 from the host (`docker kill` would count as a stop).
    killed = time.monotonic()
    os.kill(before["State"]["Pid"], signal.SIGKILL)
    deadline = time.monotonic() + 60
    while stack.container("web")["RestartCount"] == before["RestartCount"]:
        assert time.monotonic() < deadline, "web was not restarted by its restart policy"
        time.sleep(0.2)
    stack.wait_for("/health/ready/", 200)
    figures.record("SIGKILL of web's PID 1 to ready again (s)", round(time.monotonic() - killed, 1))
    stack.wait_healthy("web")


# A client beside the proxy: a one-off container of web's service (`compose run`, on its networks)
# that sends a login's head and 10 bytes of its body straight to web:8000, so a sync worker holds
# the request (through the proxy it could not: nginx sends nothing before the whole body), then
# the rest once the stop is under way, and prints the status line it gets back.
HELD_REQUEST = """
import json, socket, time
body = json.dumps({"email": "nobody@example.com", "password": "wrong-password-for-the-drain"}).encode()
head = ("POST /api/auth/login/ HTTP/1.1\\r\\nHost: localhost\\r\\nContent-Type: application/json\\r\\n"
        "Content-Length: %d\\r\\nConnection: close\\r\\n\\r\\n" % len(body)).encode()
client = socket.create_connection(("web", 8000), timeout=40)
client.sendall(head + body[:10])
print("held", flush=True)
time.sleep(4)
client.sendall(body[10:])
print("answer", client.recv(65536).decode(errors="replace").splitlines()[0], flush=True)
"""


def test_stop_lets_an_in_flight_request_finish(stack: Stack) -> None:
    command = ["compose", "run", "--rm", "--no-deps", "-T", "web", "manage", "shell", "-c", HELD_REQUEST]
    client = subprocess.Popen(
        [stack.engine.docker, *command], cwd=stack.directory, env=stack.engine.environment,
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    assert client.stdout is not None
    for line in client.stdout:  # the app's start-up log lines first
        if line.strip() == "held":
            break
    time.sleep(1)  # a sync worker now holds this request, waiting for the rest
    started = time.monotonic()
    stack.compose("stop", "web", timeout=120)  # SIGTERM now; gunicorn waits for the worker
    stopped = time.monotonic() - started
    output, _ = client.communicate(timeout=60)
    assert "answer HTTP/1.1 401" in output, output[-500:]
    assert stopped > 1.5, "web stopped before the held request had its body"
    assert stopped < 30, "stopped by Docker's SIGKILL, not by gunicorn draining"
    assert stack.container("web")["State"]["ExitCode"] == 0
    figures.record("docker compose stop web, one request in flight (s)", round(stopped, 1))
    stack.make("up")


def test_down_then_up_keeps_the_data(stack: Stack) -> None:
    products = stack.request("/api/products/")[1]["count"]
    stack.make("down")
    assert not stack.compose("ps", "--all", "--quiet").stdout.strip()
    stack.make("up")
    assert stack.request("/api/products/")[1]["count"] == products
    status, tokens = stack.request(
        "/api/auth/login/", method="POST", body={"email": CUSTOMER_EMAIL, "password": "correct-horse-battery"}
    )
    assert status == 200, tokens


def test_backup_then_restore_brings_back_the_database_and_the_api_answers(stack: Stack) -> None:
    status, product = stack.request("/api/products/1/")  # cached now
    assert status == 200
    orders_before = stack.sql("SELECT count(*) FROM orders_order")
    backup = stack.make("backup").stdout
    dump = re.search(r"backup written: (\S+)", backup)
    assert dump, backup

    _, tokens = stack.request(
        "/api/auth/login/", method="POST", body={"email": CUSTOMER_EMAIL, "password": "correct-horse-battery"}
    )
    stack.request("/api/cart/add/", method="POST", body={"product_id": 1, "quantity": 3}, token=tokens["access"])
    assert stack.request("/api/orders/create/", method="POST", token=tokens["access"])[0] == 201
    assert stack.request("/api/products/1/")[1]["stock"] == product["stock"] - 3  # and cached so

    stack.make("restore", f"FILE={dump[1]}", "CONFIRM=yes")
    assert stack.sql("SELECT count(*) FROM orders_order") == orders_before
    assert stack.sql("SELECT stock FROM catalog_product WHERE id = 1") == str(product["stock"])
    assert stack.request("/api/products/1/")[1]["stock"] == product["stock"], "the API serves pre-restore data"


def test_migrate_createsuperuser_and_admin_login(stack: Stack, tmp_path: Path) -> None:
    assert "No migrations to apply" in stack.make("migrate").stdout
    no_terminal = stack.make("createsuperuser", check=False)
    assert no_terminal.returncode != 0, "without a terminal it must fail, not exit 0 having done nothing"
    assert "ADMIN_EMAIL" in no_terminal.stderr
    password = tmp_path / "admin_password"
    password.write_text("an-admin-password-for-the-test")
    stack.make("createsuperuser", "ADMIN_EMAIL=ops@example.com", f"ADMIN_PASSWORD_FILE={password}")

    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = opener.open(stack.url("/admin/login/?next=/admin/"), timeout=10).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
    assert token
    credentials = {"csrfmiddlewaretoken": token[1], "username": "ops@example.com", "next": "/admin/"}
    credentials["password"] = password.read_text()
    request = urllib.request.Request(
        stack.url("/admin/login/?next=/admin/"),
        data=urllib.parse.urlencode(credentials).encode(),
        headers={"Referer": stack.url("/admin/login/")},
    )
    page = opener.open(request, timeout=10)
    assert page.url.endswith("/admin/"), page.url
    assert "Site administration" in page.read().decode()


def json_log(stack: Stack, service: str) -> list[dict]:
    """The service's log as JSON entries; fails on a line that isn't JSON, an ERROR or personal data."""
    lines = stack.logs(service)
    entries = []
    for line in lines:
        try:
            entries.append(json.loads(line))
        except ValueError:
            raise AssertionError(f"{service}: not JSON: {line!r}") from None
    errors = [entry for entry in entries if entry.get("level") in ("ERROR", "CRITICAL")]
    assert not errors, (service, errors[:5])
    assert CUSTOMER_EMAIL not in "\n".join(lines), f"personal data in {service}'s log"
    return entries


def test_every_web_and_worker_log_line_is_json_and_none_is_an_error(stack: Stack) -> None:
    # An order now: its confirmation is a job the worker runs (no EMAIL_URL: dropped with one line).
    _, tokens = stack.request(
        "/api/auth/login/", method="POST", body={"email": CUSTOMER_EMAIL, "password": "correct-horse-battery"}
    )
    assert stack.request("/api/cart/add/", method="POST", body={"product_id": 2}, token=tokens["access"])[0] == 201
    assert stack.request("/api/orders/create/", method="POST", token=tokens["access"])[0] == 201
    deadline = time.monotonic() + 60
    while not any("email not sent" in entry.get("message", "") for entry in json_log(stack, "worker")):
        assert time.monotonic() < deadline, "the worker never ran the order's e-mail job"
    assert len(json_log(stack, "web")) > 20  # start-up, the access log of this module's requests


def test_the_dev_override_publishes_db_and_redis_on_loopback_with_passwords(stack: Stack) -> None:
    # COMPOSE_FILE in .env, as .env.example documents: every make target honours it.
    with (stack.directory / ".env").open("a") as env:
        env.write("COMPOSE_FILE=compose.yaml:compose.dev.yaml\n")
    stack.make("up")
    secrets = stack.directory / "secrets"
    db_port, redis_port = stack.dev_ports["db"], stack.dev_ports["redis"]
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(f"postgresql://desideliver@127.0.0.1:{db_port}/desideliver", connect_timeout=5)
    password = (secrets / "postgres_password").read_text()
    with psycopg.connect(
        f"postgresql://desideliver@127.0.0.1:{db_port}/desideliver", password=password, connect_timeout=5
    ) as connection:
        assert connection.execute("SELECT count(*) FROM catalog_product").fetchone()[0] > 0  # type: ignore[index]
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(host="127.0.0.1", port=redis_port, socket_timeout=5).ping()
    assert redis.Redis(host="127.0.0.1", port=redis_port, password=(secrets / "redis_password").read_text()).ping()
    for service, port in (("db", db_port), ("redis", redis_port)):
        bindings = stack.container(service)["NetworkSettings"]["Ports"]
        assert {b["HostIp"] for ports in bindings.values() if ports for b in ports} == {"127.0.0.1"}, (service, port)


def test_memory_idle_and_after_2000_requests_and_image_sizes(stack: Stack) -> None:
    time.sleep(10)
    services = ("db", "redis", "web", "proxy")
    idle = stack.memory_mib(services)
    paths = ["/api/products/", "/api/products/1/", "/api/products/?search=dal", "/health/ready/"]

    def get(index: int) -> int:
        with urllib.request.urlopen(stack.url(paths[index % len(paths)]), timeout=30) as response:
            return response.status

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(get, range(2000)))
    assert statuses.count(200) == 2000
    loaded = stack.memory_mib(services)
    limits = {"db": 256, "redis": 128, "web": 384, "proxy": 128}  # compose.yaml's deploy.resources.limits.memory
    for service, limit in limits.items():
        assert loaded[service] < limit, (service, loaded[service])
        figures.record(f"memory {service}, idle (MiB)", idle[service])
        figures.record(f"memory {service}, after 2,000 requests (MiB)", loaded[service])
    for service in services:
        image = stack.container(service)["Config"]["Image"]
        size = int(stack.engine.run("image", "inspect", "--format", "{{.Size}}", image).stdout)
        figures.record(f"image size {image} (MB)", round(size / 1e6, 1))
