"""`make bench`: the served API under wrk, with production settings and the image's gunicorn configuration.

Starts throwaway PostgreSQL and Redis, migrates, loads demo data, collects static files, serves
the app with `desideliver serve` and drives each scenario with wrk; then measures how soon
`desideliver worker` sends an order's e-mail after its commit (bench/worker.py). Throughput ratios to
`/health/` and to a bare WSGI app under the same gunicorn options are computed within one run,
so they hold on a noisy machine where absolute numbers drift. Writes JSON and a Markdown table.

    python -m bench [--smoke] [--duration 20] [--connections 32] [--output DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from devtools import nginx, servers
from devtools.service import desideliver_command, production_environment

from bench import worker
from bench.database import create_database, order_state, order_totals
from bench.load import Scenario, scenarios, to_result, wrk
from bench.report import check, machine, targets, write
from bench.server import Server, http_get, log, run

RESULTS_DIR = Path(__file__).resolve().parent / "results"
PRODUCTS = 1000
WORKER_SCENARIO = "worker_order_email"  # not a wrk scenario: bench/worker.py


def drive(
    scenario: Scenario, arguments: argparse.Namespace, seconds: int, ports: dict[str, int], workdir: Path, tokens: Path
) -> dict[str, Any]:
    return wrk(scenario, ports[scenario.server], seconds, arguments.connections, arguments.threads, workdir, tokens)


def hashed_static_path(static_root: Path) -> str:
    paths = json.loads((static_root / "staticfiles.json").read_text())["paths"]
    name = "admin/css/base.css" if "admin/css/base.css" in paths else sorted(paths)[0]
    return "/static/" + paths[name]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="seconds per scenario: checks the harness, not speed")
    parser.add_argument("--duration", type=int, default=20, help="seconds per scenario (default 20)")
    parser.add_argument("--rounds", type=int, default=4, help="read scenarios take turns in this many slices")
    parser.add_argument("--warmup", type=int, default=5, help="seconds of warm-up before each read scenario")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1: leaves the cores to the app)")
    parser.add_argument("--cold-starts", type=int, default=5)
    parser.add_argument("--order-users", type=int, default=20000, help="prepared users with carts for the order run")
    parser.add_argument("--worker-orders", type=int, default=100, help="orders whose e-mail the worker sends")
    parser.add_argument(
        "--only", help=f"comma-separated scenario names, {WORKER_SCENARIO} too (bare_wsgi and health always run)"
    )
    parser.add_argument("--output", type=Path, default=RESULTS_DIR, help="where latest.json and latest.md go")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="extra service environment")
    arguments = parser.parse_args(argv)
    if arguments.smoke:
        arguments.duration, arguments.warmup, arguments.connections, arguments.rounds = 1, 1, 4, 1
        arguments.cold_starts, arguments.order_users, arguments.worker_orders = 1, 300, 5
    if shutil.which("wrk") is None:
        sys.exit("wrk not found on PATH: apt install wrk (Nix: nix develop)")

    workdir = Path(tempfile.mkdtemp(prefix="desideliver-bench-"))
    workdir.chmod(0o755)  # PostgreSQL runs as `postgres` when we are root
    for name in ("pg", "redis"):
        (workdir / name).mkdir()
    postgres, redis = servers.postgresql(workdir / "pg"), servers.redis(workdir / "redis")
    started = time.monotonic()
    try:
        log(f"starting PostgreSQL and Redis in {workdir}")
        postgres.start()
        redis.start()
        database_url = create_database(postgres, "bench")
        static_root = workdir / "static"
        static_root.mkdir()
        environment = production_environment(database_url, servers.redis_url(redis), STATIC_ROOT=str(static_root))
        environment.pop("WEB_CONCURRENCY")  # the image's default: CPUs + 2 (gunicorn_conf)
        environment.pop("ACCESS_LOG")  # the image's default: on, JSON lines on stdout
        environment.update(item.split("=", 1) for item in arguments.set)
        report = benchmark(arguments, environment, database_url, static_root, workdir)
        report["wall_seconds"] = round(time.monotonic() - started, 1)
        write(report, arguments.output)
        failures = check(report)
        if failures:
            sys.exit("benchmark failed:\n  " + "\n  ".join(failures))
    finally:
        redis.stop()
        postgres.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def benchmark(
    arguments: argparse.Namespace, environment: dict[str, str], database_url: str, static_root: Path, workdir: Path
) -> dict[str, Any]:
    log("migrate, seed_demo, collectstatic")
    run(desideliver_command("manage", "migrate", "--noinput"), environment)
    run(desideliver_command("manage", "seed_demo", "--products", str(PRODUCTS)), environment)
    run(desideliver_command("manage", "collectstatic", "--noinput"), environment)
    static_path = hashed_static_path(static_root)

    selected = set((arguments.only or "").split(",")) | {"bare_wsgi", "health"} if arguments.only else None
    with_worker = selected is None or WORKER_SCENARIO in selected
    log(f"preparing {arguments.order_users} users with carts, the cart scenario's user and the worker's buyers")
    tokens_file, worker_tokens_file = workdir / "tokens.txt", workdir / "worker-tokens.txt"
    prepare = [sys.executable, "-m", "bench.prepare"]
    run([*prepare, str(arguments.order_users), str(tokens_file)], environment)
    password = "bench-cart-password-0123"  # noqa: S105 — a throwaway database
    cart_user = ["--email-prefix", "cart", "--password", password, "--staff"]
    run([*prepare, "1", str(workdir / "unused.txt"), *cart_user], environment)
    if with_worker:
        run([*prepare, str(arguments.worker_orders), str(worker_tokens_file), "--email-prefix", "worker"], environment)

    log(f"cold start x{arguments.cold_starts}")
    cold = []
    for attempt in range(arguments.cold_starts):
        server = Server(environment, desideliver_command("serve"), workdir / f"cold-{attempt}.log")
        try:
            cold.append(server.start("/health/ready/"))
        finally:
            server.stop()

    with_proxy = nginx.nginx_binary() is not None
    plan = [s for s in scenarios(static_path, with_proxy) if selected is None or s.name in selected]
    # Both servers run together (an idle sync worker costs no CPU), so the read scenarios can take
    # turns in short rounds: a noisy minute on a shared machine then hits every scenario alike.
    ports: dict[str, int] = {}
    running: list[Server] = []
    raws: dict[str, list[dict[str, Any]]] = {scenario.name: [] for scenario in plan}
    memory: dict[str, Any] = {}
    worker_mail: dict[str, Any] = {}
    proxies = contextlib.ExitStack()
    try:
        for target in ("bare", "app"):
            argv = [sys.executable, "-m", "bench.bare_wsgi"] if target == "bare" else desideliver_command("serve")
            running.append(Server(environment, argv, workdir / f"{target}.log"))
            running[-1].start()
            ports[target] = running[-1].port
        app = running[-1]
        if any(scenario.server == "proxy" for scenario in plan):
            media_root = workdir / "media"
            media_root.mkdir(mode=0o755)
            proxy = proxies.enter_context(nginx.running(f"127.0.0.1:{app.port}", static_root, media_root))
            ports["proxy"] = proxy.port
        status, body = http_get(
            app.port,
            "/api/auth/login/",
            {"Content-Type": "application/json"},
            "POST",
            json.dumps({"email": "cart-0@bench.invalid", "password": password}),
        )
        if status != 200:
            raise RuntimeError(f"login failed: {status} {body[:200]!r}")
        cart_token = json.loads(body)["access"]
        reads = [scenario for scenario in plan if scenario.kind == "read"]
        for scenario in reads:
            if scenario.name in ("cart", "products_list_uncached"):  # no-cache is honoured for staff only
                scenario.headers["Authorization"] = f"Bearer {cart_token}"
            status, body = http_get(ports[scenario.server], scenario.path, scenario.headers)
            if status != 200:
                raise RuntimeError(f"{scenario.name}: {scenario.path} answered {status}: {body[:300]!r}")
            if scenario.warmup and arguments.warmup > 0:
                drive(scenario, arguments, arguments.warmup, ports, workdir, tokens_file)
        slice_seconds = max(1, round(arguments.duration / arguments.rounds))
        for round_number in range(arguments.rounds):
            log(f"round {round_number + 1}/{arguments.rounds}, {slice_seconds} s per scenario")
            for scenario in reads:
                raws[scenario.name].append(drive(scenario, arguments, slice_seconds, ports, workdir, tokens_file))
        if with_worker:  # before the orders scenario, whose thousands of queued e-mails it would send first
            log(f"worker: {arguments.worker_orders} orders one at a time, each e-mail awaited")
            worker_mail = worker.measure(environment, app.port, worker_tokens_file.read_text().split(), workdir)
        before_orders = order_totals(database_url)
        for scenario in plan:
            if scenario.kind == "write":
                raws[scenario.name].append(drive(scenario, arguments, arguments.duration, ports, workdir, tokens_file))
        memory = app.memory()
    finally:
        proxies.close()
        for server in running:
            server.stop()
    results = [to_result(scenario, raws[scenario.name]) for scenario in plan]
    for result in results:
        log(
            f"{result.name}: {result.rps} req/s, p99 {result.p99_ms} ms, "
            f"errors {result.errors}, non-2xx {result.non_2xx}"
        )

    by_name = {result.name: result for result in results}
    for result in results:
        if "health" in by_name:
            result.ratio_to_health = round(result.rps / by_name["health"].rps, 3)
        if "bare_wsgi" in by_name:
            result.ratio_to_bare = round(result.rps / by_name["bare_wsgi"].rps, 3)
    report: dict[str, Any] = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "make bench" if not arguments.smoke else "python -m bench --smoke",
        "smoke": arguments.smoke,
        "machine": machine(),
        "settings": {
            "duration_s": arguments.duration,
            "warmup_s": arguments.warmup,
            "connections": arguments.connections,
            "wrk_threads": arguments.threads,
            "rounds": arguments.rounds,
            "products": PRODUCTS,
            "service_environment": {
                k: v for k, v in environment.items() if k not in {"SECRET_KEY", "PATH", "HOME", "STATIC_ROOT"}
            },
        },
        "results": [asdict(result) for result in results],
        "cold_start_s": {"runs": [round(c, 3) for c in cold], "median": round(statistics.median(cold), 3)},
        "memory_after_load": memory,
    }
    if "products_list_cached" in by_name and "products_list_cached_proxy" in by_name:
        direct, proxied = by_name["products_list_cached"], by_name["products_list_cached_proxy"]
        report["proxy_overhead"] = {
            "p50_ms": round(proxied.p50_ms - direct.p50_ms, 2),
            "p99_ms": round(proxied.p99_ms - direct.p99_ms, 2),
            "throughput_ratio": round(proxied.rps / direct.rps, 3) if direct.rps else None,
        }
    if "orders_create" in by_name:
        report["orders"] = {
            **order_state(database_url, before_orders),
            "created_201": by_name["orders_create"].created,
            "requests_sent": by_name["orders_create"].sent,
            "connections": arguments.connections,
        }
    if with_worker:
        report["worker"] = worker_mail
        log(
            f"worker: {worker_mail['delivered_once']} of {worker_mail['orders']} e-mails once, median "
            f"{worker_mail['median_ms']} ms, p90 {worker_mail['p90_ms']} ms, max {worker_mail['max_ms']} ms"
        )
    report["targets"] = targets(report)
    return report
