"""`desideliver`: the one entrypoint, in the image and out (serve, worker, manage, wait-for-db, healthchecks).

Only the standard library is imported here, so `healthcheck` starts in milliseconds; each
command imports what it needs.
"""

import argparse
import os
import signal
import sys
from collections.abc import Sequence

EXIT_CONFIGURATION = 2


def load_settings() -> None:
    """Import the settings once, turning an invalid environment into one message and exit 2.

    There is no default settings module: falling back to the local one would run a deployment
    that forgot the variable with DEBUG on and a published SECRET_KEY. `make dev` sets it.
    """
    if not os.environ.get("DJANGO_SETTINGS_MODULE"):
        print(
            "desideliver: DJANGO_SETTINGS_MODULE is not set: use desideliver.settings.production "
            "(the image sets it); `make dev` runs desideliver.settings.local",
            file=sys.stderr,
        )
        raise SystemExit(EXIT_CONFIGURATION)
    from django.conf import settings

    from desideliver.settings.environment import ConfigurationError

    try:
        settings.INSTALLED_APPS  # noqa: B018 — importing the settings is the point
    except ConfigurationError as error:
        print(f"desideliver: {error}", file=sys.stderr)
        raise SystemExit(EXIT_CONFIGURATION) from None


def require_collected_static() -> None:
    """With hashed static files (production), their manifest must exist before the first request.

    Without it every page that links a static file (the admin, the docs) is a 500.
    """
    from pathlib import Path

    from django.conf import settings

    if "Manifest" not in settings.STORAGES["staticfiles"]["BACKEND"]:
        return
    manifest = Path(settings.STATIC_ROOT or "", "staticfiles.json")
    if not manifest.is_file():
        print(
            f"desideliver: STATIC_ROOT={settings.STATIC_ROOT} has no staticfiles.json: collect the static files "
            "first (desideliver manage collectstatic --noinput; the image has them from its build)",
            file=sys.stderr,
        )
        raise SystemExit(EXIT_CONFIGURATION)


def serve() -> None:
    from desideliver import gunicorn_conf

    options = gunicorn_conf.options()
    load_settings()  # reports gunicorn's variables and Django's together, before gunicorn reads any
    require_collected_static()
    from desideliver.media.checks import media_root_problem

    if problem := media_root_problem():
        print(f"desideliver: {problem}", file=sys.stderr)
        raise SystemExit(EXIT_CONFIGURATION)
    from desideliver.server import Server

    Server(options).run()


def worker() -> None:
    load_settings()
    from desideliver.jobs.worker import run

    run()


def manage(arguments: Sequence[str]) -> None:
    load_settings()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["desideliver manage", *arguments])


def wait_for_db(timeout: float) -> None:
    """Wait for PostgreSQL with exponential backoff (0.25 s doubling to 5 s) up to `timeout` seconds."""
    import time

    load_settings()
    import django
    from django.db import OperationalError, connection

    django.setup()
    deadline = time.monotonic() + timeout
    delay = 0.25
    while True:
        try:
            connection.ensure_connection()
        except OperationalError as error:
            if time.monotonic() + delay > deadline:
                target = f"{connection.settings_dict['HOST']}:{connection.settings_dict['PORT'] or 5432}"
                reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
                print(f"desideliver: database {target} not reachable after {timeout:g}s: {reason}", file=sys.stderr)
                raise SystemExit(1) from None
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
        else:
            print("desideliver: database is ready")
            return


def healthcheck(url: str, timeout: float) -> None:
    """GET the readiness URL; exit 0 on 200, 1 otherwise. Standard library only."""
    import urllib.error
    import urllib.request

    if not url.startswith(("http://", "https://")):
        print(f"unhealthy: {url} is not an http(s) URL", file=sys.stderr)
        raise SystemExit(1)
    request = urllib.request.Request(url, headers={"Host": "localhost", "User-Agent": "desideliver-healthcheck"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except (OSError, ValueError) as error:
        print(f"unhealthy: {url}: {getattr(error, 'reason', error)}", file=sys.stderr)
        raise SystemExit(1) from None
    if status != 200:
        print(f"unhealthy: {url} answered {status}", file=sys.stderr)
        raise SystemExit(1)
    print(f"healthy: {url}")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="desideliver", description="The DesiDeliver API service.")
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("serve", help="serve HTTP with gunicorn (PORT, WEB_CONCURRENCY, ...)")
    manage_parser = commands.add_parser("manage", help="run a Django management command", add_help=False)
    manage_parser.add_argument("arguments", nargs=argparse.REMAINDER)
    wait = commands.add_parser("wait-for-db", help="wait until PostgreSQL accepts connections")
    wait.add_argument("--timeout", type=float, default=60.0, help="seconds before giving up (default 60)")
    check = commands.add_parser("healthcheck", help="exit 0 if the local service is ready, else 1")
    check.add_argument("--url", help="default: http://127.0.0.1:$PORT/health/ready/")
    check.add_argument("--timeout", type=float, default=5.0, help="seconds (default 5)")
    commands.add_parser("worker", help="run background jobs (e-mail) until SIGTERM, finishing the jobs in hand")
    commands.add_parser("worker-healthcheck", help="exit 0 if this container's worker heartbeat is recent, else 1")
    return root


def exit_on_signal(signum: int, _frame: object) -> None:
    """Stop with 128 + the signal's number, unwinding (so open transactions roll back)."""
    print(f"desideliver: stopped by {signal.Signals(signum).name}", file=sys.stderr)
    raise SystemExit(128 + signum)


def handle_stop_signals() -> None:
    """As a container's PID 1 the kernel drops every signal without a handler: SIGTERM (docker
    stop) would be ignored until Docker's SIGKILL. `serve` replaces these with gunicorn's own."""
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, exit_on_signal)


def main(argv: Sequence[str] | None = None) -> None:
    handle_stop_signals()
    args = parser().parse_args(argv)
    if args.command == "serve":
        serve()
    elif args.command == "manage":
        manage(args.arguments)
    elif args.command == "wait-for-db":
        wait_for_db(args.timeout)
    elif args.command == "healthcheck":
        healthcheck(args.url or f"http://127.0.0.1:{os.environ.get('PORT', '8000')}/health/ready/", args.timeout)
    elif args.command == "worker":
        worker()
    elif args.command == "worker-healthcheck":
        from desideliver.jobs.health import check

        check()
