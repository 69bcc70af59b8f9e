"""Production mode as a user first starts it: bad values fail before serving, plain HTTP is explained."""

import json
import subprocess
import tempfile

import pytest

from tests import servers
from tests.reliability.harness import request
from tests.service import Service, desideliver_command, production_environment

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def environment(postgres_server, redis_server):
    return production_environment(servers.database_url(postgres_server, "postgres"), servers.redis_url(redis_server, 5))


def serve(environment, timeout=60):
    return subprocess.run(
        desideliver_command("serve"), env=environment, capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.parametrize("port", ["99999", "0", "eighty"])
def test_an_impossible_port_is_in_the_configuration_report(environment, port):
    result = serve({**environment, "PORT": port, "SECRET_KEY": "short"})
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "PORT:" in result.stderr
    assert "SECRET_KEY:" in result.stderr, "one message lists every problem"


def test_uncollected_static_files_stop_the_start_before_serving(environment):
    with tempfile.TemporaryDirectory() as empty:
        result = serve({**environment, "STATIC_ROOT": empty})
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"STATIC_ROOT={empty} has no staticfiles.json" in result.stderr
    assert "collectstatic" in result.stderr


def test_the_https_redirect_says_why_in_its_body(environment):
    service = Service({**environment, "SECURE_SSL_REDIRECT": "true", "WEB_CONCURRENCY": "1"}).start()
    try:
        reply = request(service.base_url, "POST", "/api/auth/login/", body={"email": "a@example.com"})
        health = request(service.base_url, "GET", "/health/")
    finally:
        service.stop()
    assert reply.status == 301
    assert reply.headers["location"].startswith("https://")
    body = json.loads(reply.body)
    assert body["code"] == "https_required"
    assert "SECURE_SSL_REDIRECT=false" in body["detail"]
    assert "X-Forwarded-Proto" in body["detail"]
    assert health.status == 200, "health stays reachable over plain HTTP (exempt), hence the explanation"
