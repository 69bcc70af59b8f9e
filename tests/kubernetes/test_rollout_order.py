"""The migration ordering, run for real: a new web pod takes no traffic until the Job has migrated.

The kind overlay's web container and migrate Job run as local processes with their rendered
argv (the image's entrypoint + `args`) and environment (the image's Env + ConfigMap + env),
against this test session's real PostgreSQL and a Redis of this module's own with the secret
file's password. Only what cannot exist outside a cluster is replaced: the hosts `db`/`redis`
by the local servers, /run/secrets/NAME by local files, the port by a free one on 127.0.0.1.
The kubelet's HTTP probes are sent as the kubelet sends them (path, port, httpHeaders; success is
200-399). What needs a cluster: the kubelet, the rollout controller, Service endpoints.
"""

from __future__ import annotations

import http.client
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import port_for
import psycopg
import pytest
from devtools.service import collected_static_root, media_root
from pytest_redis.executor import RedisExecutor

from tests import servers
from tests.kubernetes import manifests, project
from tests.kubernetes.manifests import Container
from tests.service import Service

pytestmark = pytest.mark.slow
OVERLAY = "overlays/kind"


@pytest.fixture(scope="module")
def secret_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("run-secrets")
    files = {}
    for name in project.compose()["secrets"]:
        files[name] = directory / name
        files[name].write_text(f"rollout-{name}-" + "k8sR0ll" * 10 + "\n")
    return files


@pytest.fixture(scope="module")
def password_redis(secret_files: dict[str, Path]) -> Iterator[RedisExecutor]:
    workdir = Path(tempfile.mkdtemp(prefix="desideliver-k8s-redis-"))
    server = servers.redis(workdir, password=secret_files["redis_password"].read_text().strip())
    with server:
        yield server
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def database(postgres_server: servers.PostgreSQLExecutor) -> str:
    name = "k8s_rollout"
    admin = f"host={postgres_server.host} port={postgres_server.port} user={postgres_server.user} dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name}")
        connection.execute(f"CREATE DATABASE {name}")
    return servers.database_url(postgres_server, name)


MEDIA_ROOT = "/var/lib/desideliver/media"  # settings/media.py's default


def local(
    container: Container,
    secret_files: dict[str, Path],
    database_url: str,
    redis: RedisExecutor,
) -> tuple[list[str], dict[str, str]]:
    """The container's argv and environment, as a local process against the local servers."""
    variables = project.container_environment(
        manifests.environment(container, manifests.rendered(OVERLAY)), secret_files, Path(collected_static_root())
    )
    assert urlsplit(variables["DATABASE_URL"]).hostname == "db"
    assert urlsplit(variables["REDIS_URL"]).hostname == "redis"
    variables["DATABASE_URL"] = database_url
    parts = urlsplit(variables["REDIS_URL"])
    variables["REDIS_URL"] = urlunsplit(parts._replace(netloc=f"{redis.host}:{redis.port}"))
    variables["BIND_HOST"] = "127.0.0.1"
    variables["PORT"] = str(port_for.select_random())
    variables["PATH"] = "/usr/bin:/bin"
    if any(mount["mountPath"] == MEDIA_ROOT for mount in container.spec.get("volumeMounts", [])):
        variables["MEDIA_ROOT"] = media_root()  # the claim mounted at MEDIA_ROOT, as a local directory
    return [sys.executable, "-m", "desideliver", *container.spec["args"]], variables


def kubelet_probe(port: int, probe: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    get = probe["httpGet"]
    headers = {h["name"]: h["value"] for h in get.get("httpHeaders", [])}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=probe["timeoutSeconds"])
    try:
        connection.request("GET", get["path"], headers={"User-Agent": "kube-probe/1.37", **headers})
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    return response.status, json.loads(body) if body.startswith(b"{") else {}


def test_web_is_not_ready_until_the_migration_job_has_run(
    kustomize: str,
    secret_files: dict[str, Path],
    password_redis: RedisExecutor,
    database: str,
    tmp_path: Path,
) -> None:
    objects = manifests.rendered(OVERLAY)
    web = next(c for c in manifests.containers(manifests.find(objects, "Deployment", "web")) if not c.init)
    job = list(manifests.containers(manifests.find(objects, "Job", "migrate")))
    assert [c.init for c in job] == [True, False], "wait-for-db, then migrate"

    argv, environment = local(web, secret_files, database, password_redis)
    service = Service(environment, argv)
    service.start(ready_path="/health/")
    try:
        port = service.port
        startup, liveness, readiness = (web.spec[k] for k in ("startupProbe", "livenessProbe", "readinessProbe"))
        assert kubelet_probe(port, startup)[0] == 200
        assert kubelet_probe(port, liveness)[0] == 200
        status, body = kubelet_probe(port, readiness)
        assert status == 503, "before the Job, the new pod must not take traffic"
        assert body["checks"]["migrations"]["state"] == "failing"

        for container in job:
            job_argv, job_environment = local(container, secret_files, database, password_redis)
            result = subprocess.run(job_argv, env=job_environment, capture_output=True, text=True, timeout=180)
            assert result.returncode == 0, f"{container.label}:\n{result.stdout}\n{result.stderr}"
            if container.init:
                assert "database is ready" in result.stdout

        status, body = kubelet_probe(port, readiness)
        assert status == 200, body
        # Redis answered with the password from the secret file (a wrong one would be "degraded").
        assert {name: check["state"] for name, check in body["checks"].items()} == {
            "database": "ok",
            "migrations": "ok",
            "redis": "ok",
        }
    finally:
        assert service.stop() == 0, service.log()


def exec_probe(probe: dict[str, Any], environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """An exec probe as the kubelet runs it in the container, within its timeoutSeconds.

    `/bin/desideliver` is the image's launcher for `python -m desideliver` (nix/image.nix).
    """
    command = probe["exec"]["command"]
    assert command[0] == "/bin/desideliver"
    argv = [sys.executable, "-m", "desideliver", *command[1:]]
    return subprocess.run(argv, env=environment, capture_output=True, text=True, timeout=probe["timeoutSeconds"])


def probe_until(probe: dict[str, Any], environment: dict[str, str], returncode: int, within: float) -> str:
    deadline = time.monotonic() + within
    while True:
        result = exec_probe(probe, environment)
        if result.returncode == returncode:
            return result.stdout + result.stderr
        assert time.monotonic() < deadline, f"probe still exits {result.returncode}: {result.stderr}"
        time.sleep(0.5)


def test_the_workers_liveness_probe_follows_its_heartbeat(
    kustomize: str,
    secret_files: dict[str, Path],
    password_redis: RedisExecutor,
    database: str,
    tmp_path: Path,
) -> None:
    """The worker Deployment's container and probe, run for real: healthy while the worker works,
    failing once it is gone (SIGKILL: the kubelet would restart the container)."""
    objects = manifests.rendered(OVERLAY)
    for container in manifests.containers(manifests.find(objects, "Job", "migrate")):
        job_argv, job_environment = local(container, secret_files, database, password_redis)
        result = subprocess.run(job_argv, env=job_environment, capture_output=True, text=True, timeout=180)
        assert result.returncode == 0, f"{container.label}:\n{result.stdout}\n{result.stderr}"
    (worker,) = manifests.containers(manifests.find(objects, "Deployment", "worker"))
    probe = worker.spec["livenessProbe"]
    argv, environment = local(worker, secret_files, database, password_redis)
    # The container's /tmp, and a 1 s heartbeat (valid for 3) so that a dead worker shows in seconds.
    environment["WORKER_HEARTBEAT_FILE"] = str(tmp_path / "desideliver-worker.alive")
    environment["JOBS_HEARTBEAT_SECONDS"] = "1"

    assert "no worker heartbeat" in probe_until(probe, environment, 1, within=0)
    with (tmp_path / "worker.log").open("w") as log:
        process = subprocess.Popen(argv, env=environment, stdout=log, stderr=subprocess.STDOUT)
    try:
        assert "healthy: worker" in probe_until(probe, environment, 0, within=30)
        process.kill()
        process.wait(timeout=10)
        assert "overdue" in probe_until(probe, environment, 1, within=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
