"""The checks the rendered manifests must pass, as functions returning every violation.

Tests call them on the real rendered overlays (no violation) and on broken copies (the
violation is found): a check that cannot fail proves nothing.
"""

from __future__ import annotations

from typing import Any

from kubernetes_validate.utils import ValidationError, validate

from tests.kubernetes.manifests import APP_COMPONENTS, PROXY_COMPONENT, component, containers

# Kubernetes releases the manifests are validated against: the oldest with the preStop `sleep`
# action on by default (PodLifecycleSleepAction, beta in 1.30), and the newest kubernetes-validate bundles.
KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")
APP_USER = 10001  # nix/image.nix: User = "10001:10001"
# nix/proxy-image.nix: User = "10002:10001" (its own user, in the app's group: it reads the media).
# Each image's pods run as that image's user; test_app_contract checks both against the Nix files.
PROXY_USER = (10002, APP_USER)
MEDIA_ROOT = "/var/lib/desideliver/media"

# Pod Security Standards, restricted profile (which includes baseline), as the API server's
# PodSecurity admission checks pod templates:
# https://kubernetes.io/docs/concepts/security/pod-security-standards/
RESTRICTED_VOLUME_TYPES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}


SAFE_SYSCTLS = {
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
}


def schema_violations(obj: dict[str, Any], version: str) -> list[str]:
    """Strict validation against the Kubernetes JSON schema: unknown fields are errors too."""
    try:
        validate(obj, version, strict=True)
    except ValidationError as error:
        first_line = str(error).splitlines()[0]
        return [f"{obj['kind']}/{obj['metadata'].get('name')} against {version}: {first_line}"]
    return []


def restricted_violations(workload: dict[str, Any]) -> list[str]:
    """What PodSecurity admission at `restricted` would refuse in this pod template."""
    name = f"{workload['kind']}/{workload['metadata']['name']}"
    pod = workload["spec"]["template"]["spec"]
    pod_context = pod.get("securityContext") or {}
    problems = []
    for flag in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(flag):
            problems.append(f"{name}: {flag}")
    for volume in pod.get("volumes", []):
        kinds = set(volume) - {"name"}
        if not kinds <= RESTRICTED_VOLUME_TYPES:
            problems.append(f"{name}: volume {volume['name']} is {sorted(kinds)}")
    if pod_context.get("runAsUser") == 0:
        problems.append(f"{name}: pod runAsUser 0")
    unsafe_sysctls = {s["name"] for s in pod_context.get("sysctls", [])} - SAFE_SYSCTLS
    if unsafe_sysctls:
        problems.append(f"{name}: unsafe sysctls {sorted(unsafe_sysctls)}")
    for container in containers(workload):
        context = container.spec.get("securityContext") or {}
        where = container.label

        def effective(field: str, context: dict[str, Any] = context) -> Any:
            return context.get(field, pod_context.get(field))

        if context.get("privileged"):
            problems.append(f"{where}: privileged")
        if context.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{where}: allowPrivilegeEscalation must be false")
        capabilities = context.get("capabilities") or {}
        if "ALL" not in (capabilities.get("drop") or []):
            problems.append(f"{where}: capabilities must drop ALL")
        if set(capabilities.get("add") or []) - {"NET_BIND_SERVICE"}:
            problems.append(f"{where}: adds capabilities {capabilities['add']}")
        if effective("runAsNonRoot") is not True:
            problems.append(f"{where}: runAsNonRoot must be true")
        if effective("runAsUser") == 0:
            problems.append(f"{where}: runAsUser 0")
        seccomp = (effective("seccompProfile") or {}).get("type")
        if seccomp not in {"RuntimeDefault", "Localhost"}:
            problems.append(f"{where}: seccompProfile must be RuntimeDefault (is {seccomp})")
        if any(port.get("hostPort") for port in container.spec.get("ports", [])):
            problems.append(f"{where}: hostPort")
        if context.get("procMount", "Default") != "Default":
            problems.append(f"{where}: procMount {context['procMount']}")
        if (effective("appArmorProfile") or {}).get("type") == "Unconfined":
            problems.append(f"{where}: AppArmor unconfined")
        selinux = effective("seLinuxOptions") or {}
        if selinux.get("type", "container_t") not in {"container_t", "container_init_t", "container_kvm_t"} or (
            selinux.get("user") or selinux.get("role")
        ):
            problems.append(f"{where}: SELinux options {selinux}")
        if (effective("windowsOptions") or {}).get("hostProcess"):
            problems.append(f"{where}: Windows hostProcess")
        # Beyond the standard, ours: nothing writable but the volumes.
        if context.get("readOnlyRootFilesystem") is not True:
            problems.append(f"{where}: readOnlyRootFilesystem must be true")
    return problems


def app_pod_violations(workload: dict[str, Any]) -> list[str]:
    """The image's own user, no API token, a writable /tmp and the secrets as read-only files."""
    name = f"{workload['kind']}/{workload['metadata']['name']}"
    pod = workload["spec"]["template"]["spec"]
    context = pod.get("securityContext") or {}
    problems = []
    if component(workload) not in APP_COMPONENTS:
        return [f"{name}: not an app workload"]
    if (context.get("runAsUser"), context.get("runAsGroup")) != (APP_USER, APP_USER):
        problems.append(f"{name}: runAsUser/runAsGroup must be the image's {APP_USER}")
    if pod.get("automountServiceAccountToken") is not False:
        problems.append(f"{name}: automountServiceAccountToken must be false")
    volumes = {volume["name"]: volume for volume in pod.get("volumes", [])}
    for container in containers(workload):
        mounts = {mount["mountPath"]: mount for mount in container.spec.get("volumeMounts", [])}
        tmp = mounts.get("/tmp")
        if not tmp or "emptyDir" not in volumes.get(tmp["name"], {}):
            problems.append(f"{container.label}: /tmp must be an emptyDir")
        secrets = mounts.get("/run/secrets")
        if not secrets or "secret" not in volumes.get(secrets["name"], {}) or not secrets.get("readOnly"):
            problems.append(f"{container.label}: /run/secrets must be the Secret, read-only")
        context = container.spec.get("securityContext") or {}
        if "runAsUser" in context and context["runAsUser"] != APP_USER:
            problems.append(f"{container.label}: runAsUser {context['runAsUser']}")
    return problems


def proxy_pod_violations(workload: dict[str, Any]) -> list[str]:
    """The proxy image's own user, no API token, a writable /tmp, no secrets, the media read-only."""
    name = f"{workload['kind']}/{workload['metadata']['name']}"
    pod = workload["spec"]["template"]["spec"]
    context = pod.get("securityContext") or {}
    if component(workload) != PROXY_COMPONENT:
        return [f"{name}: not the proxy"]
    problems = []
    if (context.get("runAsUser"), context.get("runAsGroup")) != PROXY_USER:
        problems.append(f"{name}: runAsUser/runAsGroup must be the proxy image's {PROXY_USER[0]}:{PROXY_USER[1]}")
    if pod.get("automountServiceAccountToken") is not False:
        problems.append(f"{name}: automountServiceAccountToken must be false")
    volumes = {volume["name"]: volume for volume in pod.get("volumes", [])}
    if any("secret" in volume for volume in volumes.values()):
        problems.append(f"{name}: the proxy needs no secret")
    for container in containers(workload):
        mounts = {mount["mountPath"]: mount for mount in container.spec.get("volumeMounts", [])}
        tmp = mounts.get("/tmp")
        if not tmp or "emptyDir" not in volumes.get(tmp["name"], {}):
            problems.append(f"{container.label}: /tmp must be an emptyDir")
        media = mounts.get(MEDIA_ROOT)
        claim = volumes.get(media["name"], {}).get("persistentVolumeClaim", {}) if media else {}
        if not media or not claim or not media.get("readOnly") or not claim.get("readOnly"):
            problems.append(f"{container.label}: {MEDIA_ROOT} must be the media claim, read-only")
        container_context = container.spec.get("securityContext") or {}
        if "runAsUser" in container_context and container_context["runAsUser"] != PROXY_USER[0]:
            problems.append(f"{container.label}: runAsUser {container_context['runAsUser']}")
    return problems
