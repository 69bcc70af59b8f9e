"""What the image gets from poetry.lock: the main group, without the dev tools.

Which file poetry2nix picks for each package (wheels for every system, psycopg-c's sdist) is
tested with poetry2nix's real code in test_poetry2nix_files.py; this module keeps what that
test does not cover: the main group walked from pyproject.toml's dependencies with their
extras and markers holds none of the dev tools (nix/package.nix also sets checkGroups = [ ],
so the dev group is no build input of the app). Reads pyproject.toml and poetry.lock only.
"""

from __future__ import annotations

import tomllib

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.nix._nix import ROOT


def _lock() -> dict:
    return tomllib.loads((ROOT / "poetry.lock").read_text())


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _environment(arch: str) -> dict[str, str]:
    return {
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "python_version": "3.12",
        "python_full_version": "3.12.7",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "os_name": "posix",
        "platform_machine": arch,
        "platform_release": "",
        "platform_version": "",
        "implementation_version": "3.12.7",
    }


def _applies(markers: str | None, arch: str, extras: set[str]) -> bool:
    if not markers:
        return True
    marker = Marker(markers)
    if not extras:
        return marker.evaluate(dict(_environment(arch), extra=""))
    return any(marker.evaluate(dict(_environment(arch), extra=e)) for e in extras)


def main_group(arch: str) -> dict[str, dict]:
    """The lock's packages reachable from the main group's dependencies, on linux/arch."""
    packages = {canonicalize_name(p["name"]): p for p in _lock()["package"]}
    deps = _pyproject()["tool"]["poetry"]["dependencies"]
    todo: list[tuple[str, set[str]]] = []
    for name, spec in deps.items():
        if name == "python":
            continue
        extras = set(spec.get("extras", [])) if isinstance(spec, dict) else set()
        markers = spec.get("markers") if isinstance(spec, dict) else None
        if isinstance(spec, dict) and spec.get("optional"):
            continue
        if _applies(markers, arch, set()):
            todo.append((canonicalize_name(name), extras))
    seen: dict[str, set[str]] = {}
    while todo:
        name, extras = todo.pop()
        if name in seen and extras <= seen[name]:
            continue
        seen[name] = seen.get(name, set()) | extras
        package = packages[name]
        wanted_optional: set[str] = set()
        for extra in seen[name]:
            for requirement in package.get("extras", {}).get(extra, []):
                wanted_optional.add(canonicalize_name(Requirement(requirement.split(" (")[0]).name))
        for dep_name, dep_specs in package.get("dependencies", {}).items():
            dep = canonicalize_name(dep_name)
            for spec in dep_specs if isinstance(dep_specs, list) else [dep_specs]:
                if isinstance(spec, str):
                    spec = {"version": spec}
                if spec.get("optional") and dep not in wanted_optional:
                    continue
                if not _applies(spec.get("markers"), arch, seen[name]):
                    continue
                todo.append((dep, set(spec.get("extras", []))))
                break
    return {name: packages[name] for name in seen}


def test_dev_group_is_not_in_the_main_group() -> None:
    group = main_group("x86_64")
    assert not {"pytest", "mypy", "ruff"} & set(group)
