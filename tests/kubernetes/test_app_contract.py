"""The manifests and the app agree: variables, secret files, commands, probes, image, sizing.

The app's side is read from the app itself wherever it can run here: the production settings
loaded from each container's rendered environment (tests/kubernetes/settings_probe.py), the
probe paths through Django's URL resolver and test client, the commands through the CLI's own
parser, the worker count through gunicorn_conf with the CPU quota file the kubelet would write.
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.urls import resolve

from desideliver import cli, gunicorn_conf
from tests.kubernetes import manifests, policy, project
from tests.kubernetes.manifests import OVERLAYS, PROXY_OVERLAYS, ROOT, Container
from tests.kubernetes.project import SECRETS_DIR

# Variables the image sets (nix/image.nix), which the manifests must not override.
SET_BY_IMAGE = {"STATIC_ROOT", "PORT", "DJANGO_SETTINGS_MODULE"}
SECRET_LIKE = re.compile(r"(PASSWORD|SECRET|TOKEN|_KEY)$")
# Requests as the ingress controller (pod 10.244.1.5) forwards them: the client's own header, if
# any, with the address the controller saw appended.
INGRESS_PEER = "10.244.1.5"
FORWARDED = [(INGRESS_PEER, "203.0.113.9"), (INGRESS_PEER, "198.51.100.7, 192.0.2.1, 203.0.113.9")]


def app_containers(overlay: str) -> list[Container]:
    return [c for w in manifests.app_workloads(manifests.rendered(overlay)) for c in manifests.containers(w)]


def web_container(overlay: str) -> Container:
    web = manifests.find(manifests.rendered(overlay), "Deployment", "web")
    return next(c for c in manifests.containers(web) if c.spec["name"] == "web")


@pytest.fixture(scope="module")
def secret_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """compose.yaml's secrets as files, as `kubectl create secret generic --from-file=secrets/` mounts them."""
    directory = tmp_path_factory.mktemp("run-secrets")
    files = {}
    for index, name in enumerate(project.compose()["secrets"]):
        files[name] = directory / name
        files[name].write_text(f"kubernetes-contract-{name}-{index}-" + "x7Q2" * 16 + "\n")
    return files


@pytest.fixture(scope="module")
def static_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("static-root")


@pytest.fixture(scope="module")
def settings_reports(
    kustomize: str, secret_files: dict[str, Path], static_root: Path
) -> dict[tuple[str, str], dict[str, Any]]:
    """(overlay, container label) -> the production settings loaded from that container's environment."""
    reports = {}
    by_environment: dict[frozenset[tuple[str, str]], dict[str, Any]] = {}  # worker, migrate: the same
    for overlay in OVERLAYS:
        objects = manifests.rendered(overlay)
        for container in app_containers(overlay):
            variables = project.container_environment(
                manifests.environment(container, objects), secret_files, static_root
            )
            key = frozenset(variables.items())
            if key not in by_environment:
                by_environment[key] = project.run_settings_probe(variables, forwarded=FORWARDED)
            reports[overlay, container.label] = by_environment[key]
    return reports


# --- Variables ----------------------------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_production_settings_accept_every_app_containers_environment(
    settings_reports: dict[tuple[str, str], dict[str, Any]], overlay: str
) -> None:
    for container in app_containers(overlay):
        report = settings_reports[overlay, container.label]
        assert report["problems"] is None, f"{container.label}: {report['problems']}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_app_reads_every_variable_the_manifests_set(
    settings_reports: dict[tuple[str, str], dict[str, Any]], overlay: str
) -> None:
    """A misspelt or stale variable would be silently ignored by the app: none may be set."""
    objects = manifests.rendered(overlay)
    for container in app_containers(overlay):
        read = set(settings_reports[overlay, container.label]["read"])
        assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL"} <= read, "the probe observed the reader"
        for name in manifests.environment(container, objects):
            assert name.removesuffix("_FILE") in read, f"{container.label}: the app never reads {name}"
            assert name not in SET_BY_IMAGE, f"{container.label}: {name} is the image's (nix/image.nix)"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_variables_have_compose_names_and_secrets_compose_paths(overlay: str, kustomize: str) -> None:
    """One contract with compose.yaml: the same variable names, the same /run/secrets/NAME files."""
    compose_environment = project.compose_environment("web")
    compose_secrets = set(project.compose()["secrets"])
    objects = manifests.rendered(overlay)
    for container in app_containers(overlay):
        environment = manifests.environment(container, objects)
        unknown = set(environment) - set(compose_environment)
        assert not unknown, f"{container.label}: {sorted(unknown)} are not in compose.yaml's x-app-environment"
        files = {name: value for name, value in environment.items() if name.endswith("_FILE")}
        compose_files = {name: value for name, value in compose_environment.items() if name.endswith("_FILE")}
        assert files == compose_files, f"{container.label}: secret files differ from compose.yaml"
        assert {Path(path).name for path in files.values()} == compose_secrets
        for name, value in environment.items():
            assert not SECRET_LIKE.search(name), f"{container.label}: {name} carries a secret; use {name}_FILE"
            if "://" in value:
                assert urlsplit(value).password is None, f"{container.label}: {name} has a password in its URL"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_secrets_are_one_secret_mounted_where_the_files_point(overlay: str, kustomize: str) -> None:
    compose_secrets = set(project.compose()["secrets"])
    for workload in manifests.workloads(manifests.rendered(overlay)):
        for volume in workload["spec"]["template"]["spec"].get("volumes", []):
            if "secret" in volume:
                assert volume["secret"]["secretName"] == "desideliver-secrets"
                assert volume["secret"]["defaultMode"] == 0o440
                keys = {item["key"] for item in volume["secret"].get("items", [])}
                assert keys <= compose_secrets, f"{workload['metadata']['name']}: {keys - compose_secrets}"
    for container in app_containers(overlay):
        mounts = {m["mountPath"] for m in container.spec["volumeMounts"]}
        assert SECRETS_DIR in mounts, container.label


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_behind_the_ingress_controller_the_client_is_the_address_it_appended(
    settings_reports: dict[tuple[str, str], dict[str, Any]], overlay: str
) -> None:
    """TRUSTED_PROXY_COUNT=1 (base/app.env): what the client wrote to X-Forwarded-For doesn't count."""
    for container in app_containers(overlay):
        report = settings_reports[overlay, container.label]
        assert "TRUSTED_PROXY_COUNT" in report["read"]
        assert report["client_addresses"] == ["203.0.113.9", "203.0.113.9"], container.label


def test_a_misspelt_variable_is_caught(kustomize: str, secret_files: dict[str, Path], static_root: Path) -> None:
    """The check above can fail: a variable the app does not read is reported as such."""
    container = web_container("base")
    environment = {**manifests.environment(container, manifests.rendered("base")), "WEB_CONCURENCY": "3"}
    report = project.run_settings_probe(project.container_environment(environment, secret_files, static_root))
    assert "WEB_CONCURRENCY" in report["read"]
    assert "WEB_CONCURENCY" not in report["read"]


def test_a_missing_secret_file_is_refused_before_serving(
    kustomize: str, secret_files: dict[str, Path], static_root: Path
) -> None:
    container = web_container("base")
    environment = project.container_environment(
        manifests.environment(container, manifests.rendered("base")), secret_files, static_root
    )
    environment["SECRET_KEY_FILE"] = "/run/secrets/absent"
    problems = project.run_settings_probe(environment)["problems"]
    assert problems is not None
    assert "SECRET_KEY_FILE=/run/secrets/absent cannot be read" in problems


# --- Commands and image ---------------------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_commands_are_the_cli_and_composes(overlay: str, kustomize: str) -> None:
    """`args` only (the image's entrypoint stays), each one a command the CLI accepts, as in compose."""
    compose_services = project.compose()["services"]
    for container in app_containers(overlay):
        assert "command" not in container.spec, f"{container.label}: would replace /bin/desideliver"
        args = container.spec["args"]
        name = container.spec["name"]
        if name in compose_services and not container.init:
            assert args == compose_services[name]["command"], f"{container.label}: compose's {name} runs otherwise"
        cli.parser().parse_args(args)  # exits (fails the test) for a command the CLI doesn't have


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_workers_liveness_probe_is_composes_healthcheck_through_the_launcher(overlay: str, kustomize: str) -> None:
    """exec, no shell: the image's entrypoint itself, with a subcommand the CLI has."""
    worker = manifests.find(manifests.rendered(overlay), "Deployment", "worker")
    (container,) = manifests.containers(worker)
    command = container.spec["livenessProbe"]["exec"]["command"]
    assert command[:1] == project.nix_image()["entrypoint"]
    cli.parser().parse_args(command[1:])
    compose_test = project.compose()["services"]["worker"]["healthcheck"]["test"]
    assert compose_test == ["CMD", "desideliver", *command[1:]]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_image_is_the_flakes(overlay: str, kustomize: str) -> None:
    image = project.nix_image()
    assert image["entrypoint"] == ["/bin/desideliver"]
    expected = f"{image['name']}:{image['tag']}"
    for container in app_containers(overlay):
        reference = container.spec["image"]
        if overlay == "overlays/production":
            assert re.fullmatch(rf"[a-z0-9.-]+(:\d+)?/{expected}@sha256:[0-9a-f]{{64}}", reference), reference
        else:
            assert reference == expected, container.label
    for workload in manifests.app_workloads(manifests.rendered(overlay)):
        context = workload["spec"]["template"]["spec"]["securityContext"]
        assert (context["runAsUser"], context["runAsGroup"]) == image["user"]


@pytest.mark.parametrize("overlay", PROXY_OVERLAYS)
def test_proxy_image_is_the_flakes(overlay: str, kustomize: str) -> None:
    image = project.nix_proxy_image()
    assert image["user"] == policy.PROXY_USER
    (proxy,) = manifests.proxy_workloads(manifests.rendered(overlay))
    (container,) = manifests.containers(proxy)
    assert container.spec["image"] == f"{image['name']}:{image['tag']}"
    assert not {"command", "args"} & set(container.spec), "the image's entrypoint runs nginx"
    context = proxy["spec"]["template"]["spec"]["securityContext"]
    assert (context["runAsUser"], context["runAsGroup"]) == image["user"]
    for kind in ("startupProbe", "livenessProbe", "readinessProbe"):
        probe = container.spec[kind]["httpGet"]
        assert probe["path"] == "/proxy-health", kind
        assert probe_port(container, container.spec[kind]) == image["port"], kind


@pytest.mark.parametrize("overlay", PROXY_OVERLAYS)
def test_behind_the_proxy_the_app_redirects_attachments_to_its_internal_location(
    settings_reports: dict[tuple[str, str], dict[str, Any]], overlay: str
) -> None:
    """MEDIA_ACCEL_REDIRECT_PREFIX is nginx.conf's `internal` location; the settings accept it."""
    objects = manifests.rendered(overlay)
    web = web_container(overlay)
    assert manifests.environment(web, objects)["MEDIA_ACCEL_REDIRECT_PREFIX"] == project.nginx_internal_media_location()
    assert settings_reports[overlay, web.label]["problems"] is None


@pytest.mark.parametrize("overlay", PROXY_OVERLAYS)
def test_behind_the_proxy_the_client_is_the_address_the_proxy_wrote(
    kustomize: str, overlay: str, secret_files: dict[str, Path], static_root: Path
) -> None:
    """nginx.conf REPLACES X-Forwarded-For with its peer's address: web sees one entry, so
    TRUSTED_PROXY_COUNT stays 1. (A 2 would take the same entry here, but would trust a forged
    one the day the proxy appended instead.)"""
    objects = manifests.rendered(overlay)
    web = web_container(overlay)
    environment = manifests.environment(web, objects)
    assert environment["TRUSTED_PROXY_COUNT"] == "1"
    proxy_peer = "10.244.1.9"  # the proxy pod; what nginx writes is the address it saw
    report = project.run_settings_probe(
        project.container_environment(environment, secret_files, static_root),
        forwarded=[(proxy_peer, "203.0.113.9"), (proxy_peer, "10.244.1.5")],
    )
    assert report["client_addresses"] == ["203.0.113.9", "10.244.1.5"]


# --- Probes -------------------------------------------------------------------------------------


def probes(container: Container) -> dict[str, dict[str, Any]]:
    return {kind: container.spec[kind] for kind in ("startupProbe", "livenessProbe", "readinessProbe")}


def probe_port(container: Container, probe: dict[str, Any]) -> int:
    port = probe["httpGet"]["port"]
    if isinstance(port, int):
        return port
    named = {p["name"]: p["containerPort"] for p in container.spec.get("ports", [])}
    assert port in named, f"{container.label}: probe port {port} is not a container port"
    return int(named[port])


def probe_host(probe: dict[str, Any], port: int) -> str:
    """The Host header the kubelet sends: the probe's own, else the pod's IP and port."""
    headers = {h["name"].lower(): h["value"] for h in probe["httpGet"].get("httpHeaders", [])}
    return str(headers.get("host", f"10.244.0.7:{port}"))


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_probes_hit_the_apps_health_views_on_its_port(overlay: str, kustomize: str) -> None:
    container = web_container(overlay)
    found = probes(container)
    expected_views = {"startupProbe": "health", "livenessProbe": "health", "readinessProbe": "ready"}
    image_port = int(project.nix_image()["env"]["PORT"])
    for kind, probe in found.items():
        match = resolve(probe["httpGet"]["path"])  # the project's URLconf (ROOT_URLCONF)
        assert match.url_name == expected_views[kind], f"{kind}: {probe['httpGet']['path']} is {match.url_name}"
        assert probe_port(container, probe) == image_port
        assert probe["timeoutSeconds"] >= 2
    assert found["readinessProbe"]["timeoutSeconds"] > 3, "readiness may wait DATABASE_CONNECT_TIMEOUT (3 s)"
    assert "PORT" not in manifests.environment(container, manifests.rendered(overlay))


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_liveness_and_startup_probes_pass_host_validation(
    overlay: str, kustomize: str, secret_files: dict[str, Path], static_root: Path
) -> None:
    """Through the production settings' ALLOWED_HOSTS: the probes' Host passes; the pod IP would not."""
    container = web_container(overlay)
    environment = project.container_environment(
        manifests.environment(container, manifests.rendered(overlay)), secret_files, static_root
    )
    no_io = [probes(container)["startupProbe"], probes(container)["livenessProbe"]]
    requests = [(p["httpGet"]["path"], probe_host(p, probe_port(container, p))) for p in no_io]
    requests.append(("/health/", "10.244.0.7:8000"))  # a probe without the header
    statuses = project.run_settings_probe(environment, get=requests)["statuses"]
    assert statuses == [200, 200, 400]


# --- Sizing and shutdown ------------------------------------------------------------------------


def quantity_cpus(value: str) -> float:
    return int(value[:-1]) / 1000 if value.endswith("m") else float(value)


def quantity_mib(value: str) -> float:
    units = {"Mi": 1, "Gi": 1024, "M": 1e6 / 2**20, "G": 1e9 / 2**20}
    number, unit = re.fullmatch(r"(\d+)([A-Za-z]*)", value).groups()  # type: ignore[union-attr]
    return int(number) * units[unit]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_web_concurrency_is_what_gunicorn_picks_for_the_cpu_limit(
    overlay: str, kustomize: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    container = web_container(overlay)
    limit = quantity_cpus(container.spec["resources"]["limits"]["cpu"])
    period = 100_000  # the kubelet writes quota = limit * period into the container's cpu.max
    cpu_max = tmp_path / "cpu.max"
    cpu_max.write_text(f"{math.ceil(limit * period)} {period}\n")
    real_available_cpus = gunicorn_conf.available_cpus
    monkeypatch.setattr(gunicorn_conf, "available_cpus", lambda: real_available_cpus(cpu_max))
    if limit > len(os.sched_getaffinity(0)):
        pytest.skip(f"this machine has fewer CPUs than the {limit}-CPU limit")
    concurrency = int(manifests.environment(container, manifests.rendered(overlay))["WEB_CONCURRENCY"])
    assert concurrency == gunicorn_conf.default_workers()


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_memory_limit_fits_the_measured_workers(overlay: str, kustomize: str) -> None:
    """bench/results/latest.json: master and per-worker RSS after load (MiB), and /tmp in memory."""
    memory = json.loads((ROOT / "bench/results/latest.json").read_text())["memory_after_load"]
    container = web_container(overlay)
    resources = container.spec["resources"]
    limit = quantity_mib(resources["limits"]["memory"])
    assert resources["requests"] == resources["limits"], "Guaranteed QoS: requests = limits"
    workers = int(manifests.environment(container, manifests.rendered(overlay))["WEB_CONCURRENCY"])
    tmp = quantity_mib(next(v for v in container.pod["volumes"] if v["name"] == "tmp")["emptyDir"]["sizeLimit"])
    needed = memory["master_rss_mb"] + workers * memory["worker_rss_max_mb"] + tmp
    assert needed <= limit <= 2 * needed, f"{limit} MiB for {needed:.0f} MiB measured"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_termination_grace_outlasts_the_pause_and_gunicorns_graceful_stop(
    overlay: str, settings_reports: dict[tuple[str, str], dict[str, Any]]
) -> None:
    container = web_container(overlay)
    pause = container.spec["lifecycle"]["preStop"]["sleep"]["seconds"]
    graceful = settings_reports[overlay, container.label]["gunicorn"]["graceful_timeout"]
    grace = container.pod["terminationGracePeriodSeconds"]
    assert pause >= 3, "endpoints need a few seconds to drop the pod"
    assert grace > pause + graceful, f"{grace} s ≤ preStop {pause} s + graceful {graceful} s"
    workers = settings_reports[overlay, container.label]["gunicorn"]["workers"]
    assert workers == int(manifests.environment(container, manifests.rendered(overlay))["WEB_CONCURRENCY"])
