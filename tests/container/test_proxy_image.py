"""The stand-in proxy image against nix/proxy-image.nix: its config, its prefix, nothing to run but nginx.

What this proves about the Nix image: that the contract both share (read from nix/proxy-image.nix
and nix/proxy/nginx.conf) holds in the image the stack runs. What it cannot: nixpkgs' nginx and
the Nix closure (see tests/container/proxy_image.py).
"""

from __future__ import annotations

import re
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.container import app_image, exported, images, proxy_image
from tests.container.engine import Engine
from tests.container.stack import Stack

pytestmark = [pytest.mark.container, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
NIX = (ROOT / "nix/proxy-image.nix").read_text()


def nix_binding(name: str) -> str:
    found = re.search(rf'^\s*{name}\s*=\s*"?([^";]*)"?\s*;', NIX, re.MULTILINE)
    assert found, f"nix/proxy-image.nix has no literal {name}: update this test"
    return found[1]


def nix_entrypoint() -> list[str]:
    found = re.search(r"Entrypoint\s*=\s*\[((?:\s*\"[^\"]*\")*)\s*\]\s*;", NIX)
    assert found, "nix/proxy-image.nix has no literal Entrypoint list: update this test"
    return re.findall(r'"([^"]*)"', found[1])


def test_the_standin_config_is_nix_proxy_image_config() -> None:
    assert proxy_image.PROXY_CONFIG["User"] == nix_binding("User")
    assert proxy_image.PROXY_CONFIG["WorkingDir"] == nix_binding("WorkingDir")
    assert int(nix_binding("port")) == proxy_image.PORT
    assert nix_binding("upstream") == proxy_image.UPSTREAM
    assert nix_binding("mediaRoot") == proxy_image.MEDIA_ROOT
    assert nix_binding("trustedEdgeDir") == proxy_image.TRUSTED_EDGE_DIR
    assert re.search(r'Env = \[ "PATH=/bin" \];', NIX)
    # The same shape with the store paths replaced by the stand-in's.
    substituted = [
        part.replace("${nginx}/bin/nginx", proxy_image.NGINX).replace("${prefix}", proxy_image.PREFIX)
        for part in nix_entrypoint()
    ]
    assert substituted == proxy_image.PROXY_CONFIG["Entrypoint"]


def test_the_loaded_image_has_that_config(engine: Engine, standin_images: dict[str, str]) -> None:
    config: dict[str, Any] = engine.inspect("image", images.PROXY)["Config"]  # type: ignore[assignment]
    assert config["User"] == proxy_image.PROXY_CONFIG["User"]
    assert config["Entrypoint"] == proxy_image.PROXY_CONFIG["Entrypoint"]
    assert not config.get("Cmd")
    assert config["WorkingDir"] == proxy_image.PROXY_CONFIG["WorkingDir"]
    assert config["Env"] == proxy_image.PROXY_CONFIG["Env"]
    assert list(config["ExposedPorts"]) == proxy_image.PROXY_CONFIG["ExposedPorts"]


@pytest.fixture(scope="module")
def proxy_files(engine: Engine, standin_images: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The proxy image's file system, as `docker export` gives it."""
    return engine.export(images.PROXY, tmp_path_factory.mktemp("proxy-root") / "root.tar")


def test_the_prefix_holds_the_repositorys_config_byte_for_byte(proxy_files: Path) -> None:
    prefix = proxy_image.PREFIX.lstrip("/")
    with tarfile.open(proxy_files) as tar:
        members = exported.members(tar)

        def text(name: str) -> bytes:
            return tar.extractfile(members[name]).read()  # type: ignore[union-attr]

        assert text(f"{prefix}/nginx.conf") == (ROOT / "nix/proxy/nginx.conf").read_bytes()
        assert text(f"{prefix}/upstream.conf").decode().strip() == "upstream desideliver_web { server web:8000; }"
        assert text(f"{prefix}/listen.conf").decode().strip() == "listen 8080;"
        names = ("static", "media", "tmp", "mime.types", "trusted-edge.d")
        links = {name: members[f"{prefix}/{name}"].linkname for name in names}
        assert links == {
            "static": app_image.STATIC_ROOT,
            "media": "/var/lib/desideliver/media",
            "tmp": "/tmp",
            "mime.types": "/etc/nginx/mime.types",
            "trusted-edge.d": "/etc/desideliver-proxy/trusted-edge.d",
        }
        assert "etc/desideliver-proxy" not in members, "no trusted edge in compose: this proxy is the edge"
        assert b"image/jpeg" in text("etc/nginx/mime.types")
        # One collection, two images: the app stand-in's static files, manifest and all.
        static = app_image.STATIC_ROOT.lstrip("/")
        assert f"{static}/staticfiles.json" in members
        assert any(name.startswith(static) and name.endswith(".css.gz") for name in members), "precompressed"
        writable = [n for n, m in members.items() if m.mode & 0o022 and not m.issym() and n != "tmp"]
        assert not writable, writable[:5]
        assert members["tmp"].mode & 0o7777 == 0o1777
        assert "proxy:x:10002:10001:" in text("etc/passwd").decode()


def test_no_shell_coreutils_or_package_manager_anywhere(proxy_files: Path) -> None:
    with tarfile.open(proxy_files) as tar:
        members = exported.members(tar)
        assert exported.forbidden(members) == []
        programs = exported.programs(tar, members)
    assert programs == ["bin/proxy-healthcheck", "usr/sbin/nginx"], programs


def test_make_up_names_a_proxy_image_that_is_not_loaded(make_stack: Callable[..., Stack]) -> None:
    """`make up` checks both images compose resolves, not just web's (which is loaded here)."""
    stack = make_stack(DESIDELIVER_PROXY_IMAGE="desideliver-proxy-never-loaded")
    stack.make("secrets")
    result = stack.make("up", check=False)
    assert result.returncode != 0
    assert f"image desideliver-proxy-never-loaded:{images.VERSION} is not loaded" in result.stderr, result.stderr
    assert "make image" in result.stderr
    assert not stack.compose("ps", "--all", "--quiet").stdout.strip(), "nothing was started"
