"""Rollout, scaling, disruption and network rules, read from the rendered objects.

Selectors are matched against the pods' labels here the way the API server and a NetworkPolicy
implementation match them; whether a CNI enforces the policies needs a real cluster.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.kubernetes import manifests, project
from tests.kubernetes.manifests import OVERLAYS, PROXY_OVERLAYS


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """A LabelSelector (matchLabels and matchExpressions) against a set of labels."""
    if any(labels.get(key) != value for key, value in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        value, operator = labels.get(expression["key"]), expression["operator"]
        if operator == "In" and value not in expression["values"]:
            return False
        if operator == "NotIn" and value in expression["values"]:
            return False
        if operator == "Exists" and value is None:
            return False
        if operator == "DoesNotExist" and value is not None:
            return False
    return True


def pod_labels(objects: tuple[dict[str, Any], ...]) -> dict[str, dict[str, str]]:
    return {manifests.component(w): w["spec"]["template"]["metadata"]["labels"] for w in manifests.workloads(objects)}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_web_rolls_out_without_losing_capacity(overlay: str, kustomize: str) -> None:
    objects = manifests.rendered(overlay)
    web = manifests.find(objects, "Deployment", "web")
    assert web["spec"]["replicas"] >= 2
    assert web["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert selects(web["spec"]["selector"], web["spec"]["template"]["metadata"]["labels"])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_autoscaler_and_disruption_budget_cover_web(overlay: str, kustomize: str) -> None:
    objects = manifests.rendered(overlay)
    web = manifests.find(objects, "Deployment", "web")
    hpa = manifests.find(objects, "HorizontalPodAutoscaler", "web")
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}
    assert hpa["spec"]["minReplicas"] == web["spec"]["replicas"]
    assert hpa["spec"]["maxReplicas"] > hpa["spec"]["minReplicas"]
    (metric,) = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert 0 < metric["resource"]["target"]["averageUtilization"] < 100, "of the request, which is the limit"
    pdb = manifests.find(objects, "PodDisruptionBudget", "web")
    labels = pod_labels(objects)
    assert [name for name, pod in labels.items() if selects(pdb["spec"]["selector"], pod)] == ["web"]
    assert pdb["spec"]["maxUnavailable"] < web["spec"]["replicas"], "a drain must leave one web pod serving"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_service_and_ingress_reach_the_web_pods_named_port(overlay: str, kustomize: str) -> None:
    objects = manifests.rendered(overlay)
    service = manifests.find(objects, "Service", "web")
    labels = pod_labels(objects)
    assert [name for name, pod in labels.items() if selects({"matchLabels": service["spec"]["selector"]}, pod)] == [
        "web"
    ]
    web = manifests.find(objects, "Deployment", "web")
    ports = {p["name"] for c in web["spec"]["template"]["spec"]["containers"] for p in c.get("ports", [])}
    assert {p["targetPort"] for p in service["spec"]["ports"]} <= ports
    ingress = manifests.find(objects, "Ingress", "web")
    backends = [path["backend"]["service"] for rule in ingress["spec"]["rules"] for path in rule["http"]["paths"]]
    entry = "proxy" if overlay in PROXY_OVERLAYS else "web"
    assert backends == [{"name": entry, "port": {"name": "http"}}], "with the proxy, the ingress never reaches web"


def allowed(objects: tuple[dict[str, Any], ...], direction: str, pod: dict[str, str]) -> list[dict[str, Any]]:
    """The rules of every policy of `direction` (ingress/egress) that selects this pod."""
    rules = []
    for policy in (o for o in objects if o["kind"] == "NetworkPolicy"):
        spec = policy["spec"]
        if direction.capitalize() in spec["policyTypes"] and selects(spec["podSelector"], pod):
            rules.extend(spec.get(direction, []))
    return rules


def ports_of(rules: list[dict[str, Any]]) -> set[int | str]:
    return {port["port"] for rule in rules for port in rule.get("ports", [])}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_is_default_deny_with_only_its_own_openings(overlay: str, kustomize: str) -> None:
    objects = manifests.rendered(overlay)
    deny = manifests.find(objects, "NetworkPolicy", "default-deny")
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    labels = pod_labels(objects)
    assert ports_of(allowed(objects, "ingress", labels["web"])) == {"http"}
    if overlay in PROXY_OVERLAYS:
        assert ports_of(allowed(objects, "ingress", labels["proxy"])) == {"http"}
        assert ports_of(allowed(objects, "egress", labels["proxy"])) == {8000, 53}, "proxy: web and DNS only"
    assert allowed(objects, "ingress", labels["worker"]) == []
    assert allowed(objects, "ingress", labels["migrate"]) == []
    for app in ("web", "worker", "migrate"):
        assert {5432, 6379, 53} <= ports_of(allowed(objects, "egress", labels[app])), app
    assert 587 not in ports_of(allowed(objects, "egress", labels["migrate"])), "migrate sends no mail"


def test_in_cluster_datastores_are_reached_only_by_the_app(kustomize: str) -> None:
    objects = manifests.rendered("overlays/kind")
    labels = pod_labels(objects)
    for datastore, port in (("postgres", 5432), ("redis", 6379)):
        rules = allowed(objects, "ingress", labels[datastore])
        assert ports_of(rules) == {port}
        sources = [peer for rule in rules for peer in rule["from"]]
        assert all(set(peer) == {"podSelector"} for peer in sources), "same namespace, pods only"
        reaching = {name for name, pod in labels.items() if any(selects(p["podSelector"], pod) for p in sources)}
        assert reaching == {"web", "worker", "migrate"}, datastore
        assert ports_of(allowed(objects, "egress", labels[datastore])) == {53}, f"{datastore}: DNS only"


def test_in_cluster_datastores_use_composes_hosts(kustomize: str) -> None:
    """db:5432 and redis:6379, as compose.yaml names them: the URLs read exactly as there."""
    compose_environment = project.compose_environment("web")
    objects = manifests.rendered("overlays/kind")
    config = next(o for o in objects if o["kind"] == "ConfigMap")["data"]
    assert config["REDIS_URL"] == compose_environment["REDIS_URL"]
    assert config["DATABASE_URL"] == "postgres://desideliver@db:5432/desideliver"
    assert str(compose_environment["DATABASE_URL"]).startswith("postgres://${POSTGRES_USER:-desideliver}@db:5432/")
    assert {manifests.find(objects, "Service", name)["spec"]["ports"][0]["port"] for name in ("db", "redis")} == {
        5432,
        6379,
    }


def test_production_needs_no_in_cluster_datastore(kustomize: str) -> None:
    objects = manifests.rendered("overlays/production")
    assert not [o for o in objects if o["kind"] == "StatefulSet"]
    config = next(o for o in objects if o["kind"] == "ConfigMap")["data"]
    assert ".invalid" not in config["DATABASE_URL"] + config["REDIS_URL"], "the example names real-looking hosts"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_web_mounts_the_media_claim_writable_at_media_root_the_proxy_read_only(
    overlay: str, kustomize: str
) -> None:
    objects = manifests.rendered(overlay)
    claim = manifests.find(objects, "PersistentVolumeClaim", "desideliver-media")
    assert claim["spec"]["accessModes"] == (
        ["ReadWriteOnce"] if overlay.startswith("overlays/kind") else ["ReadWriteMany"]
    )
    mounting = {}
    for workload in (o for o in objects if o["kind"] in {"Deployment", "Job", "StatefulSet"}):
        pod = workload["spec"]["template"]["spec"]
        claimed = {
            v["name"]
            for v in pod.get("volumes", [])
            if v.get("persistentVolumeClaim", {}).get("claimName") == "desideliver-media"
        }
        for container in manifests.containers(workload):
            for mount in container.spec.get("volumeMounts", []):
                if mount["name"] in claimed:
                    mounting[container.label] = (mount["mountPath"], mount.get("readOnly", False))
    web = next(c for c in manifests.containers(manifests.find(objects, "Deployment", "web")) if not c.init)
    expected = {web.label: ("/var/lib/desideliver/media", False)}
    if overlay in PROXY_OVERLAYS:  # reads public media and attachments (X-Accel-Redirect)
        proxy = next(manifests.containers(manifests.find(objects, "Deployment", "proxy")))
        expected[proxy.label] = (project.nix_proxy_image()["media_root"], True)
    assert mounting == expected
    assert (
        manifests.find(objects, "Deployment", "web")["spec"]["template"]["spec"]["securityContext"]["fsGroup"] == 10001
    )


def peers_reaching(rules: list[dict[str, Any]], labels: dict[str, dict[str, str]]) -> set[str]:
    """The pods of this namespace (by component) a rule's `from`/`to` pod selectors match."""
    peers = [peer for rule in rules for peer in rule.get("from", rule.get("to", []))]
    return {
        name
        for name, pod in labels.items()
        for peer in peers
        if set(peer) == {"podSelector"} and selects(peer["podSelector"], pod)
    }


@pytest.mark.parametrize("overlay", PROXY_OVERLAYS)
def test_the_proxy_reaches_web_as_its_image_names_it_and_only_it_does(overlay: str, kustomize: str) -> None:
    """ingress -> proxy -> web: nginx's upstream `web:8000` (nix/proxy-image.nix) is the web
    Service on 8000, which leads to web's container port; web takes HTTP from the proxy's pods only."""
    objects = manifests.rendered(overlay)
    image = project.nix_proxy_image()
    labels = pod_labels(objects)
    host, port = image["upstream"]
    upstream = manifests.find(objects, "Service", host)
    assert [n for n, pod in labels.items() if selects({"matchLabels": upstream["spec"]["selector"]}, pod)] == ["web"]
    (target,) = [p["targetPort"] for p in upstream["spec"]["ports"] if p["port"] == port]
    web_ports = {
        p["name"]: p["containerPort"]
        for c in manifests.containers(manifests.find(objects, "Deployment", "web"))
        for p in c.spec.get("ports", [])
    }
    web_port = web_ports[target]

    web_ingress = allowed(objects, "ingress", labels["web"])
    assert peers_reaching(web_ingress, labels) == {"proxy"}
    assert all(set(peer) == {"podSelector"} for rule in web_ingress for peer in rule["from"]), (
        "no namespace reaches web"
    )
    proxy_egress = [rule for rule in allowed(objects, "egress", labels["proxy"]) if web_port in ports_of([rule])]
    assert peers_reaching(proxy_egress, labels) == {"web"}

    proxy = manifests.find(objects, "Deployment", "proxy")
    (container,) = manifests.containers(proxy)
    assert [p["containerPort"] for p in container.spec["ports"]] == [image["port"]]
    service = manifests.find(objects, "Service", "proxy")
    assert [n for n, pod in labels.items() if selects({"matchLabels": service["spec"]["selector"]}, pod)] == ["proxy"]
    assert {p["targetPort"] for p in service["spec"]["ports"]} == {p["name"] for p in container.spec["ports"]}
    proxy_ingress = allowed(objects, "ingress", labels["proxy"])
    assert [set(peer) for rule in proxy_ingress for peer in rule["from"]] == [{"namespaceSelector"}], "the controller's"
