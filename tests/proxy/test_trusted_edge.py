"""The proxy behind a load balancer or ingress controller that terminates TLS (trusted-edge.d):
the client's address, scheme and port come from that edge, and only from it.

The edge is played by this test's own client on 127.0.0.1: a `set_real_ip_from 127.0.0.1;`
makes its forwarding headers trusted, as a controller pod's are in deploy/kubernetes; a
`set_real_ip_from` for another network leaves the same headers forged.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.proxy import nginx, upstream
from tests.proxy.conftest import LOGIN_RATE_PER_MINUTE
from tests.proxy.nginx import Proxy
from tests.reliability import harness
from tests.reliability.harness import request
from tests.service import Service

pytestmark = pytest.mark.slow

THIS_CLIENT_IS_THE_EDGE = "set_real_ip_from 127.0.0.1;\n"
ANOTHER_NETWORK_IS_THE_EDGE = "set_real_ip_from 10.0.0.0/8;\nset_real_ip_from 192.168.0.0/16;\n"
# What a TLS-terminating edge sends for a client on 203.0.113.7 that claimed to be 198.51.100.20.
EDGE_HEADERS = {
    "X-Forwarded-For": "198.51.100.20, 203.0.113.7",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Port": "443",
}


@pytest.fixture(scope="module")
def behind_an_edge(media_root: Path) -> Iterator[Proxy]:
    static_root = nginx.shared_directory("desideliver-proxy-no-static-")
    with (
        upstream.serving() as address,
        nginx.running(address, static_root, media_root, trusted_edge=THIS_CLIENT_IS_THE_EDGE) as running,
    ):
        yield running


def test_behind_a_trusted_edge_web_gets_the_client_and_scheme_it_vouched_for(behind_an_edge: Proxy) -> None:
    seen = request(behind_an_edge.base_url, "GET", "/api/echo/", headers=EDGE_HEADERS).json()["headers"]
    # The last address, which the edge appended: what it saw. The client's own claim (before it)
    # is not believed.
    assert seen["x-forwarded-for"] == "203.0.113.7"
    assert seen["x-forwarded-proto"] == "https"
    assert seen["x-forwarded-port"] == "443"
    (entry,) = behind_an_edge.logged("/api/echo/")[-1:]
    assert (entry["remote"], entry["peer"]) == ("203.0.113.7", "127.0.0.1")


@pytest.mark.parametrize("claimed", ["6.6.6.6", "10.1.2.3, 6.6.6.6"])
def test_a_client_on_a_private_address_cannot_pick_the_address_before_it(media_root: Path, claimed: str) -> None:
    """The edge appends what it saw (10.20.30.40, a client on the VPN) to what the client claimed.
    Both the edge and the client's address are in trusted ranges, and web still gets the client's."""
    static_root = nginx.shared_directory("desideliver-proxy-no-static-")
    trusted = THIS_CLIENT_IS_THE_EDGE + ANOTHER_NETWORK_IS_THE_EDGE
    with upstream.serving() as address, nginx.running(address, static_root, media_root, trusted_edge=trusted) as proxy:
        headers = {**EDGE_HEADERS, "X-Forwarded-For": f"{claimed}, 10.20.30.40"}
        seen = request(proxy.base_url, "GET", "/api/echo/", headers=headers).json()["headers"]
    assert seen["x-forwarded-for"] == "10.20.30.40"


@pytest.mark.parametrize("proto", ["javascript", "https, http", ""])
def test_a_trusted_edge_cannot_pass_on_a_scheme_that_is_not_one(behind_an_edge: Proxy, proto: str) -> None:
    headers = {**EDGE_HEADERS, "X-Forwarded-Proto": proto, "X-Forwarded-Port": "443; evil"}
    seen = request(behind_an_edge.base_url, "GET", "/api/echo/", headers=headers).json()["headers"]
    assert seen["x-forwarded-proto"] == "http"  # the connection's own scheme
    assert seen["x-forwarded-port"] == str(behind_an_edge.port)


def test_an_edge_on_another_network_does_not_make_a_client_trusted(media_root: Path) -> None:
    static_root = nginx.shared_directory("desideliver-proxy-no-static-")
    with (
        upstream.serving() as address,
        nginx.running(address, static_root, media_root, trusted_edge=ANOTHER_NETWORK_IS_THE_EDGE) as proxy,
    ):
        seen = request(proxy.base_url, "GET", "/api/echo/", headers=EDGE_HEADERS).json()["headers"]
    assert seen["x-forwarded-for"] == "127.0.0.1"
    assert seen["x-forwarded-proto"] == "http"
    assert seen["x-forwarded-port"] == str(proxy.port)


@pytest.fixture(scope="module")
def tls_app(app_environment: dict[str, str]) -> Iterator[Service]:
    """The real app as production runs it behind TLS: plain HTTP is redirected to https unless
    the trusted proxy says the client used https (TRUST_X_FORWARDED_PROTO, TRUSTED_PROXY_COUNT=1)."""
    environment = {**app_environment, "SECURE_SSL_REDIRECT": "true", "TRUST_X_FORWARDED_PROTO": "true"}
    with harness.serving(environment) as service:
        yield service


@pytest.fixture(scope="module")
def tls_proxies(tls_app: Service, app_environment: dict[str, str], media_root: Path) -> Iterator[dict[str, Proxy]]:
    static_root = Path(app_environment["STATIC_ROOT"])
    web = f"127.0.0.1:{tls_app.port}"
    with (
        nginx.running(web, static_root, media_root, trusted_edge=THIS_CLIENT_IS_THE_EDGE) as trusting,
        nginx.running(web, static_root, media_root) as edge,
    ):
        yield {"behind_an_edge": trusting, "the_edge": edge}


def test_behind_a_tls_edge_the_app_serves_https_requests_and_redirects_plain_ones(
    tls_proxies: dict[str, Proxy],
) -> None:
    behind = tls_proxies["behind_an_edge"].base_url
    served = request(behind, "GET", "/api/products/", headers=EDGE_HEADERS)
    plain = request(behind, "GET", "/api/products/", headers={**EDGE_HEADERS, "X-Forwarded-Proto": "http"})
    assert served.status == 200, served.body
    assert plain.status == 301
    assert plain.headers["location"].startswith("https://")
    # Alone, the proxy is the edge: a client's claim of https is forged and changes nothing.
    forged = request(tls_proxies["the_edge"].base_url, "GET", "/api/products/", headers=EDGE_HEADERS)
    assert forged.status == 301


def test_behind_a_trusted_edge_each_client_has_its_own_login_throttle(
    tls_proxies: dict[str, Proxy], app_environment: dict[str, str]
) -> None:
    """Without the edge's trust every client would share the controller's address, and one
    client's failed logins would lock out all of them."""
    harness.clear_throttles(app_environment)

    def login_as(client: str) -> int:
        headers = {**EDGE_HEADERS, "X-Forwarded-For": client}
        body = {"email": "nobody@example.com", "password": "wrong-password"}
        behind = tls_proxies["behind_an_edge"].base_url
        return request(behind, "POST", "/api/auth/login/", body=body, headers=headers).status

    first = [login_as("203.0.113.7") for _ in range(LOGIN_RATE_PER_MINUTE + 1)]
    other = login_as("203.0.113.8")
    harness.clear_throttles(app_environment)
    assert first == [401] * LOGIN_RATE_PER_MINUTE + [429]
    assert other == 401
