"""deploy/kubernetes rendered by the real kustomize, and the pieces of the rendered objects tests read.

kustomize comes from `$KUSTOMIZE`, then `.dev/kustomize/usr/bin/kustomize` (what
`bash .ci/install-kustomize` unpacks), then PATH.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
KUBERNETES_DIR = ROOT / "deploy" / "kubernetes"
OVERLAYS = ("base", "overlays/kind", "overlays/production", "overlays/kind-proxy")
PROXY_OVERLAYS = ("overlays/kind-proxy",)  # with components/proxy
MISSING = "kustomize not found: run `bash .ci/install-kustomize` (Debian 13's kustomize 5.6) or set KUSTOMIZE"
APP_COMPONENTS = ("web", "worker", "migrate")
PROXY_COMPONENT = "proxy"
POD_TEMPLATE_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}


@cache
def kustomize_binary() -> str | None:
    candidates = [os.environ.get("KUSTOMIZE", ""), str(ROOT / ".dev/kustomize/usr/bin/kustomize")]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("kustomize")


def build(directory: Path) -> list[dict[str, Any]]:
    """`kustomize build DIRECTORY` as a list of objects; AssertionError with kustomize's message."""
    binary = kustomize_binary()
    assert binary, MISSING
    result = subprocess.run([binary, "build", str(directory)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"kustomize build {directory} failed:\n{result.stderr}"
    return [document for document in yaml.safe_load_all(result.stdout) if document]


@cache
def rendered(overlay: str) -> tuple[dict[str, Any], ...]:
    return tuple(build(KUBERNETES_DIR / overlay))


def find(objects: tuple[dict[str, Any], ...] | list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    matches = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind}/{name}, found {len(matches)}"
    return matches[0]


def component(workload: dict[str, Any]) -> str:
    return str(workload["spec"]["template"]["metadata"]["labels"].get("app.kubernetes.io/component", ""))


def workloads(objects: tuple[dict[str, Any], ...] | list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every object that carries a pod template."""
    return [o for o in objects if o["kind"] in POD_TEMPLATE_KINDS]


def proxy_workloads(objects: tuple[dict[str, Any], ...] | list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [w for w in workloads(objects) if component(w) == PROXY_COMPONENT]


def app_workloads(objects: tuple[dict[str, Any], ...] | list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [w for w in workloads(objects) if component(w) in APP_COMPONENTS]


@dataclass(frozen=True)
class Container:
    workload: dict[str, Any]
    spec: dict[str, Any]
    init: bool

    @property
    def label(self) -> str:
        kind = "initContainer" if self.init else "container"
        return f"{self.workload['kind']}/{self.workload['metadata']['name']} {kind} {self.spec['name']}"

    @property
    def pod(self) -> dict[str, Any]:
        return self.workload["spec"]["template"]["spec"]  # type: ignore[no-any-return]


def containers(workload: dict[str, Any]) -> Iterator[Container]:
    pod = workload["spec"]["template"]["spec"]
    for spec in pod.get("initContainers", []):
        yield Container(workload, spec, init=True)
    for spec in pod["containers"]:
        yield Container(workload, spec, init=False)


def environment(container: Container, objects: tuple[dict[str, Any], ...] | list[dict[str, Any]]) -> dict[str, str]:
    """The variables the container gets: its envFrom ConfigMaps, then its own `env` on top."""
    variables: dict[str, str] = {}
    for source in container.spec.get("envFrom", []):
        assert set(source) == {"configMapRef"}, f"{container.label}: only ConfigMaps feed envFrom ({source})"
        variables.update(find(objects, "ConfigMap", source["configMapRef"]["name"])["data"])
    for variable in container.spec.get("env", []):
        assert "value" in variable, f"{container.label}: {variable['name']} must be a plain value (secrets are files)"
        variables[variable["name"]] = variable["value"]
    return variables
