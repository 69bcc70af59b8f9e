"""The Makefile's stack targets that can run without Docker: secrets, and the guards of up/restore."""

from __future__ import annotations

import os
import shlex
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from tests.compose.compose_cli import ROOT

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def make(*arguments: str) -> subprocess.CompletedProcess[str]:
    # COMPOSE=false: nothing here may reach a Docker engine, even by mistake.
    return subprocess.run(
        ["make", "--no-print-directory", "-s", "-C", str(ROOT), "COMPOSE=false", *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_secrets_are_strong_private_and_never_overwritten(tmp_path: Path) -> None:
    directory = tmp_path / "secrets"
    first = make("secrets", f"SECRETS_DIR={directory}")
    assert first.returncode == 0, first.stderr
    values = {path.name: path.read_text() for path in directory.iterdir()}
    assert set(values) == {"postgres_password", "redis_password", "django_secret_key"}
    assert len(values["postgres_password"]) >= 64
    assert len(values["redis_password"]) >= 64
    assert len(values["django_secret_key"]) >= 50, "production settings need at least 50 characters"
    assert len(set(values.values())) == 3
    for value in values.values():
        assert value.isalnum(), "URL-, shell- and config-safe characters only"
        assert not value.endswith("\n")
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    for path in directory.iterdir():
        # Readable by the containers' users (bind mounts keep the host owner), hidden by the 700 directory.
        assert stat.S_IMODE(path.stat().st_mode) == 0o644

    (directory / "redis_password").write_text("chosen-by-the-operator")
    second = make("secrets", f"SECRETS_DIR={directory}")
    assert second.returncode == 0, second.stderr
    assert (directory / "redis_password").read_text() == "chosen-by-the-operator"
    assert (directory / "postgres_password").read_text() == values["postgres_password"]
    assert second.stdout.count("kept") == 3


def test_an_empty_secret_file_is_an_error_not_a_silent_regeneration(tmp_path: Path) -> None:
    directory = tmp_path / "secrets"
    directory.mkdir()
    (directory / "postgres_password").write_text("")
    result = make("secrets", f"SECRETS_DIR={directory}")
    assert result.returncode != 0
    assert "empty" in result.stderr
    assert (directory / "postgres_password").read_text() == ""


def test_up_without_secrets_says_what_to_run(tmp_path: Path) -> None:
    result = make("up", f"SECRETS_DIR={tmp_path / 'none'}")
    assert result.returncode != 0
    assert "run 'make secrets' first" in result.stderr


def test_restore_refuses_without_confirmation(tmp_path: Path) -> None:
    dump = tmp_path / "desideliver.dump"
    dump.write_bytes(b"PGDMP")
    result = make("restore", f"FILE={dump}")
    assert result.returncode != 0
    assert "refusing" in result.stderr
    assert "CONFIRM=yes" in result.stderr
    missing = make("restore", f"FILE={tmp_path / 'absent.dump'}", "CONFIRM=yes")
    assert missing.returncode != 0
    assert "usage" in missing.stderr


def test_stack_targets_call_compose_as_documented() -> None:
    dry = subprocess.run(
        ["make", "-n", "-C", str(ROOT), "up", "backup", "DEV_PORTS=1"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert dry.returncode == 0, dry.stderr
    assert "docker compose -f compose.yaml -f compose.dev.yaml up --detach --wait" in dry.stdout
    assert "config --format json web" in dry.stdout, "up checks the image compose itself resolves for web"
    assert "pg_dump" in dry.stdout
    assert "--format=custom" in dry.stdout


def test_without_dev_ports_no_file_is_named_so_compose_file_in_env_applies() -> None:
    dry = subprocess.run(["make", "-n", "-C", str(ROOT), "ps"], capture_output=True, text=True, timeout=60, check=False)
    assert dry.returncode == 0, dry.stderr
    assert "docker compose  ps --all" in dry.stdout
    assert "-f compose.yaml" not in dry.stdout


@pytest.fixture
def secrets_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "secrets"
    assert make("secrets", f"SECRETS_DIR={directory}").returncode == 0
    return directory


def test_createsuperuser_without_a_terminal_says_how_instead_of_doing_nothing(secrets_dir: Path) -> None:
    result = make("createsuperuser", f"SECRETS_DIR={secrets_dir}")
    assert result.returncode != 0
    assert "ADMIN_EMAIL=… ADMIN_PASSWORD_FILE=…" in result.stderr
    no_password = make("createsuperuser", f"SECRETS_DIR={secrets_dir}", "ADMIN_EMAIL=ops@example.com")
    assert no_password.returncode != 0
    assert "ADMIN_PASSWORD_FILE must name a non-empty file" in no_password.stderr


def test_up_checks_the_tag_compose_will_run(compose: tuple[str, ...], tmp_path: Path) -> None:
    """DESIDELIVER_TAG in .env (docs/operations.md) is what compose runs, so it is what up checks."""
    for name in ("Makefile", "compose.yaml", "compose.dev.yaml", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / ".env").write_text("DESIDELIVER_TAG=7.7.7-rc1\n")
    assert make("-C", str(tmp_path), "secrets").returncode == 0
    result = subprocess.run(
        ["make", "--no-print-directory", "-s", "-C", str(tmp_path), f"COMPOSE={shlex.join(compose)}", "up"],
        capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock"},  # never a real engine
    )  # fmt: skip
    assert result.returncode != 0
    assert "image desideliver:7.7.7-rc1 is not loaded" in result.stderr, result.stderr
