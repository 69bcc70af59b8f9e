"""Behind the ingress controller, the proxy believes the controller's forwarding headers.

components/proxy mounts trusted-edge.conf where the proxy image links nginx.conf's trusted-edge.d
(nix/proxy-image.nix). What nginx then does with it is tested in tests/proxy/test_trusted_edge.py;
here: the mount, the addresses it trusts, and that nginx loads the rendered file as it is.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

import pytest

from tests.kubernetes import manifests, project
from tests.kubernetes.manifests import PROXY_OVERLAYS
from tests.kubernetes.test_app_contract import FORWARDED, INGRESS_PEER
from tests.proxy import nginx
from tests.reliability.harness import request

pytestmark = pytest.mark.parametrize("overlay", PROXY_OVERLAYS)


def trusted_edge_files(overlay: str) -> dict[str, str]:
    """The files the proxy container finds in the image's trusted-edge.d."""
    objects = manifests.rendered(overlay)
    (proxy,) = manifests.proxy_workloads(objects)
    (container,) = manifests.containers(proxy)
    directory = project.nix_proxy_image()["trusted_edge_dir"]
    (mount,) = [m for m in container.spec["volumeMounts"] if m["mountPath"] == directory]
    assert mount.get("readOnly") is True
    assert "subPath" not in mount, "a subPath mount would not follow the ConfigMap's updates"
    (volume,) = [v for v in container.pod["volumes"] if v["name"] == mount["name"]]
    data: dict[str, str] = manifests.find(objects, "ConfigMap", volume["configMap"]["name"])["data"]
    assert data
    assert all(name.endswith(".conf") for name in data), "nginx includes trusted-edge.d/*.conf"
    return data


def trusted_networks(overlay: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    text = "\n".join(trusted_edge_files(overlay).values())
    directives = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    directives = [d for d in directives if d]
    networks = []
    for directive in directives:
        match = re.fullmatch(r"set_real_ip_from\s+(\S+);", directive)
        assert match, f"only set_real_ip_from belongs in trusted-edge.d: {directive!r}"
        networks.append(ipaddress.ip_network(match[1]))
    return networks


def test_the_proxy_trusts_the_ingress_controllers_pods_and_no_public_address(overlay: str, kustomize: str) -> None:
    networks = trusted_networks(overlay)

    def trusted(address: str) -> bool:
        return any(ipaddress.ip_address(address) in network for network in networks)

    assert trusted(INGRESS_PEER), "the controller pod the contract tests forward from"
    clients = {a.strip() for _, header in FORWARDED for a in header.split(",")}
    assert clients
    assert not any(trusted(client) for client in clients), "a client on the internet is never an edge"
    assert not trusted("127.0.0.1"), "kubectl port-forward arrives from loopback: that client is not an edge"


def test_nginx_loads_the_rendered_trusted_edge_file(overlay: str, kustomize: str, tmp_path: Path) -> None:
    nginx.find_nginx()
    (text,) = trusted_edge_files(overlay).values()
    static_root = nginx.shared_directory("desideliver-proxy-no-static-")
    media_root = nginx.shared_directory("desideliver-proxy-no-media-")
    # nginx refuses to start on a directive it does not accept; none may be ignored either.
    with nginx.running("127.0.0.1:1", static_root, media_root, trusted_edge=text) as proxy:
        assert request(proxy.base_url, "GET", "/proxy-health").status == 200
        assert "[warn]" not in proxy.log(), proxy.log()
