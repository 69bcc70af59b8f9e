"""poetry2nix's real code evaluated once per session for the four systems (select-files.nix)."""

from __future__ import annotations

import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.nix._nix import ROOT, nix_instantiate
from tests.nix._sources import nixpkgs_lib_source, poetry2nix_source

SYSTEMS = ("x86_64-linux", "aarch64-linux", "x86_64-darwin", "aarch64-darwin")
HARNESS = "tests/nix/poetry2nix/select-files.nix"


def _evaluate(system: str, poetry2nix: Path, nixpkgs_lib: Path) -> subprocess.CompletedProcess[str]:
    arguments = [*source_arguments((poetry2nix, nixpkgs_lib)), "--argstr", "system", system]
    return subprocess.run(
        [nix_instantiate(), "--readonly-mode", "--eval", "--strict", "--json", HARNESS, *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="session")
def nix_sources(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """poetry2nix at flake.lock's revision (narHash checked) and nixpkgs' lib, extracted once."""
    nix_instantiate()
    workdir = tmp_path_factory.mktemp("nix-sources")
    return poetry2nix_source(workdir), nixpkgs_lib_source(workdir)


def source_arguments(nix_sources: tuple[Path, Path]) -> list[str]:
    """`--arg` options passing both sources to a Nix file taking { poetry2nixSrc, nixpkgsLibSrc }."""
    poetry2nix, nixpkgs_lib = nix_sources
    return ["--arg", "poetry2nixSrc", str(poetry2nix), "--arg", "nixpkgsLibSrc", str(nixpkgs_lib)]


@pytest.fixture(scope="session")
def selections(nix_sources: tuple[Path, Path]) -> dict[str, subprocess.CompletedProcess[str]]:
    """The four evaluations, run concurrently; each fails its tests alone."""
    poetry2nix, nixpkgs_lib = nix_sources
    with ThreadPoolExecutor(len(SYSTEMS)) as pool:
        results = pool.map(lambda s: _evaluate(s, poetry2nix, nixpkgs_lib), SYSTEMS)
        return dict(zip(SYSTEMS, results, strict=True))


def evaluated(selections: dict, system: str) -> dict:
    result = selections[system]
    assert result.returncode == 0, f"poetry2nix cannot evaluate poetry.lock for {system}:\n{result.stderr}"
    return json.loads(result.stdout)


def selected(selections: dict, system: str) -> dict[str, dict]:
    """Package name -> what mk-poetry-dep.nix builds it from, through our overrides."""
    return evaluated(selections, system)["packages"]
