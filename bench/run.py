"""`make bench`: the served API under wrk, with production settings and the image's gunicorn configuration.

Starts throwaway PostgreSQL and Redis, migrates, loads demo data, collects static files, serves
the app with `desideliver serve` and drives each scenario with wrk. Throughput ratios to
`/health/` and to a bare WSGI app under the same gunicorn options are computed within one run,
so they hold on a noisy machine where absolute numbers drift. Writes JSON and a Markdown table.

    python -m bench [--smoke] [--duration 20] [--connections 32] [--output DIR]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import port_for
import psutil
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devtools import servers  # noqa: E402
from devtools.service import desideliver_command, production_environment  # noqa: E402

BENCH_DIR = Path(__file__).resolve().parent
LUA_DIR = BENCH_DIR / "lua"
RESULTS_DIR = BENCH_DIR / "results"
PRODUCTS = 1000


@dataclass
class Scenario:
    name: str
    path: str
    description: str
    headers: dict[str, str] = field(default_factory=dict)
    script: str | None = None  # a Lua file in bench/lua, prepended to report.lua
    server: str = "app"  # or "bare"
    warmup: bool = True
    kind: str = "read"


@dataclass
class Result:
    name: str
    description: str
    path: str
    requests: int
    duration_s: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    non_2xx: int
    created: int = 0
    sent: int = 0
    tokens_exhausted: bool = False
    rounds_rps: list[float] = field(default_factory=list)
    rounds_p99_ms: list[float] = field(default_factory=list)
    ratio_to_health: float | None = None
    ratio_to_bare: float | None = None


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def run(argv: list[str], environment: dict[str, str], **kwargs: Any) -> str:
    completed = subprocess.run(argv, env=environment, cwd=ROOT, capture_output=True, text=True, check=False, **kwargs)
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({completed.returncode}):\n{completed.stdout}\n{completed.stderr}")
    return completed.stdout


def http_get(port: int, path: str, headers: dict[str, str] | None = None, method: str = "GET", body: str | None = None):
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


def wrk(
    scenario: Scenario, port: int, duration: float, connections: int, threads: int, workdir: Path, tokens_file: Path
) -> dict[str, Any]:
    script = (LUA_DIR / scenario.script).read_text() if scenario.script else ""
    script = script.replace("TOKENS_FILE", str(tokens_file)) + "\n" + (LUA_DIR / "report.lua").read_text()
    script_path = workdir / f"{scenario.name}.lua"
    script_path.write_text(script)
    argv = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--timeout",
        "5s",
        "-s",
        str(script_path),
    ]
    for name, value in scenario.headers.items():
        argv += ["-H", f"{name}: {value}"]
    argv += [f"http://127.0.0.1:{port}{scenario.path}", "--", str(threads)]
    completed = subprocess.run(argv, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{completed.stdout}\n{completed.stderr}")
    output = completed.stdout
    line = next(line for line in output.splitlines() if line.startswith("BENCH_JSON "))
    return json.loads(line.removeprefix("BENCH_JSON "))


def to_result(scenario: Scenario, rounds: list[dict[str, Any]]) -> Result:
    """Totals over the rounds; latency percentiles are the median of the rounds' (wrk keeps no histogram)."""
    raw = {key: sum(r[key] for r in rounds) for key in rounds[0]}
    duration = raw["duration_us"] / 1e6
    errors = raw["connect_errors"] + raw["read_errors"] + raw["write_errors"] + raw["timeouts"]
    # wrk counts statuses >= 400 itself; the order script counts everything but 201 in Lua.
    non_2xx = raw["other_status"] if scenario.script == "orders.lua" else raw["status_errors"]
    rps = (raw["created"] if scenario.script == "orders.lua" else raw["requests"]) / duration

    def ms(key: str) -> float:
        return round(statistics.median(r[key] for r in rounds) / 1000, 2)

    return Result(
        name=scenario.name,
        description=scenario.description,
        path=scenario.path,
        requests=raw["requests"],
        duration_s=round(duration, 2),
        rps=round(rps, 1),
        p50_ms=ms("p50_us"),
        p90_ms=ms("p90_us"),
        p99_ms=ms("p99_us"),
        max_ms=round(max(r["max_us"] for r in rounds) / 1000, 2),
        errors=errors,
        non_2xx=non_2xx,
        created=raw["created"],
        sent=raw["sent"],
        tokens_exhausted=bool(raw["tokens_exhausted"]),
        rounds_rps=[round(r["requests"] / (r["duration_us"] / 1e6), 1) for r in rounds],
        rounds_p99_ms=[round(r["p99_us"] / 1000, 2) for r in rounds],
    )


def drive(
    scenario: Scenario, arguments: argparse.Namespace, seconds: int, ports: dict[str, int], workdir: Path, tokens: Path
) -> dict[str, Any]:
    return wrk(scenario, ports[scenario.server], seconds, arguments.connections, arguments.threads, workdir, tokens)


def create_database(server: Any, name: str) -> str:
    with psycopg.connect(servers.database_url(server, "postgres"), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return servers.database_url(server, name)


def hashed_static_path(static_root: Path) -> str:
    paths = json.loads((static_root / "staticfiles.json").read_text())["paths"]
    name = "admin/css/base.css" if "admin/css/base.css" in paths else sorted(paths)[0]
    return "/static/" + paths[name]


def machine() -> dict[str, Any]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    return {
        "cpu_model": model,
        "cores": len(os.sched_getaffinity(0)),
        "memory_gb": round(psutil.virtual_memory().total / 1024**3, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "wrk": subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False).stdout.split()[1],
    }


def order_state(database_url: str, initial_stock: int) -> dict[str, Any]:
    with psycopg.connect(database_url) as connection:
        orders, lines, quantity = connection.execute(
            "SELECT (SELECT count(*) FROM orders_order), count(*), coalesce(sum(quantity), 0) FROM orders_orderitem"
        ).fetchone()
        minimum, total = connection.execute("SELECT min(stock), sum(stock) FROM catalog_product").fetchone()
    return {
        "orders": orders,
        "order_lines": lines,
        "units_ordered": int(quantity),
        "min_stock": minimum,
        "stock_consumed": int(initial_stock - total),
    }


def stock_total(database_url: str) -> int:
    with psycopg.connect(database_url) as connection:
        return int(connection.execute("SELECT sum(stock) FROM catalog_product").fetchone()[0])


def scenarios(static_path: str) -> list[Scenario]:
    return [
        Scenario("bare_wsgi", "/", "bare WSGI app, same gunicorn options (upper bound)", server="bare"),
        Scenario("health", "/health/", "GET /health/ (Django, no I/O)"),
        Scenario("products_list_cached", "/api/products/", "GET /api/products/ (page of 20, cache warm)"),
        Scenario(
            "products_list_uncached",
            "/api/products/",
            "GET /api/products/ with Cache-Control: no-cache, staff token (PostgreSQL every time)",
            headers={"Cache-Control": "no-cache"},
        ),
        Scenario("product_detail_cached", "/api/products/1/", "GET /api/products/1/ (cache warm)"),
        Scenario("static_file", static_path, "hashed static file through whitenoise"),
        Scenario("cart", "/api/cart/", "GET /api/cart/ (JWT, 2 lines)"),
        Scenario(
            "orders_create",
            "/api/orders/create/",
            "POST /api/orders/create/ (own user and cart per request)",
            script="orders.lua",
            warmup=False,
            kind="write",
        ),
    ]


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
    parser.add_argument("--only", help="comma-separated scenario names (bare_wsgi and health always run)")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR, help="where latest.json and latest.md go")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="extra service environment")
    arguments = parser.parse_args(argv)
    if arguments.smoke:
        arguments.duration, arguments.warmup, arguments.connections, arguments.rounds = 1, 1, 4, 1
        arguments.cold_starts, arguments.order_users = 1, 300
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
        environment.pop("WEB_CONCURRENCY")  # the image's default: 2 x CPUs + 1
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

    log(f"preparing {arguments.order_users} users with carts, and the cart scenario's user")
    tokens_file = workdir / "tokens.txt"
    prepare = [sys.executable, "-m", "bench.prepare"]
    run([*prepare, str(arguments.order_users), str(tokens_file)], environment)
    password = "bench-cart-password-0123"  # noqa: S105 — a throwaway database
    cart_user = ["--email-prefix", "cart", "--password", password, "--staff"]
    run([*prepare, "1", str(workdir / "unused.txt"), *cart_user], environment)
    initial_stock = stock_total(database_url)

    log(f"cold start x{arguments.cold_starts}")
    cold = []
    for attempt in range(arguments.cold_starts):
        server = Server(environment, desideliver_command("serve"), workdir / f"cold-{attempt}.log")
        try:
            cold.append(server.start("/health/ready/"))
        finally:
            server.stop()

    selected = set((arguments.only or "").split(",")) | {"bare_wsgi", "health"} if arguments.only else None
    plan = [s for s in scenarios(static_path) if selected is None or s.name in selected]
    # Both servers run together (an idle sync worker costs no CPU), so the read scenarios can take
    # turns in short rounds: a noisy minute on a shared machine then hits every scenario alike.
    ports: dict[str, int] = {}
    running: list[Server] = []
    raws: dict[str, list[dict[str, Any]]] = {scenario.name: [] for scenario in plan}
    memory: dict[str, Any] = {}
    try:
        for target in ("bare", "app"):
            argv = [sys.executable, "-m", "bench.bare_wsgi"] if target == "bare" else desideliver_command("serve")
            running.append(Server(environment, argv, workdir / f"{target}.log"))
            running[-1].start()
            ports[target] = running[-1].port
        app = running[-1]
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
        for scenario in plan:
            if scenario.kind == "write":
                raws[scenario.name].append(drive(scenario, arguments, arguments.duration, ports, workdir, tokens_file))
        memory = app.memory()
    finally:
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
    if "orders_create" in by_name:
        report["orders"] = {
            **order_state(database_url, initial_stock),
            "created_201": by_name["orders_create"].created,
            "requests_sent": by_name["orders_create"].sent,
            "connections": arguments.connections,
        }
    report["targets"] = targets(report)
    return report


def targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    results = {result["name"]: result for result in report["results"]}
    rows: list[dict[str, Any]] = []

    def target(name: str, value: Any, limit: str, met: bool) -> None:
        rows.append({"target": name, "value": value, "limit": limit, "met": bool(met)})

    for name, minimum in (
        ("products_list_cached", 0.60),
        ("product_detail_cached", 0.70),
        ("products_list_uncached", 0.25),
    ):
        if name in results:
            ratio = results[name]["ratio_to_health"]
            target(f"{name} / health throughput", ratio, f">= {minimum}", ratio >= minimum)
    if "health" in results and "bare_wsgi" in results:
        ratio = results["health"]["ratio_to_bare"]
        target("health / bare WSGI throughput", ratio, ">= 0.30", ratio >= 0.30)
    for result in report["results"]:
        if result["name"] not in {"orders_create", "bare_wsgi"}:
            target(f"{result['name']} p99 (ms)", result["p99_ms"], "<= 100", result["p99_ms"] <= 100)
    target(
        "errors and non-2xx, every scenario",
        sum(r["errors"] + r["non_2xx"] for r in report["results"]),
        "== 0",
        all(r["errors"] == r["non_2xx"] == 0 and not r["tokens_exhausted"] for r in report["results"]),
    )
    if "orders" in report:
        orders = report["orders"]
        target("orders/s", results["orders_create"]["rps"], ">= 100", results["orders_create"]["rps"] >= 100)
        # wrk stops the clock with up to one request in flight per connection: the server still
        # completes those, so the database may hold a few more orders than wrk counted 201s.
        in_flight = orders["orders"] - orders["created_201"]
        consistent = (
            orders["min_stock"] >= 0
            and 0 <= in_flight <= orders["connections"]
            and orders["orders"] <= orders["requests_sent"]
            and orders["stock_consumed"] == orders["units_ordered"]
        )
        target(
            "order end state (stock >= 0, orders = 201s + in flight at stop, stock consumed = units ordered)",
            f"min stock {orders['min_stock']}, {orders['orders']} orders = {orders['created_201']} 201s + {in_flight}",
            "consistent",
            consistent,
        )
    target(
        "cold start to ready, median (s)",
        report["cold_start_s"]["median"],
        "<= 1.0",
        report["cold_start_s"]["median"] <= 1.0,
    )
    memory = report["memory_after_load"]
    if memory:
        target(
            "worker RSS after load, max (MB)", memory["worker_rss_max_mb"], "<= 80", memory["worker_rss_max_mb"] <= 80
        )
        target(
            f"server total RSS, {memory['workers']} workers (MB)",
            memory["total_rss_mb"],
            "<= 400",
            memory["total_rss_mb"] <= 400,
        )
    return rows


def check(report: dict[str, Any]) -> list[str]:
    """What makes the run itself invalid (not slow): errors, wrong statuses, inconsistent orders."""
    failures = [
        f"{r['name']}: {r['errors']} socket errors, {r['non_2xx']} non-2xx"
        + (", ran out of prepared carts" if r["tokens_exhausted"] else "")
        for r in report["results"]
        if r["errors"] or r["non_2xx"] or r["tokens_exhausted"]
    ]
    failures += [
        f"{row['target']}: {row['value']}"
        for row in report["targets"]
        if row["target"].startswith("order end") and not row["met"]
    ]
    return failures


def markdown(report: dict[str, Any]) -> str:
    machine_info, settings = report["machine"], report["settings"]
    lines = [
        f"Measured {report['generated_at']} on {machine_info['cores']} cores ({machine_info['cpu_model']}), "
        f"Python {machine_info['python']}, wrk {machine_info['wrk']}: {settings['connections']} connections, "
        f"{settings['wrk_threads']} wrk thread, {settings['duration_s']:g} s per scenario "
        f"(reads in {settings['rounds']} interleaved rounds) after "
        f"{settings['warmup_s']:g} s of warm-up. Command: `{report['command']}`.",
        "",
        "| Scenario | req/s | × /health/ | × bare WSGI | p50 ms | p90 ms | p99 ms | errors | non-2xx |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report["results"]:
        lines.append(
            f"| {r['description']} | {r['rps']:,.0f} | {r['ratio_to_health'] or 0:.2f} | {r['ratio_to_bare'] or 0:.2f} "
            f"| {r['p50_ms']:.1f} | {r['p90_ms']:.1f} | {r['p99_ms']:.1f} | {r['errors']} | {r['non_2xx']} |"
        )
    memory, cold = report["memory_after_load"], report["cold_start_s"]
    lines += [
        "",
        f"Cold start (process start → first 200 from `/health/ready/`): median {cold['median']:.3f} s "
        f"of {cold['runs']}.",
    ]
    if memory:
        lines.append(
            f"Memory after load, {memory['workers']} workers: worker RSS max {memory['worker_rss_max_mb']} MB, "
            f"master {memory['master_rss_mb']} MB, total RSS {memory['total_rss_mb']} MB "
            f"(PSS, shared pages counted once: {memory['total_pss_mb']} MB)."
        )
    if "orders" in report:
        orders = report["orders"]
        lines.append(
            f"Orders: {orders['created_201']} × 201 ({orders['requests_sent']} sent; the rest were in flight when "
            f"wrk stopped), {orders['orders']} orders in the database, "
            f"{orders['units_ordered']} units ordered = {orders['stock_consumed']} units of stock consumed, "
            f"lowest stock {orders['min_stock']}."
        )
    lines += ["", "| Target | Measured | Limit | Met |", "|---|---|---|---|"]
    lines += [
        f"| {t['target']} | {t['value']} | {t['limit']} | {'yes' if t['met'] else '**no**'} |"
        for t in report["targets"]
    ]
    return "\n".join(lines) + "\n"


def write(report: dict[str, Any], output: Path) -> None:
    output.mkdir(parents=True, exist_ok=True)
    (output / "latest.json").write_text(json.dumps(report, indent=2) + "\n")
    (output / "latest.md").write_text(markdown(report))
    log(f"wrote {output / 'latest.json'} and {output / 'latest.md'}")
    print(markdown(report))
