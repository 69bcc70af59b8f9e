"""Compose tests need only the Compose v2 binary (no Docker engine); without it they skip."""

from __future__ import annotations

from typing import Any

import pytest

from tests.compose import compose_cli


@pytest.fixture(scope="session")
def compose() -> tuple[str, ...]:
    command = compose_cli.compose_command()
    if command is None:
        pytest.skip(compose_cli.MISSING)
    return command


@pytest.fixture(scope="session")
def default_model(compose: tuple[str, ...]) -> dict[str, Any]:
    """compose.yaml resolved with no .env at all: the defaults a fresh clone runs with."""
    return compose_cli.resolved()


@pytest.fixture(scope="session")
def example_model(compose: tuple[str, ...]) -> dict[str, Any]:
    """compose.yaml resolved with .env.example as the .env."""
    return compose_cli.resolved(env_file=compose_cli.ENV_EXAMPLE)


@pytest.fixture(scope="session")
def dev_model(compose: tuple[str, ...]) -> dict[str, Any]:
    """compose.yaml + compose.dev.yaml (db and redis published on loopback)."""
    return compose_cli.resolved(files=(compose_cli.COMPOSE_FILE, compose_cli.DEV_FILE))
