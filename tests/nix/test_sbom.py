"""nix/sbom.py, the image's CycloneDX SBOM generator, run as nix/sbom.nix runs it.

Its inputs are real wherever they can be here: poetry.lock and pyproject.toml; the file
poetry2nix builds each package from, computed by poetry2nix's own code for each Linux system
(tests/nix/poetry2nix/select-files.nix, the `selections` fixture). Stand-ins: the store paths
(nothing is built here), named the way nixpkgs names them. What the main group is comes from
Poetry itself (`poetry export --only main`, its markers evaluated for the image), not from the
generator's own walk of the lock; the document is validated against the CycloneDX 1.5 JSON
schema that cyclonedx-python-lib ships, with its validator.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.nix._nix import ROOT
from tests.nix.conftest import selected

LINUX = ("x86_64-linux", "aarch64-linux")
PYTHON_VERSION = "3.12.7"  # nixpkgs' python312 at our pin
# Some of what the image's closure holds besides the Python packages, as Nix names store paths.
OTHER_STORE_PATHS = {
    "glibc-2.40-36": ("glibc", "2.40-36"),
    "python3-3.12.7": ("python3", "3.12.7"),
    "openssl-3.3.2": ("openssl", "3.3.2"),
    "postgresql-16.4-lib": ("postgresql", "16.4-lib"),
    "desideliver-launcher-0.1.0": ("desideliver-launcher", "0.1.0"),
    "fake-nss": ("fake-nss", None),
}


def store_path(name: str) -> str:
    return f"/nix/store/{'a' * 31}{len(name) % 10}-{name}"


@pytest.fixture(scope="module")
def lock() -> dict[str, dict[str, Any]]:
    return {canonicalize_name(p["name"]): p for p in tomllib.loads((ROOT / "poetry.lock").read_text())["package"]}


def image_environment(system: str) -> dict[str, str]:
    return {
        "implementation_name": "cpython",
        "platform_machine": system.split("-")[0],
        "platform_python_implementation": "CPython",
        "platform_system": "Linux",
        "python_full_version": PYTHON_VERSION,
        "python_version": "3.12",
        "sys_platform": "linux",
        "os_name": "posix",
    }


@pytest.fixture(scope="module")
def poetry_main_group(tmp_path_factory: pytest.TempPathFactory) -> list[Requirement]:
    """Poetry's own answer: `poetry export --only main`, one requirement (with markers) a line."""
    poetry = shutil.which("poetry")
    if poetry is None:
        pytest.skip("poetry is not installed (.ci/run installs Poetry 1.8)")
    output = tmp_path_factory.mktemp("export") / "main.txt"
    result = subprocess.run(
        [poetry, "export", "--only", "main", "-f", "requirements.txt", "--without-hashes", "-o", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return [Requirement(line) for line in output.read_text().splitlines() if line and not line.startswith("#")]


def expected_packages(requirements: list[Requirement], system: str) -> dict[str, str]:
    environment = image_environment(system)
    expected = {}
    for requirement in requirements:
        if requirement.marker is None or requirement.marker.evaluate(environment):
            (version,) = [spec.version for spec in requirement.specifier]
            expected[canonicalize_name(requirement.name)] = version
    return expected


def generator_inputs(
    tmp_path: Path, selections: dict, lock: dict, closure_packages: set[str], system: str
) -> list[str]:
    """nix/sbom.nix's arguments: FILES.json (poetry2nix's real choice) and the closure's store-paths."""
    chosen = selected(selections, system)
    files = {
        name: {"file": chosen[name]["file"], "path": store_path(f"python3.12-{name}-{package['version']}")}
        for name, package in lock.items()
    }
    closure = [files[name]["path"] for name in sorted(closure_packages)] + [store_path(n) for n in OTHER_STORE_PATHS]
    (tmp_path / "files.json").write_text(json.dumps(files))
    (tmp_path / "store-paths").write_text("\n".join(closure) + "\n")
    return [
        "--lock",
        str(ROOT / "poetry.lock"),
        "--pyproject",
        str(ROOT / "pyproject.toml"),
        "--files",
        str(tmp_path / "files.json"),
        "--store-paths",
        str(tmp_path / "store-paths"),
        "--system",
        system,
        "--python-version",
        PYTHON_VERSION,
        "--version",
        "0.1.0",
    ]


def run_generator(arguments: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "nix" / "sbom.py"), *arguments], capture_output=True, text=True, timeout=60
    )


@pytest.fixture(scope="module", params=LINUX)
def generated(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    selections: dict,
    lock: dict,
    poetry_main_group: list[Requirement],
) -> dict[str, Any]:
    system = request.param
    expected = expected_packages(poetry_main_group, system)
    arguments = generator_inputs(tmp_path_factory.mktemp(f"sbom-{system}"), selections, lock, set(expected), system)
    result = run_generator(arguments)
    assert result.returncode == 0, result.stderr
    return {
        "system": system,
        "expected": expected,
        "text": result.stdout,
        "document": json.loads(result.stdout),
        "again": run_generator(arguments).stdout,
    }


def python_components(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in document["components"] if c.get("purl", "").startswith("pkg:pypi/")}


def test_every_locked_main_group_package_is_listed_with_its_version(generated: dict) -> None:
    listed = {name: c["version"] for name, c in python_components(generated["document"]).items()}
    assert listed == generated["expected"]
    assert {"django", "psycopg", "psycopg-c", "gunicorn", "procrastinate"} <= set(listed)
    assert not {"pytest", "ruff", "mypy", "cyclonedx-python-lib"} & set(listed), "the dev group is not in the image"


def test_each_hash_is_the_locks_for_the_file_poetry2nix_uses(
    generated: dict, selections: dict, lock: dict[str, dict[str, Any]]
) -> None:
    chosen = selected(selections, generated["system"])
    for name, component in python_components(generated["document"]).items():
        file = chosen[name]["file"]
        (locked_hash,) = [f["hash"] for f in lock[name]["files"] if f["file"] == file]
        assert component["hashes"] == [{"alg": "SHA-256", "content": locked_hash.removeprefix("sha256:")}], name
        properties = {p["name"]: p["value"] for p in component["properties"]}
        assert properties["poetry2nix:file"] == file
        assert properties["nix:store-path"].endswith(f"-python3.12-{name}-{component['version']}")
        assert component["purl"] == f"pkg:pypi/{name}@{component['version']}"
    assert python_components(generated["document"])["psycopg-c"]["properties"][0]["value"].endswith(".tar.gz")


def test_the_rest_of_the_closure_is_listed_by_store_path(generated: dict) -> None:
    others = {c["bom-ref"]: c for c in generated["document"]["components"] if "purl" not in c}
    assert set(others) == {store_path(name) for name in OTHER_STORE_PATHS}
    for name, (pname, version) in OTHER_STORE_PATHS.items():
        component = others[store_path(name)]
        assert (component["name"], component.get("version")) == (pname, version)
    image = generated["document"]["metadata"]["component"]
    assert (image["type"], image["name"], image["version"]) == ("container", "desideliver", "0.1.0")
    (image_dependencies,) = [d for d in generated["document"]["dependencies"] if d["ref"] == image["bom-ref"]]
    assert set(image_dependencies["dependsOn"]) == {c["bom-ref"] for c in generated["document"]["components"]}


def test_the_document_is_valid_cyclonedx_1_5(generated: dict) -> None:
    assert generated["document"]["specVersion"] == "1.5"
    assert JsonStrictValidator(SchemaVersion.V1_5).validate_str(generated["text"]) is None


def test_the_validator_catches_a_broken_document(generated: dict) -> None:
    """The check above can fail: a hash algorithm the schema doesn't know is refused."""
    broken = json.loads(generated["text"])
    python_components(broken)["django"]["hashes"][0]["alg"] = "sha256"
    assert JsonStrictValidator(SchemaVersion.V1_5).validate_str(json.dumps(broken)) is not None


def test_the_same_inputs_give_the_same_document(generated: dict) -> None:
    assert generated["again"] == generated["text"]
    assert generated["document"]["serialNumber"].startswith("urn:uuid:")
    assert "timestamp" not in generated["document"]["metadata"]


def test_a_main_group_package_missing_from_the_closure_fails_the_build(
    tmp_path: Path, selections: dict, lock: dict, poetry_main_group: list[Requirement]
) -> None:
    expected = expected_packages(poetry_main_group, "x86_64-linux")
    arguments = generator_inputs(tmp_path, selections, lock, set(expected) - {"django"}, "x86_64-linux")
    result = run_generator(arguments)
    assert result.returncode != 0
    assert "django" in result.stderr
    assert "is not in the image's closure" in result.stderr


def test_markers_are_evaluated_for_the_image() -> None:
    """The generator's marker environment is the image's: CPython 3.12.7 on Linux."""
    sys.path.insert(0, str(ROOT / "nix"))
    try:
        import sbom  # nix/sbom.py, as a module
    finally:
        sys.path.remove(str(ROOT / "nix"))
    environment = sbom.marker_environment("aarch64-linux", PYTHON_VERSION)
    assert Marker('python_full_version < "3.11.3"').evaluate(environment) is False  # async-timeout
    assert Marker('sys_platform == "win32"').evaluate(environment) is False
    assert Marker('platform_machine == "aarch64"').evaluate(environment) is True
    with pytest.raises(SystemExit, match="Linux-only"):
        sbom.marker_environment("aarch64-darwin", PYTHON_VERSION)
