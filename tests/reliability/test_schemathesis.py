"""schemathesis against the service's own OpenAPI schema: every operation, with and without a token.

Checks: no 5xx, status codes / content types / bodies / headers as documented. Not
`negative_data_rejection`: the API is lenient by design where DRF is (an invalid `page_size` falls
back to the default, an unparseable boolean filter is ignored); bad request bodies are 400s, proven
by test_hostile_input.py. Bounded by
--max-examples per operation and --max-time per run; the seed is fixed so CI failures reproduce.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import servers
from tests.reliability import harness
from tests.service import Service

pytestmark = pytest.mark.slow

REPOSITORY = Path(__file__).resolve().parents[2]
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "response_headers_conformance",
    ]
)


def schemathesis(
    service: Service, report: Path, *extra: str, environment: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    if importlib.util.find_spec("schemathesis") is None:
        pytest.fail("schemathesis is not installed: it is a dev dependency (pip install 'schemathesis>=4.32,<5')")
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from schemathesis.cli import schemathesis; sys.exit(schemathesis())",
            "run",
            f"{service.base_url}/api/schema/?format=json",
            "--url",
            service.base_url,
            "--checks",
            CHECKS,
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            "15",
            "--max-time",
            "40",
            "--workers",
            "2",
            "--seed",
            "20260501",
            "--request-timeout",
            "10",
            "--generation-database",
            "none",
            "--no-color",
            "--suppress-health-check",
            "filter_too_much",
            "--report",
            "junit",
            "--report-junit-path",
            str(report),
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        cwd=report.parent,
        env={
            **os.environ,
            "SCHEMATHESIS_HOOKS": "tests.reliability.schemathesis_hooks",
            "PYTHONPATH": str(REPOSITORY),
            **(environment or {}),
        },
    )


@pytest.fixture(scope="module")
def fuzzed_environment(
    postgres_server: servers.PostgreSQLExecutor, redis_server: servers.RedisExecutor
) -> dict[str, str]:
    """Its own deployment with the rate limits lifted: otherwise most generated requests to the
    throttled operations would be 429s and the fuzzer would not reach the code behind them (the
    limits themselves are tested in test_throttling.py)."""
    return harness.deploy(postgres_server, redis_server, 9, **harness.LIFTED_LIMITS)


@pytest.fixture(scope="module")
def fuzzed(fuzzed_environment: dict[str, str]) -> Iterator[Service]:
    with harness.serving(fuzzed_environment) as service:
        yield service


@pytest.mark.parametrize("authenticated", [False, True], ids=["anonymous", "bearer"])
def test_schemathesis_finds_no_server_error_or_schema_violation(
    fuzzed: Service, fuzzed_environment: dict[str, str], tmp_path: Path, authenticated: bool
) -> None:
    products = harness.make_products(fuzzed_environment, [(f"Fuzzed item {i}", "1.50", 1000) for i in range(3)])
    extra: list[str] = []
    ids: dict[str, str] = {}
    if authenticated:
        (user,) = harness.make_users(fuzzed_environment, 1, prefix="fuzz")
        extra = ["--header", f"Authorization: Bearer {user['access']}"]
        token = user["access"]
        harness.request(fuzzed.base_url, "POST", "/api/cart/add/", body={"product_id": products[0]}, token=token)
        order = harness.request(fuzzed.base_url, "POST", "/api/orders/create/", token=token).json()["id"]
        item = harness.request(
            fuzzed.base_url, "POST", "/api/cart/add/", body={"product_id": products[1]}, token=token
        ).json()["id"]
        ticket = harness.request(
            fuzzed.base_url, "POST", "/api/tickets/create/", body={"subject": "Fuzz", "message": "?"}, token=token
        ).json()["id"]
        ids = {
            "RELIABILITY_CART_ITEM_ID": str(item),
            "RELIABILITY_ORDER_ID": str(order),
            "RELIABILITY_TICKET_ID": str(ticket),
        }
    result = schemathesis(fuzzed, tmp_path / "junit.xml", *extra, environment=ids)
    (tmp_path / "schemathesis.txt").write_text(result.stdout)
    failures = result.stdout.find("=== FAILURES ===")
    details = result.stdout[failures : failures + 5000] if failures >= 0 else ""
    print(result.stdout[result.stdout.find("=== SUMMARY ===") :])
    assert result.returncode == 0, details + result.stdout[-2500:] + result.stderr[-2000:]
