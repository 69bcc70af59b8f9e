"""The other side of each contract, read from the project's own files: the image, compose, the app."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import yaml

from tests.kubernetes.manifests import ROOT

SECRETS_DIR = "/run/secrets"


def pyproject_version() -> str:
    return str(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["poetry"]["version"])


def nix_image() -> dict[str, Any]:
    """name, tag, User, Entrypoint and Env of the image, from nix/image.nix and flake.nix."""
    source = (ROOT / "nix" / "image.nix").read_text()
    flake = (ROOT / "flake.nix").read_text()
    name = re.search(r'^\s*name = "([^"]+)";', source, re.MULTILINE)
    assert name, "nix/image.nix has no literal image name: update this test"
    assert re.search(r"^\s*tag = version;", source, re.MULTILINE), "nix/image.nix: the tag is no longer `version`"
    assert re.search(r"inherit \(pyproject\.tool\.poetry\) version;", flake), "flake.nix: version not from pyproject"
    user = re.search(r'User = "(\d+):(\d+)";', source)
    entrypoint = re.search(r"Entrypoint\s*=\s*\[\s*((?:\"[^\"]*\"\s*)+)\]", source)
    env = re.search(r"Env\s*=\s*\[\s*((?:\"[^\"]*\"\s*)+)\]", source)
    assert user, "nix/image.nix: no numeric User"
    assert entrypoint, "nix/image.nix: no literal Entrypoint list"
    assert env, "nix/image.nix: no literal Env list"
    return {
        "name": name.group(1),
        "tag": pyproject_version(),
        "user": (int(user.group(1)), int(user.group(2))),
        "entrypoint": re.findall(r"\"([^\"]*)\"", entrypoint.group(1)),
        "env": dict(item.split("=", 1) for item in re.findall(r"\"([^\"]*)\"", env.group(1))),
    }


def nix_proxy_image() -> dict[str, Any]:
    """name, tag, User, port, upstream, media root and trusted-edge.d of the proxy image, from nix/proxy-image.nix."""
    source = (ROOT / "nix" / "proxy-image.nix").read_text()

    def literal(pattern: str) -> tuple[str, ...]:
        match = re.search(pattern, source, re.MULTILINE)
        assert match, f"nix/proxy-image.nix: nothing matches {pattern!r}: update this test"
        return match.groups()

    literal(r"^\s*tag = (version);")
    user, group = literal(r'User = "(\d+):(\d+)";')
    upstream_host, upstream_port = literal(r'^\s*upstream = "([^":]+):(\d+)";')
    return {
        "name": literal(r'^\s*name = "([^"]+)";')[0],
        "tag": pyproject_version(),
        "user": (int(user), int(group)),
        "port": int(literal(r"^\s*port = (\d+);")[0]),
        "upstream": (upstream_host, int(upstream_port)),
        "media_root": literal(r'^\s*mediaRoot = "([^"]+)";')[0],
        "trusted_edge_dir": literal(r'^\s*trustedEdgeDir = "([^"]+)";')[0],
    }


def nginx_internal_media_location() -> str:
    """The `internal` location of nix/proxy/nginx.conf that X-Accel-Redirect names."""
    conf = (ROOT / "nix" / "proxy" / "nginx.conf").read_text()
    locations = re.findall(r"location (/[^ {]*) \{\s*internal;", conf)
    assert len(locations) == 1, f"nginx.conf: expected one internal location, found {locations}"
    return str(locations[0])


def compose() -> dict[str, Any]:
    """compose.yaml as YAML (anchors and merge keys resolved), without Compose's interpolation."""
    return yaml.safe_load((ROOT / "compose.yaml").read_text())  # type: ignore[no-any-return]


def compose_environment(service: str = "web") -> dict[str, str | None]:
    return dict(compose()["services"][service]["environment"])


def run_settings_probe(
    environment: dict[str, str],
    get: list[tuple[str, str]] | None = None,
    forwarded: list[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """The production settings loaded from `environment` in a child process (settings_probe.py);
    `forwarded`: (peer address, X-Forwarded-For) pairs whose client address it reports."""
    child_environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", **environment}
    if "PYTHONPATH" in os.environ:  # the Nix dev shell runs the app from src/ on PYTHONPATH
        child_environment["PYTHONPATH"] = os.environ["PYTHONPATH"]
    result = subprocess.run(
        [sys.executable, "-m", "tests.kubernetes.settings_probe"],
        input=json.dumps({"environment": child_environment, "get": get or [], "forwarded": forwarded or []}),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"settings probe failed:\n{result.stderr}"
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def container_environment(
    manifest_environment: dict[str, str], secret_files: dict[str, Path], static_root: Path
) -> dict[str, str]:
    """What the process in the container sees: the image's Env, then the manifests' variables
    (as the kubelet does), with /run/secrets/NAME pointing at local files and the image's
    store paths replaced by local ones."""
    image_env = {k: v for k, v in nix_image()["env"].items() if k not in {"PATH", "SSL_CERT_FILE"}}
    variables = {**image_env, "STATIC_ROOT": str(static_root), **manifest_environment}
    for name, value in variables.items():
        if value.startswith(SECRETS_DIR + "/"):
            variables[name] = str(secret_files.get(value.removeprefix(SECRETS_DIR + "/"), value))
    return variables
