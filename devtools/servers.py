"""PostgreSQL and Redis from the binaries on PATH: found here for `make dev`, tests and benchmarks.

Throwaway servers on random ports (tests, bench) use pytest-postgresql's and pytest-redis's
executors (initdb, start, wait, stop); `make dev` (devtools/dev.py) keeps its own in `.dev/`.
PostgreSQL refuses to run as root, and CI runs as root: then the cluster belongs to the
`postgres` system user (Debian's package creates it) and pg_ctl runs through `runuser`.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import stat
import tempfile
import time
from pathlib import Path

import port_for
from pytest_postgresql.executors import PostgreSQLExecutor
from pytest_redis.executor import RedisExecutor

POSTGRES_HINT = "install PostgreSQL's server (Debian/Ubuntu: apt install postgresql; Nix: nix develop)"
REDIS_HINT = "install Redis (Debian/Ubuntu: apt install redis-server; Nix: nix develop)"


class MissingBinary(RuntimeError):
    pass


def find_pg_ctl() -> str:
    """pg_ctl from PATH, else the newest Debian install (Debian keeps it off PATH)."""
    found = shutil.which("pg_ctl") or next(
        iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True)), None
    )
    if not found:
        raise MissingBinary(f"pg_ctl not found on PATH or in /usr/lib/postgresql/*/bin: {POSTGRES_HINT}")
    if not Path(found).with_name("initdb").exists() or not Path(found).with_name("postgres").exists():
        raise MissingBinary(f"{found} has no initdb/postgres beside it: {POSTGRES_HINT}")
    return found


def find_redis_server() -> str:
    found = shutil.which("redis-server")
    if not found:
        raise MissingBinary(f"redis-server not found on PATH: {REDIS_HINT}")
    return found


def as_postgres_user(argv: list[str]) -> list[str]:
    """`argv` as the `postgres` system user when we are root (PostgreSQL refuses root), else unchanged."""
    if os.geteuid() != 0:
        return argv
    postgres_user()
    return ["runuser", "-u", "postgres", "--", *argv]


def postgres_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        raise MissingBinary("running as root needs the `postgres` system user (apt install postgresql)") from None


def _pg_ctl_for_this_user(pg_ctl: str, workdir: Path) -> str:
    """pg_ctl itself, or as root a wrapper that runs it as the `postgres` user."""
    if os.geteuid() != 0:
        return pg_ctl
    owner = postgres_user()
    os.chown(workdir, owner.pw_uid, owner.pw_gid)
    wrapper = workdir / "pg_ctl"
    wrapper.write_text(f'#!/bin/sh\nexec runuser -u postgres -- "{pg_ctl}" "$@"\n')
    wrapper.chmod(stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    return str(wrapper)


class ReadyPostgreSQLExecutor(PostgreSQLExecutor):
    """pytest-postgresql's executor whose start (and restart) returns only once sessions are accepted."""

    def start(self) -> ReadyPostgreSQLExecutor:
        super().start()
        wait_until_accepting(self)
        return self


def postgresql(workdir: Path | None = None, dbname: str = "desideliver") -> PostgreSQLExecutor:
    """A PostgreSQL executor on a free port, not yet started; user `postgres`, trust auth, loopback only."""
    pg_ctl = find_pg_ctl()
    workdir = Path(workdir or tempfile.mkdtemp(prefix="desideliver-pg-"))
    workdir.chmod(0o755)
    executable = _pg_ctl_for_this_user(pg_ctl, workdir)
    return ReadyPostgreSQLExecutor(
        executable=executable,
        host="127.0.0.1",
        port=port_for.select_random(),
        datadir=str(workdir / "data"),
        unixsocketdir=str(workdir),
        logfile=str(workdir / "postgresql.log"),
        startparams="-w",
        dbname=dbname,
        user="postgres",
        postgres_options="-c fsync=off -c full_page_writes=off -c max_connections=200 -c listen_addresses=127.0.0.1",
    )


def redis(workdir: Path | None = None, password: str | None = None) -> RedisExecutor:
    """A Redis executor on a free port, not yet started; no persistence; `requirepass` if given."""
    workdir = Path(workdir or tempfile.mkdtemp(prefix="desideliver-redis-"))
    return RedisExecutor(
        executable=find_redis_server(),
        databases=16,
        redis_timeout=30,
        loglevel="warning",
        host="127.0.0.1",
        port=port_for.select_random(),
        datadir=workdir,
        password=password,
    )


def wait_until_accepting(server: PostgreSQLExecutor, timeout: float = 60) -> None:
    """Block until PostgreSQL accepts connections.

    The executor returns once the port is open, which is before crash recovery or start-up ends
    ("the database system is starting up") on a loaded machine.
    """
    import psycopg

    deadline = time.monotonic() + timeout
    while True:
        try:
            psycopg.connect(database_url(server, "postgres"), connect_timeout=5).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def database_url(server: PostgreSQLExecutor, dbname: str) -> str:
    return f"postgres://{server.user}@{server.host}:{server.port}/{dbname}"


def redis_url(server: RedisExecutor, db: int = 0) -> str:
    return f"redis://{server.host}:{server.port}/{db}"
