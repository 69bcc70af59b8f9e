"""The one skip condition for tests that read git: they need git and a work tree.

The Nix build sandbox (`nix flake check`'s checks.pytest, nix/checks.nix) runs the suite on a
store copy of the flake's source: no `.git` and no git binary. Every other condition the suite
needs holds there (loopback networking, random ports, PostgreSQL and Redis on PATH, a non-root
build user); see docs/nix.md, "The pytest check in the sandbox".
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def require_git_work_tree(path: Path) -> None:
    """Skip the calling test unless `path` is inside a git work tree and git is installed."""
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed (as in the Nix build sandbox): nothing to list tracked files with")
    inside = subprocess.run(
        [git, "rev-parse", "--is-inside-work-tree"], cwd=path, capture_output=True, text=True, timeout=30
    )
    if inside.stdout.strip() != "true":
        pytest.skip(f"{path} is not a git work tree (as the Nix build sandbox's source copy): no tracked files")
