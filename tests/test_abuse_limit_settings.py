"""The client-address model and the limits' configuration (the HTTP attacks: tests/reliability/test_throttling.py)."""

import pytest
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from desideliver.throttling.throttles import client_address, parse_rate
from tests.service import production_environment
from tests.test_settings import run


def address(settings, proxies: int, peer: str, forwarded: str | None = None) -> str:
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": proxies}
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return client_address(Request(APIRequestFactory().get("/", REMOTE_ADDR=peer, **headers)))


def test_no_trusted_proxy_ignores_x_forwarded_for(settings):
    assert address(settings, 0, "192.0.2.1", "203.0.113.9") == "192.0.2.1"


def test_one_trusted_proxy_takes_the_address_it_appended(settings):
    assert address(settings, 1, "10.0.0.2", "203.0.113.9, 198.51.100.7") == "198.51.100.7"


def test_an_unparsable_forwarded_address_falls_back_to_the_peer(settings):
    assert address(settings, 1, "10.0.0.2", "not-an-address") == "10.0.0.2"


def test_ipv6_clients_are_counted_per_slash_64(settings):
    first = address(settings, 0, "2001:db8:1:2:aaaa::1")
    assert first == address(settings, 0, "2001:db8:1:2:ffff:ffff:ffff:ffff") == "2001:db8:1:2::/64"
    assert address(settings, 0, "2001:db8:1:3::1") != first
    assert address(settings, 0, "::ffff:192.0.2.5") == "192.0.2.5"


@pytest.mark.parametrize(("rate", "parsed"), [("10/min", (10, 60)), ("3/hour", (3, 3600)), ("1/s", (1, 1))])
def test_rates_read_as_drf_reads_them(rate, parsed):
    assert parse_rate(rate) == parsed


def test_malformed_limits_are_refused_before_serving():
    environment = production_environment(
        "postgres://app@127.0.0.1:1/app",
        "redis://127.0.0.1:1/0",
        THROTTLE_CART_RATE="lots",
        THROTTLE_ORDER_RATE="10/fortnight",
        TRUSTED_PROXY_COUNT="-1",
        ORDER_UNITS_LIMIT="0",
    )
    result = run("manage", "check", environment=environment)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    for name in ("THROTTLE_CART_RATE", "THROTTLE_ORDER_RATE", "TRUSTED_PROXY_COUNT", "ORDER_UNITS_LIMIT"):
        assert f"  - {name}: " in result.stderr
