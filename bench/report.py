"""The report: the machine, the targets, what invalidates a run, and the JSON and Markdown files."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

import psutil

from bench.server import log


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
    if "worker" in report:
        mail = report["worker"]
        target(
            "order e-mails sent by the worker, each exactly once",
            f"{mail['delivered_once']} of {mail['orders']}",
            f"== {mail['orders']}",
            mail["delivered_once"] == mail["orders"] and not mail["problems"],
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
    """What makes the run itself invalid (not slow): errors, wrong statuses, inconsistent orders, lost e-mails."""
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
    mail = report.get("worker", {})
    failures += [f"worker: {problem}" for problem in mail.get("problems", [])]
    if mail and mail["delivered_once"] != mail["orders"] and not mail["problems"]:
        failures.append(f"worker: {mail['delivered_once']} of {mail['orders']} e-mails delivered exactly once")
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
    if "proxy_overhead" in report:
        overhead = report["proxy_overhead"]
        lines.append(
            f"The proxy on /api/products/ (nginx and gunicorn sharing the cores): p50 {overhead['p50_ms']:+.1f} ms, "
            f"p99 {overhead['p99_ms']:+.1f} ms, throughput × {overhead['throughput_ratio']}."
        )
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
    if "worker" in report:
        mail = report["worker"]
        lines.append(
            f"Order e-mail, `desideliver worker` (image defaults) to a real SMTP server on 127.0.0.1: "
            f"{mail['orders']} orders one at a time, from the client's 201 to the message's arrival: "
            f"median {mail['median_ms']} ms, p90 {mail['p90_ms']} ms, max {mail['max_ms']} ms; "
            f"{mail['delivered_once']} of {mail['orders']} delivered exactly once."
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
