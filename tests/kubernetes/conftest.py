"""The Kubernetes tests need only kustomize (no cluster); without it they skip, except in CI."""

from __future__ import annotations

import os

import pytest

from tests.kubernetes import manifests


@pytest.fixture(scope="session")
def kustomize() -> str:
    binary = manifests.kustomize_binary()
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{manifests.MISSING} (CI installs it: .ci/run)")
        pytest.skip(manifests.MISSING)
    return binary
