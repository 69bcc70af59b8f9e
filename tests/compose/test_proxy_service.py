"""The proxy service: in front of web, hardened like it, and agreeing with the image and its config.

compose.yaml's proxy runs nix/proxy-image.nix's image, which runs nix/proxy/nginx.conf; the
values that must match across the three files (port, user, upstream, media root, the internal
location the app redirects to) are read from those files here, so changing one alone fails.
tests/container runs the service under a real engine (test_proxy_stack.py).
"""

from __future__ import annotations

import re
from typing import Any

from tests.compose import compose_cli
from tests.compose.compose_cli import ROOT

PROXY_IMAGE_NIX = (ROOT / "nix/proxy-image.nix").read_text()
NGINX_CONF = (ROOT / "nix/proxy/nginx.conf").read_text()


def proxy_image_binding(name: str) -> str:
    """A literal `name = value;` binding of nix/proxy-image.nix (quotes removed)."""
    found = re.search(rf'^\s*{name}\s*=\s*"?([^";]*)"?\s*;', PROXY_IMAGE_NIX, re.MULTILINE)
    assert found, f"nix/proxy-image.nix has no literal {name} binding: update this test"
    return found[1]


def test_the_proxy_is_hardened_like_web(default_model: dict[str, Any]) -> None:
    spec = default_model["services"]["proxy"]
    assert spec["user"] == proxy_image_binding("User") == "10002:10001"
    group = spec["user"].split(":")[1]
    assert group == default_model["services"]["web"]["user"].split(":")[1], "the app's group: it reads media"
    assert spec["read_only"] is True
    assert spec["tmpfs"] == ["/tmp:size=64m,mode=1777"]
    assert spec["cap_drop"] == ["ALL"]
    assert not spec.get("cap_add")
    assert "no-new-privileges:true" in spec["security_opt"]
    assert spec["pull_policy"] == "never"
    assert spec["restart"] == "unless-stopped"
    assert spec["logging"] == default_model["services"]["web"]["logging"]
    limits = spec["deploy"]["resources"]["limits"]
    assert (float(limits["cpus"]), int(limits["memory"]), limits["pids"]) == (1.0, 128 * 2**20, 32)
    assert not spec.get("secrets"), "the proxy reads no secret"
    assert not spec.get("environment"), "the image's config is all it needs"


def test_the_proxy_reaches_web_but_not_the_data_stores(default_model: dict[str, Any]) -> None:
    services = default_model["services"]
    assert set(services["proxy"]["networks"]) == {"frontend"}
    assert "frontend" in services["web"]["networks"]
    assert "frontend" not in services["db"]["networks"]
    assert "frontend" not in services["redis"]["networks"]
    # nginx.conf's `upstream desideliver_web` is web at the app image's port.
    assert proxy_image_binding("upstream") == "web:8000"


def test_the_proxy_starts_after_web_is_healthy_and_restarts_with_it(default_model: dict[str, Any]) -> None:
    spec = default_model["services"]["proxy"]
    assert spec["depends_on"]["web"]["condition"] == "service_healthy"
    assert spec["depends_on"]["web"]["restart"] is True
    assert spec["healthcheck"]["test"] == ["CMD", "proxy-healthcheck"], "exec form: the image has no shell"
    assert "/bin/proxy-healthcheck" in PROXY_IMAGE_NIX
    assert "http://127.0.0.1:${toString port}/proxy-health" in PROXY_IMAGE_NIX
    assert re.search(r"location = /proxy-health \{", NGINX_CONF)


def test_the_proxy_publishes_the_image_port(default_model: dict[str, Any]) -> None:
    (port,) = default_model["services"]["proxy"]["ports"]
    assert str(port["target"]) == proxy_image_binding("port")
    assert re.search(r"\binclude listen\.conf;", NGINX_CONF)


def test_media_is_read_only_for_the_proxy_and_at_the_image_media_root(default_model: dict[str, Any]) -> None:
    services = default_model["services"]
    media_root = services["web"]["environment"]["MEDIA_ROOT"]
    assert media_root == proxy_image_binding("mediaRoot")
    (mount,) = services["proxy"]["volumes"]
    assert (mount["type"], mount["source"], mount["target"]) == ("volume", "media_data", media_root)
    assert mount["read_only"] is True
    (web_mount,) = services["web"]["volumes"]
    assert not web_mount.get("read_only"), "web writes uploads there"


def test_web_trusts_one_proxy_and_redirects_attachments_to_its_internal_location(
    default_model: dict[str, Any],
) -> None:
    environment = default_model["services"]["web"]["environment"]
    assert environment["TRUSTED_PROXY_COUNT"] == "1"
    # nginx replaces X-Forwarded-For with the address it saw: exactly one proxy's entry.
    assert re.search(r"proxy_set_header X-Forwarded-For \$remote_addr;", NGINX_CONF)
    prefix = environment["MEDIA_ACCEL_REDIRECT_PREFIX"]
    internal = re.search(r"location (/[^ ]+/) \{\s*internal;\s*alias media/;", NGINX_CONF)
    assert internal, "nginx.conf's internal media location moved: update this test"
    assert prefix == internal[1] == "/internal-media/"


def test_the_trusted_proxy_count_can_be_raised_from_env(compose: tuple[str, ...]) -> None:
    model = compose_cli.resolved(TRUSTED_PROXY_COUNT="2")
    assert model["services"]["web"]["environment"]["TRUSTED_PROXY_COUNT"] == "2"
