"""The trims of nix/runtime-trims.nix, nix/bytecode.nix and nix/psycopg-c-patch.sh.

What poetry2nix makes of our overrides comes from its real code (conftest.py's evaluation, with
its real default overrides underneath ours). The shell snippets those overrides add are then
run here with bash, as stdenv runs them: the Django one on a copy of the real Django 5.2
installed in this environment, the psycopg-c one on psycopg-c 3.3.8's pyproject.toml lines.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib
from pathlib import Path

import django
import pytest

from tests.nix._nix import ROOT
from tests.nix.conftest import SYSTEMS, evaluated, selected

SITE_PACKAGES = "lib/python3.12/site-packages"
BYTECODE = (ROOT / "nix" / "bytecode.nix").read_text()


def run_hook(script: str, out: Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """A build phase as stdenv runs it: bash with errexit, $out set."""
    return subprocess.run(
        ["bash", "-e", "-c", script],
        env={"out": str(out), "PATH": os.environ["PATH"]},
        cwd=cwd or out,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("system", SYSTEMS)
def test_no_setuptools_or_importlib_resources_at_run_time(selections: dict, system: str) -> None:
    overridden = evaluated(selections, system)["overridden"]
    lock = {p["name"]: p for p in tomllib.loads((ROOT / "poetry.lock").read_text())["package"]}
    # poetry2nix's defaults make these [setuptools, packaging] and the lock's + importlib-resources.
    assert overridden["gunicorn"] == []
    assert sorted(overridden["jsonschema"]) == sorted(lock["jsonschema"]["dependencies"])
    assert overridden["django"]["propagatedNativeBuildInputs"] == []


@pytest.mark.parametrize("system", SYSTEMS)
def test_every_package_keeps_one_bytecode_level(selections: dict, system: str) -> None:
    for name, package in selected(selections, system).items():
        assert package["postInstall"].startswith(BYTECODE.split("''")[1].strip()), name


def test_the_bytecode_trim_deletes_level_1_only(tmp_path: Path) -> None:
    cache = tmp_path / SITE_PACKAGES / "pkg" / "__pycache__"
    cache.mkdir(parents=True)
    for name in ("m.cpython-312.pyc", "m.cpython-312.opt-1.pyc"):
        (cache / name).write_bytes(b"\0")
    result = run_hook(BYTECODE.split("''")[1], tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in cache.iterdir()) == ["m.cpython-312.pyc"]


def _django_locales_copy(out: Path) -> Path:
    """Django's locale directories (and what sits beside them), copied from this environment."""
    source = Path(django.__file__).parent
    target = out / SITE_PACKAGES / "django"
    for locale in [source / "conf" / "locale", *source.glob("contrib/*/locale")]:
        shutil.copytree(locale, target / locale.relative_to(source), ignore=shutil.ignore_patterns("*.pyc"))
    return target


def test_django_keeps_english_only(selections: dict, tmp_path: Path) -> None:
    post_install = evaluated(selections, "x86_64-linux")["overridden"]["django"]["postInstall"]
    target = _django_locales_copy(tmp_path)
    before = sum(f.stat().st_size for f in target.rglob("*") if f.is_file())

    result = run_hook(post_install, tmp_path)
    assert result.returncode == 0, result.stderr

    kept = {p.name for p in target.glob("conf/locale/*/")} | {p.name for p in target.glob("contrib/*/locale/*/")}
    kept.discard("__pycache__")  # conf/locale/__init__.py's bytecode
    assert "en" in kept
    assert all(name == "en" or name.startswith("en_") for name in kept), kept
    assert (target / "conf" / "locale" / "__init__.py").is_file(), "LANG_INFO stays"
    after = sum(f.stat().st_size for f in target.rglob("*") if f.is_file())
    assert before - after > 10_000_000, f"only {(before - after) / 1e6:.1f} MB removed"


def test_the_django_trim_fails_when_the_layout_changes(selections: dict, tmp_path: Path) -> None:
    post_install = evaluated(selections, "x86_64-linux")["overridden"]["django"]["postInstall"]
    (tmp_path / SITE_PACKAGES / "django").mkdir(parents=True)
    result = run_hook(post_install, tmp_path)
    assert result.returncode != 0
    assert "Django locale directories found" in result.stderr


# The lines of psycopg-c 3.3.8's sdist pyproject.toml that nix/psycopg-c-patch.sh edits or checks.
PSYCOPG_C_PYPROJECT = """\
[project]
name = "psycopg-c"
version = "3.3.8"
license = "LGPL-3.0-only"
license-files = ["LICENSE.txt"]
requires-python = ">= 3.10"

[[tool.setuptools.ext-modules]]
name = "psycopg_c._psycopg"
sources = ["psycopg_c/_psycopg.c", "psycopg_c/types/numutils.c"]

[[tool.setuptools.ext-modules]]
name = "psycopg_c.pq"
sources = ["psycopg_c/pq.c"]

[tool.setuptools.cmdclass]
build_ext = "psycopg_build_ext.psycopg_build_ext"
"""
PATCH = ROOT / "nix" / "psycopg-c-patch.sh"
SETUP_PY = ROOT / "nix" / "psycopg-c-setup.py"


def patch_sdist(tmp_path: Path, pyproject: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "pyproject.toml").write_text(pyproject)
    return run_hook(f"bash {PATCH} {SETUP_PY}", tmp_path)


def test_psycopg_c_override_runs_the_patch(selections: dict) -> None:
    post_patch = evaluated(selections, "x86_64-linux")["overridden"]["psycopg-c"]["postPatch"]
    assert "-psycopg-c-patch.sh /nix/store/" in post_patch
    assert post_patch.strip().endswith("-psycopg-c-setup.py")


def test_psycopg_c_installs_no_c_sources(selections: dict, tmp_path: Path) -> None:
    post_install = evaluated(selections, "x86_64-linux")["overridden"]["psycopg-c"]["postInstall"]
    package = tmp_path / SITE_PACKAGES / "psycopg_c"
    (package / "pq").mkdir(parents=True)
    for name in ("_psycopg.c", "pq.c", "pq/libpq.pxd", "_psycopg.cpython-312-x86_64-linux-gnu.so", "__init__.py"):
        (package / name).write_bytes(b"\0")
    result = run_hook(post_install, tmp_path)
    assert result.returncode == 0, result.stderr
    remaining = sorted(p.relative_to(package).as_posix() for p in package.rglob("*") if p.is_file())
    assert remaining == ["__init__.py", "_psycopg.cpython-312-x86_64-linux-gnu.so", "pq/libpq.pxd"]


def test_psycopg_c_patch(tmp_path: Path) -> None:
    result = patch_sdist(tmp_path, PSYCOPG_C_PYPROJECT)
    assert result.returncode == 0, result.stderr
    patched = tomllib.loads((tmp_path / "pyproject.toml").read_text())
    assert patched["project"]["license"] == {"text": "LGPL-3.0-only"}
    assert "license-files" not in patched["project"]
    assert "ext-modules" not in patched["tool"]["setuptools"]
    assert patched["tool"]["setuptools"]["cmdclass"]["build_ext"] == "psycopg_build_ext.psycopg_build_ext"
    assert (tmp_path / "setup.py").read_text() == SETUP_PY.read_text()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('license = "LGPL-3.0-only"', 'license = { text = "LGPL-3.0-only" }'), "^license = "),
        (('license-files = ["LICENSE.txt"]\n', ""), "^license-files = "),
        (('[[tool.setuptools.ext-modules]]\nname = "psycopg_c.pq"', 'name = "psycopg_c.pq"'), "ext-modules"),
        (("build_ext = ", "build_py = "), "^build_ext = "),
    ],
    ids=["licence", "license-files", "ext-modules", "build_ext"],
)
def test_psycopg_c_patch_fails_loudly_when_the_sdist_changes(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    result = patch_sdist(tmp_path, PSYCOPG_C_PYPROJECT.replace(*change))
    assert result.returncode != 0
    assert message in result.stderr
    assert "update nix/psycopg-c-patch.sh" in result.stderr


def test_psycopg_c_patch_refuses_an_sdist_with_a_setup_py(tmp_path: Path) -> None:
    (tmp_path / "setup.py").write_text("# upstream's\n")
    result = patch_sdist(tmp_path, PSYCOPG_C_PYPROJECT)
    assert result.returncode != 0
    assert "setup.py" in result.stderr
    assert (tmp_path / "setup.py").read_text() == "# upstream's\n"
