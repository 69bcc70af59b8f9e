"""Helpers for the reliability scenarios: a deployment (database, migrations, gunicorn), data, HTTP.

Everything talks to 127.0.0.1 only, every request has a timeout, and every load loop is bounded
in count and time. Users are created in bulk through `desideliver manage shell` with one
precomputed password hash and tokens minted by simplejwt: production hashes with PBKDF2
(hundreds of milliseconds per hash), which would make 200 buyers cost minutes of CPU.
"""

from __future__ import annotations

import http.client
import json
import math
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from tests import servers
from tests.service import Service, desideliver_command, production_environment

PASSWORD = "Reliable-Horse-Battery-42"


# --- HTTP ------------------------------------------------------------------------------------


@dataclass
class Reply:
    status: int  # 0: no HTTP response at all (see `error`)
    headers: dict[str, str]
    body: bytes
    seconds: float
    error: str = ""
    started: float = 0.0

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def is_json(self) -> bool:
        return self.headers.get("content-type", "").startswith("application/json")


def request(
    base_url: str,
    method: str,
    path: str,
    *,
    body: Any = None,
    raw: bytes | None = None,
    token: str | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
) -> Reply:
    """One request on a fresh connection; connection errors become status 0, never exceptions."""
    host, port = base_url.removeprefix("http://").split(":")
    sent_headers = {"Accept": "application/json", **(headers or {})}
    payload = raw
    if body is not None:
        payload = json.dumps(body).encode()
        sent_headers.setdefault("Content-Type", "application/json")
    if token:
        sent_headers["Authorization"] = f"Bearer {token}"
    started = time.monotonic()
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        connection.request(method, path, body=payload, headers=sent_headers)
        return _reply(connection, started)
    except (OSError, http.client.HTTPException) as error:
        return Reply(0, {}, b"", time.monotonic() - started, f"{type(error).__name__}: {error}", started=started)
    finally:
        connection.close()


def _reply(connection: http.client.HTTPConnection, started: float) -> Reply:
    response = connection.getresponse()
    data = response.read()
    headers = {k.lower(): v for k, v in response.getheaders()}
    return Reply(response.status, headers, data, time.monotonic() - started, started=started)


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (p99 of 100 values is the 99th smallest)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def concurrently(calls: list[Callable[[], Reply]], workers: int) -> list[Reply]:
    """Run the calls on `workers` threads, released together by a barrier; results in call order."""
    barrier = threading.Barrier(min(workers, len(calls)))

    def run(index: int) -> Reply:
        if index < barrier.parties:
            barrier.wait(timeout=30)
        return calls[index]()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, range(len(calls))))


@dataclass
class Load:
    """Closed-loop load: each thread repeats its call until stopped (bounded by `max_seconds`)."""

    calls: dict[str, Callable[[], Reply]]
    threads_per_call: int = 1
    pause: float = 0.02
    max_seconds: float = 60.0
    replies: list[tuple[str, Reply]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _loop(self, name: str, call: Callable[[], Reply]) -> None:
        deadline = time.monotonic() + self.max_seconds
        while not self._stop.is_set() and time.monotonic() < deadline:
            reply = call()
            with self._lock:
                self.replies.append((name, reply))
            self._stop.wait(self.pause)

    def __enter__(self) -> Load:
        for name, call in self.calls.items():
            for _ in range(self.threads_per_call):
                thread = threading.Thread(target=self._loop, args=(name, call), daemon=True)
                thread.start()
                self._threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def between(self, start: float, end: float) -> list[tuple[str, Reply]]:
        with self._lock:
            return [(name, reply) for name, reply in self.replies if start <= reply.started < end]


# --- Deployment ------------------------------------------------------------------------------


def create_database(server: servers.PostgreSQLExecutor, prefix: str = "rel") -> str:
    """A fresh, empty database on `server`; returns its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(
        host=server.host, port=server.port, user=server.user, dbname="postgres", autocommit=True, connect_timeout=5
    ) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return servers.database_url(server, name)


def run_manage(environment: dict[str, str], *arguments: str, timeout: float = 180) -> str:
    result = subprocess.run(
        desideliver_command("manage", *arguments),
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage {' '.join(arguments)[:80]} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return result.stdout


def shell_json(environment: dict[str, str], code: str) -> Any:
    """Run `code` in `manage shell`; it must print one line `RESULT <json>`."""
    output = run_manage(environment, "shell", "-c", code)
    for line in output.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line.removeprefix("RESULT "))
    raise RuntimeError(f"no RESULT line in:\n{output[-2000:]}")


def deploy(
    postgres: servers.PostgreSQLExecutor,
    redis: servers.RedisExecutor,
    redis_db: int = 0,
    **overrides: str,
) -> dict[str, str]:
    """A migrated fresh database and the production environment that points at it."""
    environment = production_environment(
        create_database(postgres), servers.redis_url(redis, redis_db), LOG_LEVEL="WARNING", **overrides
    )
    run_manage(environment, "migrate", "--noinput")
    return environment


@contextmanager
def serving(environment: dict[str, str], ready_path: str = "/health/ready/") -> Iterator[Service]:
    service = Service(dict(environment)).start(ready_path=ready_path, timeout=60)
    try:
        yield service
    finally:
        service.stop()


# --- Data ------------------------------------------------------------------------------------


def make_products(environment: dict[str, str], products: list[tuple[str, str, int]]) -> list[int]:
    """(name, price, stock) → product ids."""
    code = f"""
import json
from decimal import Decimal
from desideliver.catalog.models import Category, Product
category, _ = Category.objects.get_or_create(slug="reliability", defaults={{"name": "Reliability"}})
ids = [Product.objects.create(name=n, description="test", price=Decimal(p), stock=s, category=category).pk
       for n, p, s in {products!r}]
print("RESULT " + json.dumps(ids))
"""
    return shell_json(environment, code)


def make_users(environment: dict[str, str], count: int, prefix: str = "user") -> list[dict[str, Any]]:
    """`count` users sharing one password (hashed once), each with an access and a refresh token."""
    tag = uuid.uuid4().hex[:6]
    code = f"""
import json
from django.contrib.auth.hashers import make_password
from rest_framework_simplejwt.tokens import RefreshToken
from desideliver.users.models import User
password = make_password({PASSWORD!r})
users = User.objects.bulk_create(
    [User(email=f"{prefix}{{i}}-{tag}@example.com", password=password) for i in range({count})]
)
out = []
for user in users:
    refresh = RefreshToken.for_user(user)
    out.append({{"id": user.pk, "email": user.email, "access": str(refresh.access_token), "refresh": str(refresh)}})
print("RESULT " + json.dumps(out))
"""
    return shell_json(environment, code)


def query(database_url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(database_url.replace("postgres://", "postgresql://"), connect_timeout=5) as connection:
        return connection.execute(sql, params).fetchall()  # type: ignore[arg-type]


def execute(database_url: str, sql: str, *params: Any) -> int:
    """Run one statement that returns no rows, committed; returns the number of rows it touched."""
    with psycopg.connect(database_url.replace("postgres://", "postgresql://"), connect_timeout=5) as connection:
        return connection.execute(sql, params).rowcount  # type: ignore[arg-type]


def make_staff(environment: dict[str, str], user: dict[str, Any]) -> None:
    execute(environment["DATABASE_URL"], "UPDATE users_user SET is_staff = true WHERE id = %s", user["id"])


@contextmanager
def own_postgres() -> Iterator[servers.PostgreSQLExecutor]:
    """A PostgreSQL only this module uses, so stopping it disturbs no other test."""
    server = servers.postgresql()
    with server:
        yield server
    shutil.rmtree(Path(server.datadir).parent, ignore_errors=True)


@contextmanager
def own_redis() -> Iterator[servers.RedisExecutor]:
    server = servers.redis()
    with server:
        yield server


def wait_until(check: Callable[[], bool], timeout: float, interval: float = 0.1) -> float:
    """Seconds until `check()` held; raises after `timeout`."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if check():
            return time.monotonic() - started
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


def slow_request(
    base_url: str,
    method: str,
    path: str,
    body: bytes,
    *,
    token: str | None = None,
    chunks: int = 4,
    gap: float = 0.5,
    content_length: int | None = None,
    timeout: float = 30.0,
) -> Reply:
    """A client that declares its body, then sends it in `chunks` pieces `gap` seconds apart."""
    host, port = base_url.removeprefix("http://").split(":")
    started = time.monotonic()
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        connection.putrequest(method, path)
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", str(len(body) if content_length is None else content_length))
        if token:
            connection.putheader("Authorization", f"Bearer {token}")
        connection.endheaders()
        size = math.ceil(len(body) / chunks)
        for offset in range(0, len(body), size):
            time.sleep(gap)
            connection.send(body[offset : offset + size])
        return _reply(connection, started)
    except (OSError, http.client.HTTPException) as error:
        return Reply(0, {}, b"", time.monotonic() - started, f"{type(error).__name__}: {error}", started=started)
    finally:
        connection.close()


def announced_body(
    base_url: str, path: str, length: int, *, content_type: str = "application/json", token: str | None = None
) -> Reply:
    """A POST that declares `length` bytes of body and sends none: what a server refuses by the
    declaration alone answers at once; one that waits for the body times out."""
    host, port = base_url.removeprefix("http://").split(":")
    started = time.monotonic()
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.putrequest("POST", path)
        connection.putheader("Content-Type", content_type)
        connection.putheader("Content-Length", str(length))
        if token:
            connection.putheader("Authorization", f"Bearer {token}")
        connection.endheaders()
        return _reply(connection, started)
    finally:
        connection.close()


def clear_throttles(environment: dict[str, str]) -> None:
    """Forget every rate-limit window of the deployment (kept in PostgreSQL: desideliver.throttling)."""
    execute(environment["DATABASE_URL"], "DELETE FROM throttle_window")


# For scenarios that aren't about rate limits (load, fuzzing): one user may place many orders.
LIFTED_LIMITS = {
    **{
        f"THROTTLE_{scope}_RATE": "1000000/min"
        for scope in ("LOGIN", "LOGIN_ACCOUNT", "REGISTER", "REFRESH", "CART", "ORDER", "EXPORT", "TICKET_CREATE")
    },
    "ORDER_UNITS_LIMIT": "1000000000",
}


def send_chunked(base_url: str, path: str, chunks: list[bytes]) -> tuple[int, dict[str, object]]:
    """A POST whose body has no Content-Length, only `Transfer-Encoding: chunked`."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n".encode()
            + b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        )
        try:
            for chunk in chunks:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed before the body ended: fine
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response.status, json.loads(response.read())
