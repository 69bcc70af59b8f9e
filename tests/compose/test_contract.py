"""compose.yaml and the app agree: migrate's and web's resolved definitions, run natively.

`docker compose config --format json` gives the exact argv, environment, secrets and
healthcheck each container would get. Here they run as local processes instead of containers:
- argv: the image's entrypoint (`desideliver`, from nix/image.nix) + the service's command;
- environment: the image's Env (nix/image.nix) overlaid with the service's environment, as
  Docker does; unset pass-through variables stay unset;
- hostnames `db:5432` / `redis:6379` rewritten to this test's own servers, nothing else in
  the URLs changed (no /etc/hosts entries);
- every `/run/secrets/NAME` path replaced by a temporary file holding that secret, for the
  secrets the service actually mounts (an unmounted one stays a missing path and fails);
- STATIC_ROOT (a Nix store path in the image) replaced by static files collected here the same
  way (`desideliver serve` refuses to start without their manifest).

The servers are this module's own, so both passwords are really checked: PostgreSQL with
scram-sha-256 for the compose role over TCP, Redis with `requirepass`. What this cannot show
(no Docker engine here): the image itself, read_only/cap_drop/user enforcement, the network
names resolving, compose's start order and restart policies. tests/container runs those under a
real engine with stand-in images; the Nix image itself only in the GitHub workflow.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import port_for
import psycopg
import pytest
from devtools.service import collected_static_root, media_root
from pytest_redis.executor import RedisExecutor

from tests import servers
from tests.compose import compose_cli
from tests.compose.compose_cli import ROOT
from tests.service import Service, desideliver_command

pytestmark = pytest.mark.slow

ROLE = "compose_contract"  # POSTGRES_USER and POSTGRES_DB, given to compose like a .env would
SERVICE_PORTS = {"db": 5432, "redis": 6379}


# --- The image's side of the contract (nix/image.nix) -------------------------------------------


def image_config() -> tuple[list[str], dict[str, str]]:
    """The image's Entrypoint and Env, read from nix/image.nix."""
    source = (ROOT / "nix" / "image.nix").read_text()
    entrypoint = re.search(r"Entrypoint\s*=\s*\[\s*((?:\"[^\"]*\"\s*)+)\]", source)
    env = re.search(r"Env\s*=\s*\[\s*((?:\"[^\"]*\"\s*)+)\]", source)
    assert entrypoint, "nix/image.nix no longer has a literal Entrypoint list: update this test"
    assert env, "nix/image.nix no longer has a literal Env list: update this test"
    variables = dict(item.split("=", 1) for item in re.findall(r"\"([^\"]*)\"", env.group(1)))
    assert variables["DJANGO_SETTINGS_MODULE"] == "desideliver.settings.production"
    return re.findall(r"\"([^\"]*)\"", entrypoint.group(1)), variables


def native_desideliver() -> list[str]:
    """This environment's `desideliver` console script (the image's /bin/desideliver)."""
    script = Path(sys.executable).parent / "desideliver"
    return [str(script)] if script.exists() else desideliver_command()


# --- This module's own servers, with passwords ---------------------------------------------------


@pytest.fixture(scope="module")
def passwords() -> dict[str, str]:
    return {
        "postgres_password": secrets.token_urlsafe(24),
        "redis_password": secrets.token_urlsafe(24),
        "django_secret_key": secrets.token_urlsafe(48),
    }


@pytest.fixture(scope="module")
def contract_postgres(passwords: dict[str, str]) -> Iterator[servers.PostgreSQLExecutor]:
    """PostgreSQL where the compose role must authenticate with its password (scram-sha-256)."""
    server = servers.postgresql(dbname="postgres")
    server.init_directory()
    hba = Path(server.datadir) / "pg_hba.conf"
    hba.write_text(
        "local all all trust\n"
        f"host all {server.user} 127.0.0.1/32 trust\n"  # the test's own admin connection
        "host all all 127.0.0.1/32 scram-sha-256\n"
    )
    with server:
        admin = f"host={server.host} port={server.port} user={server.user} dbname=postgres"
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(
                psycopg.sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    psycopg.sql.Identifier(ROLE), psycopg.sql.Literal(passwords["postgres_password"])
                )
            )
            connection.execute(psycopg.sql.SQL("CREATE DATABASE {0} OWNER {0}").format(psycopg.sql.Identifier(ROLE)))
        yield server
    shutil.rmtree(Path(server.datadir).parent, ignore_errors=True)


@pytest.fixture(scope="module")
def contract_redis(passwords: dict[str, str]) -> Iterator[RedisExecutor]:
    workdir = Path(tempfile.mkdtemp(prefix="desideliver-compose-redis-"))
    server = servers.redis(workdir, password=passwords["redis_password"])
    with server:
        yield server
    shutil.rmtree(workdir, ignore_errors=True)


# --- compose's side: the resolved services, made native -----------------------------------------


@pytest.fixture(scope="module")
def model(compose: tuple[str, ...]) -> dict[str, Any]:
    return compose_cli.resolved(POSTGRES_USER=ROLE, POSTGRES_DB=ROLE)


@pytest.fixture(scope="module")
def secret_files(passwords: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("run-secrets")
    files = {}
    for name, value in passwords.items():
        files[name] = directory / name
        files[name].write_text(value + "\n")  # a trailing newline, as editors write; the app strips it
    return files


class Native:
    """One compose service as a local process definition."""

    def __init__(
        self,
        spec: dict[str, Any],
        secret_files: dict[str, Path],
        endpoints: dict[str, tuple[str, int]],
        static_root: Path,
    ) -> None:
        entrypoint, image_env = image_config()
        assert entrypoint == ["/bin/desideliver"], entrypoint
        assert spec.get("entrypoint") is None, "compose must not replace the image's entrypoint"
        self.spec = spec
        self.argv = [*native_desideliver(), *spec["command"]]
        mounted = {s["target"]: secret_files[s["source"]] for s in spec.get("secrets", [])}
        environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(static_root), "LANG": "C.UTF-8"}
        if "PYTHONPATH" in os.environ:  # the Nix dev shell runs the app from src/ on PYTHONPATH
            environment["PYTHONPATH"] = os.environ["PYTHONPATH"]
        for name, value in image_env.items():
            if name not in {"PATH", "SSL_CERT_FILE"}:  # paths inside the image only
                environment[name] = value
        environment["STATIC_ROOT"] = collected_static_root()
        environment["PORT"] = str(port_for.select_random())  # the container's 8000, somewhere free here
        for name, value in (spec.get("environment") or {}).items():
            if value is None:
                continue  # a pass-through variable that is unset: Docker leaves it unset too
            value = value.replace("$$", "$")
            if value.startswith("/run/secrets/"):
                value = str(mounted.get(value, value))
            environment[name] = self.rewrite_url(value, endpoints)
        # A volume mounted at MEDIA_ROOT: a writable directory here stands for it.
        media_mounts = [v for v in spec.get("volumes", []) if v.get("target") == environment.get("MEDIA_ROOT")]
        if media_mounts:
            environment["MEDIA_ROOT"] = media_root()
        self.environment = environment

    @staticmethod
    def rewrite_url(value: str, endpoints: dict[str, tuple[str, int]]) -> str:
        """`scheme://[user@]db:5432/...` -> the same URL at this test's server; anything else unchanged."""
        if "://" not in value:
            return value
        parts = urlsplit(value)
        if parts.hostname not in endpoints:
            return value
        assert parts.port == SERVICE_PORTS[parts.hostname], f"{value}: {parts.hostname} listens on its default port"
        assert not parts.password, f"{value}: a password in a URL would leak into `docker inspect`"
        host, port = endpoints[parts.hostname]
        user = f"{parts.username}@" if parts.username else ""
        return urlunsplit(parts._replace(netloc=f"{user}{host}:{port}"))

    def run(self, argv: list[str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            argv or self.argv, env=self.environment, capture_output=True, text=True, timeout=timeout, check=False
        )

    def healthcheck_argv(self) -> list[str]:
        test = self.spec["healthcheck"]["test"]
        assert test[0] == "CMD", "exec form: the image has no shell for CMD-SHELL"
        assert test[1] == "desideliver", "the healthcheck runs the image's own command"
        return [*native_desideliver(), *test[2:]]


@pytest.fixture(scope="module")
def natives(
    model: dict[str, Any],
    secret_files: dict[str, Path],
    contract_postgres: servers.PostgreSQLExecutor,
    contract_redis: RedisExecutor,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Native]:
    endpoints = {
        "db": (contract_postgres.host, contract_postgres.port),
        "redis": (contract_redis.host, contract_redis.port),
    }
    static_root = tmp_path_factory.mktemp("static-root")
    return {name: Native(model["services"][name], secret_files, endpoints, static_root) for name in ("migrate", "web")}


def readiness(service: Service) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(service.base_url + "/health/ready/", timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


# --- The contract -------------------------------------------------------------------------------


def test_migrate_web_and_healthcheck_run_as_compose_defines_them(
    natives: dict[str, Native], contract_postgres: servers.PostgreSQLExecutor, secret_files: dict[str, Path]
) -> None:
    migrate, web = natives["migrate"], natives["web"]
    # The same environment, but for the port and where web has its media volume mounted.
    assert migrate.environment == {
        **web.environment,
        "PORT": migrate.environment["PORT"],
        "MEDIA_ROOT": migrate.environment["MEDIA_ROOT"],
    }
    assert "SECRET_KEY" not in web.environment, "secrets arrive as *_FILE only"

    service = Service(dict(web.environment), web.argv)
    service.start(ready_path="/health/")  # liveness: no I/O, answers before migrations
    try:
        # Before `migrate` ran, web is alive but not ready: why web waits for migrate to succeed.
        check = web.run(web.healthcheck_argv(), timeout=30)
        assert check.returncode == 1, check.stdout + check.stderr
        status, body = readiness(service)
        assert status == 503
        assert body["checks"]["migrations"]["state"] == "failing"

        result = migrate.run()
        assert result.returncode == 0, f"migrate failed:\n{result.stdout}\n{result.stderr}"
        assert "Applying users.0001_initial" in result.stdout

        # Up: the healthcheck passes; PostgreSQL (scram) and Redis (requirepass) both accepted
        # the passwords from the secret files. Redis failing would only say "degraded" with 200,
        # so its state is checked in the body, not just the status.
        check = web.run(web.healthcheck_argv(), timeout=30)
        assert check.returncode == 0, check.stdout + check.stderr + service.log()
        status, body = readiness(service)
        assert status == 200
        assert {name: c["state"] for name, c in body["checks"].items()} == {
            "database": "ok",
            "migrations": "ok",
            "redis": "ok",
        }, body
        with urllib.request.urlopen(service.base_url + "/api/products/", timeout=5) as response:
            assert response.status == 200

        # PostgreSQL down: the healthcheck fails (Docker would mark web unhealthy).
        with contract_postgres.stopped():
            check = web.run(web.healthcheck_argv(), timeout=30)
            assert check.returncode != 0, check.stdout + check.stderr
            assert "503" in check.stderr
        # And back: healthy again without a restart (persistent connections are health-checked).
        check = web.run(web.healthcheck_argv(), timeout=30)
        assert check.returncode == 0, check.stdout + check.stderr + service.log()
    finally:
        assert service.stop() == 0, service.log()


def test_wrong_database_password_is_refused(natives: dict[str, Native], tmp_path: Path) -> None:
    """The password really travels from the secret file: a wrong one fails authentication."""
    migrate = natives["migrate"]
    wrong = tmp_path / "postgres_password"
    wrong.write_text("not-the-password")
    environment = {**migrate.environment, "DATABASE_PASSWORD_FILE": str(wrong)}
    result = subprocess.run(migrate.argv, env=environment, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode != 0
    assert "password authentication failed" in result.stderr


def test_missing_secret_file_gives_one_clear_message(natives: dict[str, Native], tmp_path: Path) -> None:
    """What `docker compose up` shows when secrets/ was never created (exit 2, every problem listed)."""
    web = natives["web"]
    environment = {
        **web.environment,
        "SECRET_KEY_FILE": str(tmp_path / "absent" / "django_secret_key"),
        "DATABASE_PASSWORD_FILE": str(tmp_path / "absent" / "postgres_password"),
    }
    result = subprocess.run(web.argv, env=environment, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "SECRET_KEY" in result.stderr
    assert "cannot be read" in result.stderr
    assert "Traceback" not in result.stderr
