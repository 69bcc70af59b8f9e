"""Every overlay renders with the real kustomize and validates strictly against the API's schemas.

No cluster runs here: this is what `kubectl apply --dry-run=server` would reject for shape
(unknown or mistyped fields) and what PodSecurity admission at `restricted` would refuse.
A real API server's defaulting, admission webhooks and scheduling are not exercised.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from tests.kubernetes import manifests, policy
from tests.kubernetes.manifests import KUBERNETES_DIR, OVERLAYS, PROXY_OVERLAYS


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("version", policy.KUBERNETES_VERSIONS)
def test_overlay_validates_strictly(kustomize: str, overlay: str, version: str) -> None:
    objects = manifests.rendered(overlay)
    assert len(objects) >= 12, f"{overlay} rendered only {len(objects)} objects"
    problems = [problem for obj in objects for problem in policy.schema_violations(obj, version)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_meets_the_restricted_standard(kustomize: str, overlay: str) -> None:
    objects = manifests.rendered(overlay)
    workloads = manifests.workloads(objects)
    assert {manifests.component(w) for w in workloads} >= set(manifests.APP_COMPONENTS)
    problems = [problem for workload in workloads for problem in policy.restricted_violations(workload)]
    assert not problems, "\n".join(problems)
    app_problems = [p for workload in manifests.app_workloads(objects) for p in policy.app_pod_violations(workload)]
    assert not app_problems, "\n".join(app_problems)
    proxies = manifests.proxy_workloads(objects)
    assert len(proxies) == (1 if overlay in PROXY_OVERLAYS else 0), overlay
    proxy_problems = [p for workload in proxies for p in policy.proxy_pod_violations(workload)]
    assert not proxy_problems, "\n".join(proxy_problems)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_namespace_enforces_restricted_and_holds_everything(kustomize: str, overlay: str) -> None:
    objects = manifests.rendered(overlay)
    namespace = manifests.find(objects, "Namespace", "desideliver")
    labels = namespace["metadata"]["labels"]
    for mode in ("enforce", "warn", "audit"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"
    outside = [
        o["metadata"]["name"]
        for o in objects
        if o["kind"] != "Namespace" and o["metadata"].get("namespace") != "desideliver"
    ]
    assert not outside, f"objects outside the restricted namespace: {outside}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_pod_gets_an_api_token(kustomize: str, overlay: str) -> None:
    objects = manifests.rendered(overlay)
    account = manifests.find(objects, "ServiceAccount", "desideliver")
    assert account["automountServiceAccountToken"] is False
    for workload in manifests.workloads(objects):
        pod = workload["spec"]["template"]["spec"]
        assert pod.get("automountServiceAccountToken") is False, workload["metadata"]["name"]
        assert pod.get("serviceAccountName", "default") in {"desideliver", "default"}


# --- Broken copies: the same checks must fail -----------------------------------------------------


def broken_copy(tmp_path: Path, file: str, old: str, new: str) -> Path:
    """deploy/kubernetes copied to tmp_path with one textual change in one file."""
    copy = tmp_path / "kubernetes"
    shutil.copytree(KUBERNETES_DIR, copy)
    path = copy / file
    text = path.read_text()
    assert old in text, f"{file} no longer contains {old!r}: update this test"
    path.write_text(text.replace(old, new, 1))
    return copy


def test_an_unknown_field_fails_strict_validation(kustomize: str, tmp_path: Path) -> None:
    copy = broken_copy(
        tmp_path,
        "base/web.yaml",
        "readOnlyRootFilesystem: true",
        "readOnlyRootFilesystem: true\n            readOnlyRootFs: true",
    )
    web = manifests.find(manifests.build(copy / "base"), "Deployment", "web")
    problems = policy.schema_violations(web, policy.KUBERNETES_VERSIONS[-1])
    assert len(problems) == 1
    assert "'readOnlyRootFs' was unexpected" in problems[0], problems


def test_a_mistyped_value_fails_strict_validation(kustomize: str, tmp_path: Path) -> None:
    copy = broken_copy(tmp_path, "base/web.yaml", "seconds: 5", 'seconds: "5"')
    web = manifests.find(manifests.build(copy / "base"), "Deployment", "web")
    problems = policy.schema_violations(web, policy.KUBERNETES_VERSIONS[0])
    assert len(problems) == 1
    assert "is not of type 'integer'" in problems[0], problems


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        pytest.param("base/web.yaml", "runAsUser: 10001", "runAsUser: 0", "pod runAsUser 0", id="root"),
        pytest.param(
            "base/worker.yaml",
            "allowPrivilegeEscalation: false",
            "allowPrivilegeEscalation: true",
            "allowPrivilegeEscalation must be false",
            id="privilege-escalation",
        ),
        pytest.param(
            "base/migrate.yaml", 'drop: ["ALL"]', 'drop: ["NET_RAW"]', "capabilities must drop ALL", id="capabilities"
        ),
        pytest.param(
            "components/in-cluster-datastores/redis.yaml",
            "type: RuntimeDefault",
            "type: Unconfined",
            "seccompProfile must be RuntimeDefault",
            id="seccomp",
        ),
        pytest.param(
            "components/in-cluster-datastores/postgres.yaml",
            "emptyDir: {}",
            "hostPath: { path: /run }",
            "volume run is ['hostPath']",
            id="host-path",
        ),
        pytest.param(
            "base/worker.yaml",
            "readOnlyRootFilesystem: true",
            "readOnlyRootFilesystem: true\n            procMount: Unmasked",
            "procMount Unmasked",
            id="proc-mount",
        ),
        pytest.param(
            "base/web.yaml",
            "fsGroup: 10001",
            "fsGroup: 10001\n        sysctls: [{ name: net.core.somaxconn, value: '1024' }]",
            "unsafe sysctls ['net.core.somaxconn']",
            id="sysctl",
        ),
        pytest.param(
            "base/web.yaml",
            "readOnlyRootFilesystem: true",
            "readOnlyRootFilesystem: false",
            "readOnlyRootFilesystem must be true",
            id="writable-root",
        ),
    ],
)
def test_a_pod_security_violation_is_found(
    kustomize: str, tmp_path: Path, file: str, old: str, new: str, expected: str
) -> None:
    copy = broken_copy(tmp_path, file, old, new)
    objects = manifests.build(copy / "overlays" / "kind")
    problems = [
        problem for workload in manifests.workloads(objects) for problem in policy.restricted_violations(workload)
    ]
    assert any(expected in problem for problem in problems), problems


def test_an_app_pod_running_as_another_user_is_found(kustomize: str, tmp_path: Path) -> None:
    copy = broken_copy(tmp_path, "base/worker.yaml", "runAsUser: 10001", "runAsUser: 1000")
    worker = manifests.find(manifests.build(copy / "base"), "Deployment", "worker")
    assert policy.restricted_violations(worker) == []  # still restricted, but not the image's user
    assert policy.app_pod_violations(worker) == ["Deployment/worker: runAsUser/runAsGroup must be the image's 10001"]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(
            "runAsUser: 10002",
            "runAsUser: 10001",
            "runAsUser/runAsGroup must be the proxy image's 10002:10001",
            id="app-user",
        ),
        pytest.param(
            "media # the image's media link (nix/proxy-image.nix)\n              readOnly: true\n",
            "media # the image's media link (nix/proxy-image.nix)\n",
            "/var/lib/desideliver/media must be the media claim, read-only",
            id="media-writable",
        ),
        pytest.param(
            "automountServiceAccountToken: false",
            "automountServiceAccountToken: true",
            "automountServiceAccountToken must be false",
            id="api-token",
        ),
    ],
)
def test_a_proxy_pod_off_its_images_contract_is_found(
    kustomize: str, tmp_path: Path, old: str, new: str, expected: str
) -> None:
    """The rule is per image: the proxy runs as 10002 (the app's 10001 is wrong there)."""
    copy = broken_copy(tmp_path, "components/proxy/proxy.yaml", old, new)
    proxy = manifests.find(manifests.build(copy / "overlays" / "kind-proxy"), "Deployment", "proxy")
    assert policy.restricted_violations(proxy) == []  # still restricted, but not the proxy image's contract
    problems = policy.proxy_pod_violations(proxy)
    assert any(expected in problem for problem in problems), problems


def test_a_missing_resource_fails_the_build(kustomize: str, tmp_path: Path) -> None:
    copy = broken_copy(tmp_path, "base/kustomization.yaml", "  - pdb.yaml\n", "  - pdb.yaml\n  - absent.yaml\n")
    with pytest.raises(AssertionError, match=r"absent\.yaml"):
        manifests.build(copy / "base")


def test_broken_copy_checks_use_the_real_tree(kustomize: str, tmp_path: Path) -> None:
    """The unchanged copy passes every check: the failures above come from the one change."""
    copy = broken_copy(tmp_path, "base/web.yaml", "replicas: 2", "replicas: 2")
    objects = manifests.build(copy / "overlays" / "kind")
    assert yaml.safe_dump(objects) == yaml.safe_dump(list(manifests.rendered("overlays/kind")))
    assert not [p for w in manifests.workloads(objects) for p in policy.restricted_violations(w)]
