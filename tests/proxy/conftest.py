"""The proxy (nix/proxy/nginx.conf under Debian's nginx) in front of the real app, and in front
of the stand-in upstream (upstream.py) for what the app cannot show yet."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import servers
from tests.proxy import nginx, upstream
from tests.proxy.nginx import Proxy
from tests.reliability import harness
from tests.service import Service

PROXY_REDIS_DB = 9
LOGIN_RATE_PER_MINUTE = 5
PRODUCT_IMAGE = b"\xff\xd8\xff\xe0 a product photo \xff\xd9"
ATTACHMENT = b"\x89PNG\r\n\x1a\n a customer's photo of a damaged parcel"


@pytest.fixture(scope="session")
def media_root() -> Iterator[Path]:
    """MEDIA_ROOT as the app lays it out: public products/, private attachments/."""
    nginx.find_nginx()
    root = nginx.shared_directory("desideliver-proxy-media-")
    for name, content in (("products/chai.jpg", PRODUCT_IMAGE), ("attachments/parcel.png", ATTACHMENT)):
        path = root / name
        path.parent.mkdir(mode=0o755, exist_ok=True)
        path.write_bytes(content)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def app_environment(
    postgres_server: servers.PostgreSQLExecutor, redis_server: servers.RedisExecutor
) -> Iterator[dict[str, str]]:
    """A production deployment behind one proxy, with one sync worker (so one held worker shows)."""
    nginx.find_nginx()
    static_root = nginx.shared_directory("desideliver-proxy-static-")
    environment = harness.deploy(
        postgres_server,
        redis_server,
        PROXY_REDIS_DB,
        WEB_CONCURRENCY="1",
        TRUSTED_PROXY_COUNT="1",
        THROTTLE_LOGIN_RATE=f"{LOGIN_RATE_PER_MINUTE}/min",
        STATIC_ROOT=str(static_root),
    )
    harness.run_manage(environment, "collectstatic", "--noinput")
    yield environment
    shutil.rmtree(static_root, ignore_errors=True)


@pytest.fixture(scope="session")
def app(app_environment: dict[str, str]) -> Iterator[Service]:
    with harness.serving(app_environment) as service:
        yield service


@pytest.fixture(scope="session")
def proxy(app: Service, app_environment: dict[str, str], media_root: Path) -> Iterator[Proxy]:
    static_root = Path(app_environment["STATIC_ROOT"])
    with nginx.running(f"127.0.0.1:{app.port}", static_root, media_root) as running:
        yield running


@pytest.fixture(scope="session")
def stand_in_proxy(media_root: Path) -> Iterator[Proxy]:
    """The same configuration in front of upstream.py instead of the app."""
    static_root = nginx.shared_directory("desideliver-proxy-no-static-")
    with upstream.serving() as address, nginx.running(address, static_root, media_root) as running:
        yield running
    shutil.rmtree(static_root, ignore_errors=True)
