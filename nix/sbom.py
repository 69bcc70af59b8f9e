"""The image's SBOM: a CycloneDX 1.5 JSON document on stdout (nix/sbom.nix runs it in the build).

    python3 sbom.py --lock poetry.lock --pyproject pyproject.toml --files FILES.json
        --store-paths STORE-PATHS --system x86_64-linux --python-version 3.12.7
        [--name desideliver --version 0.1.0]

- Python packages: poetry.lock's main group, as poetry2nix installs it: pyproject.toml's
  dependencies (with their extras), then each locked package's dependencies, each marker
  evaluated for the image (CPython on Linux). Each gets its version, the file poetry2nix built it
  from (FILES.json, from Nix: locked name -> {file, path}) and that file's SHA-256 from the lock,
  a PyPI purl, and its store path. A main-group package whose store path is not in the closure
  fails the build: the SBOM would not describe the image.
- Every other store path of the image's closure (STORE-PATHS, from pkgs.closureInfo), as a
  component named and versioned the way Nix splits a store path's name.

Only the standard library and `packaging` (PEP 508 markers); no timestamp, and a serial number
derived from the content, so the same image always gets the same document.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tomllib
import uuid
from pathlib import Path
from typing import Any

from packaging.markers import Marker

STORE_PATH = re.compile(r"^/nix/store/[0-9a-z]{32}-(?P<name>.+)$")
REQUIREMENT_NAME = re.compile(r"^\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def marker_environment(system: str, python_version: str) -> dict[str, str]:
    """PEP 508's variables for nixpkgs' CPython on `system` (e.g. x86_64-linux)."""
    machine, kernel = system.split("-", 1)
    if kernel != "linux":
        raise SystemExit(f"sbom.py: the image is Linux-only, not {system}")
    return {
        "implementation_name": "cpython",
        "implementation_version": python_version,
        "os_name": "posix",
        "platform_machine": machine,
        "platform_python_implementation": "CPython",
        "platform_release": "",
        "platform_system": "Linux",
        "platform_version": "",
        "python_full_version": python_version,
        "python_version": ".".join(python_version.split(".")[:2]),
        "sys_platform": "linux",
        "extra": "",
    }


def applies(spec: Any, environment: dict[str, str], extras: frozenset[str] = frozenset()) -> bool:
    """The spec's markers hold for the image, with any of the extras asked of its package."""
    markers = spec.get("markers") if isinstance(spec, dict) else None
    if markers is None:
        return True
    marker = Marker(markers)
    return any(marker.evaluate({**environment, "extra": extra}) for extra in extras or {""})


def main_group(lock: dict[str, Any], pyproject: dict[str, Any], environment: dict[str, str]) -> dict[str, set[str]]:
    """Locked main-group package name -> the names it depends on (poetry.lock 2.0 records no groups)."""
    packages = {canonical(p["name"]): p for p in lock["package"]}
    wanted: list[tuple[str, frozenset[str]]] = []
    for name, spec in pyproject["tool"]["poetry"]["dependencies"].items():
        if name.lower() != "python" and applies(spec, environment):
            extras = spec.get("extras", []) if isinstance(spec, dict) else []
            wanted.append((canonical(name), frozenset(extras)))
    graph: dict[str, set[str]] = {}
    done: set[tuple[str, frozenset[str]]] = set()
    while wanted:
        name, extras = wanted.pop()
        if (name, extras) in done:
            continue
        done.add((name, extras))
        if name not in packages:
            raise SystemExit(f"sbom.py: {name} is required but not in poetry.lock")
        package = packages[name]
        graph.setdefault(name, set())
        from_extras = {
            canonical(REQUIREMENT_NAME.match(item)["name"])  # type: ignore[index]
            for extra in extras
            for item in package.get("extras", {}).get(extra, [])
        }
        for dependency, spec in package.get("dependencies", {}).items():
            optional = isinstance(spec, dict) and spec.get("optional", False)
            if optional and canonical(dependency) not in from_extras:
                continue
            for alternative in spec if isinstance(spec, list) else [spec]:  # per-marker constraints
                if applies(alternative, environment, extras):
                    sub_extras = alternative.get("extras", []) if isinstance(alternative, dict) else []
                    graph[name].add(canonical(dependency))
                    wanted.append((canonical(dependency), frozenset(sub_extras)))
                    break
    return graph


def store_name(path: str) -> tuple[str, str | None]:
    """As Nix's parseDrvName splits it: the version starts at the first "-" followed by a digit."""
    match = STORE_PATH.match(path)
    if match is None:
        raise SystemExit(f"sbom.py: {path!r} is not a store path")
    name, _, version = re.sub(r"-(?=\d)", "\0", match["name"], count=1).partition("\0")
    return name, version or None


def python_component(package: dict[str, Any], used: dict[str, str]) -> dict[str, Any]:
    name, version = canonical(package["name"]), package["version"]
    (digest,) = [f["hash"] for f in package["files"] if f["file"] == used["file"]] or [None]
    if digest is None or not digest.startswith("sha256:"):
        raise SystemExit(f"sbom.py: {name}: poetry2nix's file {used['file']} has no sha256 in poetry.lock")
    purl = f"pkg:pypi/{name}@{version}"
    return {
        "type": "library",
        "bom-ref": purl,
        "name": name,
        "version": version,
        "purl": purl,
        "hashes": [{"alg": "SHA-256", "content": digest.removeprefix("sha256:")}],
        "properties": [
            {"name": "poetry2nix:file", "value": used["file"]},
            {"name": "nix:store-path", "value": used["path"]},
        ],
    }


def store_component(path: str) -> dict[str, Any]:
    name, version = store_name(path)
    component: dict[str, Any] = {"type": "library", "bom-ref": path, "name": name}
    if version is not None:
        component["version"] = version
    component["properties"] = [{"name": "nix:store-path", "value": path}]
    return component


def sbom(
    lock: dict[str, Any],
    pyproject: dict[str, Any],
    files: dict[str, dict[str, str]],
    store_paths: list[str],
    system: str,
    python_version: str,
    name: str,
    version: str,
) -> dict[str, Any]:
    environment = marker_environment(system, python_version)
    graph = main_group(lock, pyproject, environment)
    packages = {canonical(p["name"]): p for p in lock["package"]}
    used = {canonical(n): spec for n, spec in files.items()}
    closure = set(store_paths)
    python = []
    for package_name in sorted(graph):
        if package_name not in used:
            raise SystemExit(f"sbom.py: no file from Nix for the main-group package {package_name}")
        if used[package_name]["path"] not in closure:
            raise SystemExit(f"sbom.py: {package_name} ({used[package_name]['path']}) is not in the image's closure")
        python.append(python_component(packages[package_name], used[package_name]))
    python_paths = {used[n]["path"] for n in graph}
    others = [store_component(path) for path in sorted(closure - python_paths)]
    image_ref = f"{name}-image"
    ref = {n: f"pkg:pypi/{n}@{packages[n]['version']}" for n in graph}
    document: dict[str, Any] = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "metadata": {
            "tools": {"components": [{"type": "application", "name": "desideliver nix/sbom.py"}]},
            "component": {"type": "container", "bom-ref": image_ref, "name": name, "version": version},
            "properties": [{"name": "nix:system", "value": system}],
        },
        "components": python + others,
        "dependencies": [
            {"ref": image_ref, "dependsOn": sorted(c["bom-ref"] for c in python + others)},
            *({"ref": ref[n], "dependsOn": sorted(ref[d] for d in graph[n])} for n in sorted(graph)),
        ],
    }
    content = json.dumps(document, sort_keys=True).encode()
    document["serialNumber"] = uuid.uuid5(uuid.NAMESPACE_URL, content.hex()).urn
    return document


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lock", type=Path, required=True)
    parser.add_argument("--pyproject", type=Path, required=True)
    parser.add_argument("--files", type=Path, required=True, help="JSON: locked name -> {file, path}")
    parser.add_argument("--store-paths", type=Path, required=True, help="closureInfo's store-paths")
    parser.add_argument("--system", required=True)
    parser.add_argument("--python-version", required=True)
    parser.add_argument("--name", default="desideliver")
    parser.add_argument("--version", default=None, help="default: pyproject.toml's")
    args = parser.parse_args(argv)
    pyproject = tomllib.loads(args.pyproject.read_text())
    document = sbom(
        lock=tomllib.loads(args.lock.read_text()),
        pyproject=pyproject,
        files=json.loads(args.files.read_text()),
        store_paths=args.store_paths.read_text().split(),
        system=args.system,
        python_version=args.python_version,
        name=args.name,
        version=args.version or pyproject["tool"]["poetry"]["version"],
    )
    json.dump(document, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
