"""`make bench`'s harness in smoke mode: a second per scenario, asserting only that it works.

No timing assertions: speed is measured by `make bench`, not by the test suite.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.proxy import nginx

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_benchmark_smoke_mode_runs_every_scenario_without_errors(tmp_path: Path) -> None:
    if shutil.which("wrk") is None:
        pytest.skip("wrk not on PATH: apt install wrk (Nix: nix develop)")
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--output", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-5000:]
    report = json.loads((tmp_path / "latest.json").read_text())
    names = {result["name"] for result in report["results"]}
    assert names == {
        "bare_wsgi",
        "health",
        "products_list_cached",
        "products_list_uncached",
        "product_detail_cached",
        "static_file",
        "cart",
        "orders_create",
    } | ({"products_list_cached_proxy"} if nginx.nginx_binary() else set())
    for result in report["results"]:
        assert result["requests"] > 0, result
        assert result["errors"] == result["non_2xx"] == 0, result
    orders = report["orders"]
    assert orders["created_201"] > 0
    assert orders["min_stock"] >= 0
    assert orders["stock_consumed"] == orders["units_ordered"]
    assert report["memory_after_load"]["workers"] >= 1
    mail = report["worker"]  # --smoke places 5 orders for the worker scenario
    assert mail["problems"] == []
    assert mail["orders"] == mail["created_201"] == mail["delivered_once"] == mail["messages_received"] == 5
    assert len(mail["latencies_ms"]) == 5
    assert mail["median_ms"] <= mail["p90_ms"] <= mail["max_ms"] == max(mail["latencies_ms"])
    assert "order e-mails sent by the worker, each exactly once" in {row["target"] for row in report["targets"]}
    markdown = (tmp_path / "latest.md").read_text()
    assert markdown.startswith("Measured")
    assert "Order e-mail, `desideliver worker`" in markdown
    if nginx.nginx_binary():
        assert set(report["proxy_overhead"]) == {"p50_ms", "p99_ms", "throughput_ratio"}
