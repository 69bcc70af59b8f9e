"""`make dev`: the API on 127.0.0.1 with its own PostgreSQL and Redis, all stopped when it exits.

    python -m devtools.dev serve  [--port 8000] [--pg-port 54320] [--redis-port 63790]
    python -m devtools.dev manage COMMAND ...   (against the dev database; starts it if needed)

PostgreSQL keeps its cluster in `.dev/postgres`, Redis its pid file and log in `.dev/`. As root
the cluster belongs to the `postgres` user; when that user cannot enter the clone (`/root` is
0700 on Debian) the cluster lives in /var/tmp instead, and the first line printed says where.
A server left running by an unclean exit (terminal killed, kill -9) is found by its pid file
and reused; a port held by anything else stops the start with its name and pid, exit 1.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

from devtools import servers
from devtools.ports import PortTaken, listening_ports, require_free

ROOT = Path(__file__).resolve().parent.parent
DATABASE_EXISTS = "SELECT 1 FROM pg_database WHERE datname = 'desideliver'"


class DevError(RuntimeError):
    """`make dev` cannot start; the message says why and what to do."""


def cluster_directory(dev_dir: Path) -> Path:
    """`.dev/postgres`, or (as root, when the `postgres` user can't enter the clone) one in /var/tmp."""
    inside = dev_dir / "postgres"
    if os.geteuid() != 0:
        return inside
    reachable = subprocess.run(servers.as_postgres_user(["test", "-x", str(dev_dir)]), check=False).returncode == 0
    if reachable:
        return inside
    digest = hashlib.sha256(str(dev_dir).encode()).hexdigest()[:12]
    return Path("/var/tmp") / f"desideliver-dev-{digest}" / "postgres"  # root-owned parent, 0700 cluster


def running_pid(pid_file: Path, name: str) -> int | None:
    """The pid in `pid_file` (its first line) if that process is alive and is `name`."""
    import psutil

    try:
        pid = int(pid_file.read_text().split()[0])
        process = psutil.Process(pid)
        return pid if name in " ".join([process.name(), *process.cmdline()]) else None
    except (OSError, ValueError, IndexError, psutil.Error):
        return None


class Postgres:
    def __init__(self, dev_dir: Path, port: int) -> None:
        self.port = port
        self.pg_ctl = servers.find_pg_ctl()
        self.data = cluster_directory(dev_dir)
        self.log = self.data / "server.log"
        self.started = False

    def url(self, dbname: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{dbname}"

    def ensure_running(self) -> None:
        leftover = running_pid(self.data / "postmaster.pid", "postgres")
        if leftover and self.port in listening_ports(leftover):
            print(f"PostgreSQL is already running (pid {leftover}, {self.data}): using it")
            return
        if leftover:
            print(f"PostgreSQL from an earlier run is up on another port (pid {leftover}): stopping it")
            self.stop()
        require_free(self.port, "DEV_PG_PORT")
        self._prepare_directory()
        if not (self.data / "PG_VERSION").exists():
            self._pg("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync")
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1"
        try:
            self._pg("pg_ctl", "-D", str(self.data), "-w", "-l", str(self.log), "-o", options, "start")
        except DevError:
            tail = self.log.read_text(errors="replace").splitlines()[-5:] if self.log.exists() else []
            raise DevError(f"PostgreSQL did not start; its log, {self.log}, ends:\n" + "\n".join(tail)) from None
        self.started = True

    def stop(self) -> None:
        if running_pid(self.data / "postmaster.pid", "postgres"):
            self._pg("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def create_database(self) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as db:
            if not db.execute(DATABASE_EXISTS).fetchone():
                db.execute("CREATE DATABASE desideliver")

    def _prepare_directory(self) -> None:
        self.data.mkdir(parents=True, exist_ok=True)
        self.data.chmod(0o700)
        if os.geteuid() == 0:
            owner = servers.postgres_user()
            os.chown(self.data, owner.pw_uid, owner.pw_gid)

    def _pg(self, program: str, *arguments: str) -> None:
        argv = servers.as_postgres_user([str(Path(self.pg_ctl).with_name(program)), *arguments])
        result = subprocess.run(argv, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise DevError(f"{program} failed: {(result.stderr or result.stdout).strip()}")


class Redis:
    def __init__(self, dev_dir: Path, port: int) -> None:
        self.port = port
        self.dev_dir = dev_dir
        self.pid_file = dev_dir / "redis.pid"
        self.started = False

    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def ensure_running(self) -> None:
        leftover = running_pid(self.pid_file, "redis")
        if leftover and self.port in listening_ports(leftover):
            print(f"Redis is already running (pid {leftover}): using it")
            return
        if leftover:
            self.stop()
        require_free(self.port, "DEV_REDIS_PORT")
        argv = [
            servers.find_redis_server(),
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.dev_dir),
        ]
        argv += ["--save", "", "--appendonly", "no", "--daemonize", "yes"]
        argv += ["--pidfile", str(self.pid_file), "--logfile", str(self.dev_dir / "redis.log")]
        subprocess.run(argv, check=True)
        self.started = True

    def stop(self) -> None:
        pid = running_pid(self.pid_file, "redis")
        if pid:
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 10
            while running_pid(self.pid_file, "redis") and time.monotonic() < deadline:
                time.sleep(0.1)


@contextmanager
def dev_servers(dev_dir: Path, pg_port: int, redis_port: int, *, adopt: bool) -> Iterator[dict[str, str]]:
    """PostgreSQL and Redis up, with the database created; the environment for the local settings.

    On the way out, stops the servers this call started and, with `adopt` (`make dev` itself),
    leftovers it reused; `manage` leaves a running `make dev`'s servers alone.
    """
    dev_dir.mkdir(exist_ok=True)
    postgres = Postgres(dev_dir, pg_port)
    redis = Redis(dev_dir, redis_port)
    if postgres.data.parent != dev_dir:
        print(f"PostgreSQL data: {postgres.data} (the postgres user cannot enter {dev_dir})")
    with ExitStack() as stack:
        if adopt:
            stack.callback(print, "stopped PostgreSQL and Redis")
        postgres.ensure_running()
        if adopt or postgres.started:
            stack.callback(postgres.stop)
        redis.ensure_running()
        if adopt or redis.started:
            stack.callback(redis.stop)
        postgres.create_database()
        yield {
            "DJANGO_SETTINGS_MODULE": "desideliver.settings.local",
            "DATABASE_URL": postgres.url("desideliver"),
            "REDIS_URL": redis.url(),
        }


def desideliver(*arguments: str, environment: dict[str, str]) -> int:
    return subprocess.run([sys.executable, "-m", "desideliver", *arguments], env=environment, check=False).returncode


def serve(dev_dir: Path, port: int, pg_port: int, redis_port: int) -> int:
    require_free(port, "DEV_PORT")
    with dev_servers(dev_dir, pg_port, redis_port, adopt=True) as settings:
        environment = {**os.environ, **settings}
        for step in (("manage", "migrate", "--noinput"), ("manage", "seed_demo")):
            if desideliver(*step, environment=environment) != 0:
                return 1
        print(f"DesiDeliver on http://127.0.0.1:{port} (Ctrl-C stops the server, PostgreSQL and Redis)", flush=True)
        server = subprocess.Popen(
            [sys.executable, "-m", "desideliver", "manage", "runserver", f"127.0.0.1:{port}"], env=environment
        )
        try:
            code = server.wait()
        except KeyboardInterrupt:  # Ctrl-C reached runserver too; let it finish
            code = 0 if server.wait() in (0, -signal.SIGINT, 130) else server.returncode
        return code


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.dev", description=__doc__.split("\n")[0])
    parser.add_argument("--dir", type=Path, default=ROOT / ".dev")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--pg-port", type=int, default=54320)
    parser.add_argument("--redis-port", type=int, default=63790)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve")
    manage = commands.add_parser("manage")
    manage.add_argument("arguments", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    dev_dir = args.dir.resolve()

    def stop_cleanly(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # a closed terminal (SIGHUP) or kill (SIGTERM) stops the servers too

    for signum in (signal.SIGHUP, signal.SIGTERM):
        signal.signal(signum, stop_cleanly)
    try:
        if args.command == "serve":
            return serve(dev_dir, args.port, args.pg_port, args.redis_port)
        with dev_servers(dev_dir, args.pg_port, args.redis_port, adopt=False) as settings:
            return desideliver("manage", *args.arguments, environment={**os.environ, **settings})
    except (DevError, PortTaken, servers.MissingBinary) as error:
        print(f"make dev: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
