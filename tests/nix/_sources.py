"""The upstream sources the real-code Nix tests evaluate, verified against flake.lock.

The tarballs live outside the repository (test data, not project code): by default in
`../shared/nix-sources/` next to the repository, or in the directory named by
DESIDELIVER_NIX_SOURCES. Without them the tests skip, saying where to get them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.nix._nix import ROOT

# nix-community/nixpkgs.lib at the last commit before our nixpkgs pin (75e28c02, 2024-10-28):
# nixpkgs' lib/ alone. Not in flake.lock (which pins all of nixpkgs), so it has no narHash there.
NIXPKGS_LIB_REV = "642abad696437573380610426f05fa70af3628ec"


def sources_dir() -> Path:
    return Path(os.environ.get("DESIDELIVER_NIX_SOURCES") or ROOT.parent / "shared" / "nix-sources")


def locked_poetry2nix() -> dict:
    lock = json.loads((ROOT / "flake.lock").read_text())
    return lock["nodes"][lock["nodes"][lock["root"]]["inputs"]["poetry2nix"]]["locked"]


def _tarball(name: str, where: str) -> Path:
    path = sources_dir() / name
    if not path.is_file():
        # CI (.ci/run) has shared/ beside the clone: there a missing tarball is a failure, not a skip.
        absent = pytest.fail if os.environ.get("CI") == "true" else pytest.skip
        absent(
            f"{path} not found: these tests run poetry2nix's real code and need its source "
            f"({where}) as a tarball whose `tar -xzf` gives source/; put it there or set "
            "DESIDELIVER_NIX_SOURCES to its directory"
        )
    return path


def extract(tarball: Path, into: Path) -> Path:
    into.mkdir(parents=True, exist_ok=True)
    subprocess.run(["tar", "-xzf", str(tarball), "-C", str(into)], check=True, timeout=120)
    return into / "source"


def nix_hash_path(path: Path) -> str:
    nix = shutil.which("nix")
    if nix is None:
        pytest.skip("the nix command is not installed (apt install nix-bin); .ci/run installs it")
    result = subprocess.run(
        [nix, "--extra-experimental-features", "nix-command", "hash", "path", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def poetry2nix_source(workdir: Path) -> Path:
    """poetry2nix's tree at flake.lock's revision; fails unless it hashes to the lock's narHash."""
    locked = locked_poetry2nix()
    tarball = _tarball(
        f"poetry2nix-{locked['rev'][:8]}.tar.gz",
        f"github.com/{locked['owner']}/{locked['repo']} at {locked['rev']}",
    )
    source = extract(tarball, workdir / "poetry2nix")
    assert nix_hash_path(source) == locked["narHash"], f"{tarball} is not the poetry2nix flake.lock pins"
    return source


def nixpkgs_lib_source(workdir: Path) -> Path:
    tarball = _tarball(
        f"nixpkgs-lib-{NIXPKGS_LIB_REV[:8]}.tar.gz", f"github.com/nix-community/nixpkgs.lib at {NIXPKGS_LIB_REV}"
    )
    source = extract(tarball, workdir / "nixpkgs-lib")
    assert (source / "lib" / "default.nix").is_file(), f"{tarball} has no source/lib/default.nix"
    return source
