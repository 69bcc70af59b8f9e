"""wrk: the scenarios, one wrk run per slice of a scenario, and its rounds folded into one result."""

from __future__ import annotations

import json
import statistics
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LUA_DIR = Path(__file__).resolve().parent / "lua"


@dataclass
class Scenario:
    name: str
    path: str
    description: str
    headers: dict[str, str] = field(default_factory=dict)
    script: str | None = None  # a Lua file in bench/lua, prepended to report.lua
    server: str = "app"  # or "bare", or "proxy" (nginx in front of app)
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


def scenarios(static_path: str, proxy: bool) -> list[Scenario]:
    """Every scenario; the proxy's only with Debian's nginx installed (devtools/nginx.py)."""
    through_proxy = Scenario(
        "products_list_cached_proxy",
        "/api/products/",
        "GET /api/products/ through the proxy (nginx, nix/proxy/nginx.conf; cache warm)",
        server="proxy",
    )
    return [
        Scenario("bare_wsgi", "/", "bare WSGI app, same gunicorn options (upper bound)", server="bare"),
        Scenario("health", "/health/", "GET /health/ (Django, no I/O)"),
        Scenario("products_list_cached", "/api/products/", "GET /api/products/ (page of 20, cache warm)"),
        *([through_proxy] if proxy else []),
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
