"""Make targets that need a tool say which one is missing, and a stopped Docker engine is named as such.

The Docker CLI here is real; its engine is made unreachable by pointing DOCKER_HOST at a socket
nobody listens on, which is what a stopped daemon looks like to the CLI.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAKE = shutil.which("make")

pytestmark = pytest.mark.skipif(MAKE is None, reason="make is not installed")


def make(*arguments: str, path: str | None = None, **environment: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **environment, **({"PATH": path} if path else {})}
    return subprocess.run(
        [str(MAKE), "--no-print-directory", "-s", "-C", str(ROOT), *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )


@pytest.fixture
def secrets(tmp_path: Path) -> Path:
    for name in ("postgres_password", "redis_password", "django_secret_key"):
        (tmp_path / name).write_text("x" * 64)
    return tmp_path


@pytest.fixture
def bare_path(tmp_path: Path) -> str:
    """A PATH with bash only: every other tool a target checks for is missing."""
    directory = tmp_path / "bin"
    directory.mkdir()
    bash = shutil.which("bash")
    assert bash
    (directory / "bash").symlink_to(bash)
    return str(directory)


@pytest.mark.skipif(shutil.which("docker") is None, reason="needs the Docker CLI (no engine needed)")
def test_up_with_the_engine_stopped_says_so_not_image_missing(secrets: Path, tmp_path: Path) -> None:
    result = make("up", f"SECRETS_DIR={secrets}", DOCKER_HOST=f"unix://{tmp_path}/no-engine.sock")
    assert result.returncode != 0
    assert "engine is not running" in result.stderr
    assert "no-engine.sock" in result.stderr, "docker's own reason, naming the socket, is passed on"
    assert "not loaded" not in result.stderr


@pytest.mark.parametrize(("target", "tool"), [("up", "docker"), ("image", "nix"), ("ps", "docker")])
def test_targets_name_the_missing_tool_and_how_to_get_it(secrets: Path, bare_path: str, target: str, tool: str) -> None:
    result = make(target, f"SECRETS_DIR={secrets}", path=bare_path)
    assert result.returncode != 0
    assert f"{tool} not found: install" in result.stderr


def test_image_passes_the_nix_feature_flags() -> None:
    dry = make("-n", "image")
    assert dry.returncode == 0, dry.stderr
    assert "nix --extra-experimental-features 'nix-command flakes' build .#image" in dry.stdout
