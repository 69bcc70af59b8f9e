"""Fixtures for the container tests: a real Docker Engine, the stand-in images, compose stacks.

Skipped, with the reason, when no engine can be had (not root and no DOCKER_HOST, no network for
the engine's packages, …); with DESIDELIVER_REQUIRE_DOCKER=1 (CI) that is a failure instead.
Teardown runs also when tests fail: every stack is taken down with its volumes, then the
private daemon is stopped by its PID and its data root (all images) deleted.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.container import engine as engine_module
from tests.container import images
from tests.container.stack import Stack


@pytest.fixture(scope="session")
def engine() -> Iterator[engine_module.Engine]:
    try:
        engine = engine_module.start()
    except engine_module.Unavailable as reason:
        if os.environ.get("DESIDELIVER_REQUIRE_DOCKER") == "1":
            pytest.fail(f"DESIDELIVER_REQUIRE_DOCKER=1 but no Docker Engine: {reason}")
        pytest.skip(f"no Docker Engine: {reason}")
    try:
        yield engine
    finally:
        engine.stop()


@pytest.fixture(scope="session")
def standin_images(engine: engine_module.Engine) -> dict[str, str]:
    """compose.yaml's image variables, naming the stand-ins loaded into the engine."""
    return images.build_all([engine.docker], engine.environment)


@pytest.fixture(scope="module")
def make_stack(
    engine: engine_module.Engine, standin_images: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., Stack]]:
    """Stack factory; every stack it made is taken down with its volumes at the module's end."""
    made: list[Stack] = []

    def make(**settings: str) -> Stack:
        directory = Path(tmp_path_factory.mktemp("stack"))
        stack = Stack.create(engine, directory, standin_images, **settings)
        made.append(stack)
        return stack

    try:
        yield make
    finally:
        for stack in made:
            stack.down()
