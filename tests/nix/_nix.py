"""Helpers for the Nix tests: the repository root and nix-instantiate, skipping without it."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SKIP_REASON = "nix-instantiate is not installed (apt install nix-bin); .ci/run installs it, so CI runs these"


def nix_instantiate() -> str:
    found = shutil.which("nix-instantiate")
    if found is None:
        pytest.skip(SKIP_REASON)
    return found


def nix_eval_json(expr: str) -> object:
    """Evaluate a Nix expression in the repository root, strictly, as JSON (no store writes)."""
    return nix_eval_json_args("--expr", expr)


def nix_eval_json_args(*arguments: str) -> object:
    """`nix-instantiate --eval --strict --json ARGUMENTS` in the repository root, parsed."""
    result = subprocess.run(
        [nix_instantiate(), "--eval", "--strict", "--json", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def nix_files() -> list[Path]:
    skip = {".git", ".venv", ".dev", "node_modules", "result"}
    return sorted(p for p in ROOT.rglob("*.nix") if not skip.intersection(p.relative_to(ROOT).parts))
