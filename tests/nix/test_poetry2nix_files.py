"""poetry2nix's real wheel selection, through our overrides, for every package of poetry.lock.

tests/nix/poetry2nix/select-files.nix (run once per session by conftest.py) runs poetry2nix's
own mk-poetry-dep.nix and vendored pyproject.nix (at the revision flake.lock pins, checked by
narHash) with nixpkgs' real `lib`, for x86_64/aarch64 Linux and Darwin, and returns the file
each package would be built from.
Only derivations are stand-ins there. The expected platform compatibility is computed
independently here with `packaging.tags` (pip's rules), for CPython 3.12, glibc 2.40 (nixpkgs'
at our pin) and the Darwin SDK versions nixpkgs' lib.systems.elaborate gives.
"""

from __future__ import annotations

import tomllib

import pytest
from packaging.tags import Tag, compatible_tags, cpython_tags, mac_platforms
from packaging.utils import canonicalize_name, parse_wheel_filename

from tests.nix._nix import ROOT
from tests.nix.conftest import SYSTEMS, selected

# Built from its sdist on purpose: it ships no wheel (nix/overrides.nix).
SDIST_PACKAGES = {"psycopg-c"}
# Packages whose x86_64 macOS wheels all need macOS >= 10.13, above the SDK nixpkgs targets
# there (10.12): poetry2nix builds them from source in that dev shell only (the image is
# Linux-only; pillow's sdist build gets its C libraries from poetry2nix's default override).
# Listed so that a change either way is noticed.
SDIST_ON = {"x86_64-darwin": {"librt", "markupsafe", "pillow", "pyyaml"}}
GLIBC_MINOR = 40
# lib.systems.elaborate's darwinSdkVersion at our pin: 10.12 on x86_64, 11.0 on aarch64.
DARWIN = {"x86_64-darwin": ((10, 12), "x86_64"), "aarch64-darwin": ((11, 0), "arm64")}


def _platforms(system: str) -> list[str]:
    if system in DARWIN:
        version, arch = DARWIN[system]
        return list(mac_platforms(version, arch))
    arch = system.split("-")[0]
    legacy = [f"manylinux2014_{arch}"] + ([f"manylinux2010_{arch}", f"manylinux1_{arch}"] if arch == "x86_64" else [])
    return [f"manylinux_2_{minor}_{arch}" for minor in range(GLIBC_MINOR, 16, -1)] + legacy


def supported_tags(system: str) -> set[Tag]:
    platforms = _platforms(system)
    return set(cpython_tags((3, 12), ["cp312"], platforms)) | set(compatible_tags((3, 12), "cp312", platforms))


@pytest.fixture(scope="module")
def locked() -> dict[str, dict]:
    lock = tomllib.loads((ROOT / "poetry.lock").read_text())
    return {canonicalize_name(p["name"]): p for p in lock["package"]}


@pytest.mark.parametrize("system", SYSTEMS)
def test_every_locked_package_gets_one_of_its_files(selections: dict, locked: dict, system: str) -> None:
    chosen = selected(selections, system)
    assert set(chosen) == set(locked)
    for name, choice in chosen.items():
        assert choice["file"] in {f["file"] for f in locked[name]["files"]}, name


@pytest.mark.parametrize("system", SYSTEMS)
def test_binary_packages_get_a_wheel_for_the_platform(selections: dict, locked: dict, system: str) -> None:
    chosen = selected(selections, system)
    supported = supported_tags(system)
    problems = []
    for name, choice in sorted(chosen.items()):
        wheels = [f["file"] for f in locked[name]["files"] if f["file"].endswith(".whl")]
        usable = [w for w in wheels if parse_wheel_filename(w)[3] & supported]
        platform_specific = [w for w in usable if any(t.platform != "any" for t in parse_wheel_filename(w)[3])]
        if choice["format"] != "wheel":
            if usable and name not in SDIST_PACKAGES:
                problems.append(f"{name}: built from {choice['file']} although usable wheels are {usable}")
        elif not parse_wheel_filename(choice["file"])[3] & supported:
            problems.append(f"{name}: {choice['file']} does not install on CPython 3.12 {system}")
        elif platform_specific and choice["file"] not in platform_specific:
            problems.append(f"{name}: pure {choice['file']} chosen over the {system} wheels {platform_specific}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("system", SYSTEMS)
def test_only_the_known_packages_build_from_their_sdist(selections: dict, system: str) -> None:
    from_sdist = {
        name: choice["file"] for name, choice in selected(selections, system).items() if choice["format"] != "wheel"
    }
    # mk-poetry-dep.nix passes sdists to buildPythonPackage as format "poetry2nix".
    assert all(file.endswith(".tar.gz") for file in from_sdist.values()), from_sdist
    assert {choice for choice in from_sdist} == SDIST_PACKAGES | SDIST_ON.get(system, set()), from_sdist


@pytest.mark.parametrize("system", SYSTEMS)
def test_manylinux_wheels_get_autopatchelf(selections: dict, system: str) -> None:
    for name, choice in selected(selections, system).items():
        patched = "stub:autoPatchelfHook" in choice["nativeBuildInputs"]
        assert patched == ("manylinux" in choice["file"]), name


def test_markers_are_evaluated_per_platform(selections: dict) -> None:
    # django needs tzdata on Windows only; pyproject.nix's PEP 508 evaluation drops it.
    for system in SYSTEMS:
        assert sorted(selected(selections, system)["django"]["dependencies"]) == ["asgiref", "sqlparse"]


@pytest.mark.parametrize(
    ("system", "filename", "usable"),
    [
        ("x86_64-linux", "x-1-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", True),
        ("x86_64-linux", "x-1-cp312-cp312-manylinux_2_41_x86_64.whl", False),
        ("aarch64-linux", "x-1-cp312-cp312-manylinux_2_17_x86_64.whl", False),
        ("x86_64-darwin", "x-1-cp312-cp312-macosx_10_13_x86_64.whl", False),
        ("x86_64-darwin", "x-1-cp312-cp312-macosx_10_9_universal2.whl", True),
        ("aarch64-darwin", "x-1-cp312-cp312-macosx_11_0_arm64.whl", True),
        ("aarch64-darwin", "x-1-py3-none-any.whl", True),
    ],
)
def test_the_expected_tags(system: str, filename: str, usable: bool) -> None:
    assert bool(parse_wheel_filename(filename)[3] & supported_tags(system)) is usable
