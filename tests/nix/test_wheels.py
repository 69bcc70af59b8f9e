"""`preferWheels = true` can never fall back to an sdist whose build backend nobody provided.

Every package of poetry.lock's main group (what the image gets) must have a wheel that
CPython 3.12 can use on manylinux x86_64 and aarch64, or a pure-Python wheel. The only
exceptions are packages built from their sdist by an override in nix/overrides.nix
(psycopg-c). Reads pyproject.toml and poetry.lock only.
"""

from __future__ import annotations

import re
import tomllib

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.nix._nix import ROOT

# Built from the sdist by a documented override (nix/overrides.nix).
SDIST_OVERRIDES = {"psycopg-c"}
# nixpkgs' glibc at our pin is 2.40: manylinux_2_N wheels need N <= 40.
MAX_GLIBC_MINOR = 40
ARCHES = ("x86_64", "aarch64")


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


WHEEL = re.compile(
    r"^(?P<name>[^-]+)-(?P<version>[^-]+)(-(?P<build>\d[^-]*))?-(?P<py>[^-]+)-(?P<abi>[^-]+)-(?P<plat>[^-]+)\.whl$"
)


def usable_on(filename: str, arch: str) -> bool:
    """Whether CPython 3.12 on glibc Linux/arch can install this wheel."""
    match = WHEEL.match(filename)
    if not match:
        return False
    pys, abis, plats = (set(match[k].split(".")) for k in ("py", "abi", "plat"))
    plat_ok = "any" in plats or any(_manylinux(p, arch) for p in plats)
    if not plat_ok:
        return False
    if "none" in abis and "any" in plats:
        return bool(pys & {"py3", "py312", "cp312", "py2.py3"}) or any(p.startswith("py3") for p in pys)
    if "cp312" in abis and "cp312" in pys:
        return True
    if "abi3" in abis:
        return any(p.startswith("cp3") and int(p[3:] or 0) <= 12 for p in pys)
    if "none" in abis:
        return bool(pys & {"py3", "cp312"})
    return False


def _manylinux(tag: str, arch: str) -> bool:
    legacy = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}
    for prefix, _ in legacy.items():
        if tag == f"{prefix}_{arch}":
            return True
    match = re.fullmatch(rf"manylinux_(\d+)_(\d+)_{arch}", tag)
    return bool(match) and int(match[1]) == 2 and int(match[2]) <= MAX_GLIBC_MINOR


@pytest.mark.parametrize("arch", ARCHES)
def test_main_group_has_wheels(arch: str) -> None:
    group = main_group(arch)
    assert {"django", "psycopg", "psycopg-c", "gunicorn"} <= set(group)
    missing = []
    for name, package in sorted(group.items()):
        wheels = [f["file"] for f in package["files"] if usable_on(f["file"], arch)]
        if not wheels and name not in SDIST_OVERRIDES:
            missing.append(f"{name} {package['version']}")
    assert not missing, (
        f"no CPython 3.12 manylinux {arch} or pure wheel in poetry.lock for: {', '.join(missing)}; "
        "poetry2nix would build them from sdist with preferWheels: add an override in "
        "nix/overrides.nix and to SDIST_OVERRIDES, or pick a version with wheels"
    )


def test_dev_group_is_not_in_the_main_group() -> None:
    group = main_group("x86_64")
    assert not {"pytest", "mypy", "ruff"} & set(group)


def test_sdist_overrides_are_documented() -> None:
    overrides = (ROOT / "nix" / "overrides.nix").read_text()
    for name in SDIST_OVERRIDES:
        assert f"{name} = prev.{name}.overridePythonAttrs" in overrides
        files = {canonicalize_name(p["name"]): p for p in _lock()["package"]}[name]["files"]
        assert any(f["file"].endswith(".tar.gz") for f in files), f"{name} has no sdist in the lock"


@pytest.mark.parametrize(
    ("filename", "arch", "usable"),
    [
        ("django-5.2.19-py3-none-any.whl", "x86_64", True),
        ("rpds_py-1-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", "x86_64", True),
        ("rpds_py-1-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", "aarch64", False),
        ("rpds_py-1-cp312-cp312-musllinux_1_2_aarch64.whl", "aarch64", False),
        ("rpds_py-1-cp313-cp313-manylinux_2_17_aarch64.whl", "aarch64", False),
        ("psutil-7-cp36-abi3-manylinux_2_12_aarch64.manylinux2010_aarch64.whl", "aarch64", True),
        ("x-1-cp312-cp312-manylinux_2_41_x86_64.whl", "x86_64", False),
        ("x-1-cp312-cp312-win_amd64.whl", "x86_64", False),
    ],
)
def test_wheel_tag_rules(filename: str, arch: str, usable: bool) -> None:
    assert usable_on(filename, arch) is usable
