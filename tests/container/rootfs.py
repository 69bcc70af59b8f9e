"""Debian root file systems for the stand-in images, built with debootstrap and cached as tarballs.

Everything is cached under $DESIDELIVER_TEST_CACHE (default /var/cache/desideliver-tests),
outside the repository, keyed by what went into it, so a second run only unpacks tarballs.
The archive's address comes from the machine's own apt sources at run time.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROOT = shutil.which("chroot") or "/usr/sbin/chroot"
CACHE = Path(os.environ.get("DESIDELIVER_TEST_CACHE", "/var/cache/desideliver-tests"))
SUITE = "bookworm"
SOURCES = Path("/etc/apt/sources.list.d/debian.sources")


def debian_archive() -> str:
    """The first URI of the machine's apt stanza that carries the main suite (not -security/-updates)."""
    for stanza in SOURCES.read_text().split("\n\n"):
        fields = dict(line.split(":", 1) for line in stanza.splitlines() if ":" in line and not line.startswith("#"))
        suites = fields.get("Suites", "").split()
        uris = fields.get("URIs", "").split()
        if uris and any("-" not in suite for suite in suites):
            return uris[0]
    raise RuntimeError(f"no Debian archive found in {SOURCES}")


def run(*command: str | Path, **options: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(part) for part in command], check=True, text=True, **options)  # type: ignore[call-overload, no-any-return]


def digest(*paths: Path) -> str:
    """A content hash over files and directory trees (sorted, so stable), for cache keys."""
    sha = hashlib.sha256()
    for path in paths:
        files = (
            sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
            if path.is_dir()
            else [path]
        )
        for file in files:
            sha.update(str(file.relative_to(ROOT)).encode() + b"\0" + file.read_bytes())
    return sha.hexdigest()[:16]


def pack(directory: Path, tarball: Path) -> None:
    """Tar `directory`'s contents into `tarball` atomically (a half-written cache entry never counts)."""
    tarball.parent.mkdir(parents=True, exist_ok=True)
    partial = tarball.with_name(f"{tarball.name}.{os.getpid()}.partial")
    run("tar", "--numeric-owner", "--xattrs", "-C", directory, "-cf", partial, ".")
    partial.replace(tarball)


@contextmanager
def unpacked(tarball: Path) -> Iterator[Path]:
    """A scratch copy of a cached root, removed afterwards."""
    directory = Path(tempfile.mkdtemp(prefix="desideliver-root-", dir=scratch()))
    try:
        run("tar", "--numeric-owner", "--xattrs", "-C", directory, "-xf", tarball)
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def scratch() -> Path:
    """Scratch space next to the cache (same file system, so finished tarballs move atomically)."""
    directory = CACHE / "tmp"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def base_root() -> Path:
    """`debootstrap --variant=minbase bookworm` once; afterwards the cached tarball."""
    tarball = CACHE / f"{SUITE}-minbase.tar"
    if tarball.exists():
        return tarball
    with tempfile.TemporaryDirectory(prefix="desideliver-debootstrap-", dir=scratch()) as d:
        root = Path(d) / "root"
        run("debootstrap", "--variant=minbase", SUITE, root, debian_archive(), stdout=subprocess.DEVNULL)
        # Services must never start inside the build root (no init here), and apt keeps no cache.
        (root / "usr/sbin/policy-rc.d").write_text("#!/bin/sh\nexit 101\n")
        (root / "usr/sbin/policy-rc.d").chmod(0o755)
        run(CHROOT, root, "apt-get", "clean")
        pack(root, tarball)
    return tarball


def derived_root(name: str, packages: list[str], *, prepare: str = "", finish: str = "") -> Path:
    """The base root plus Debian `packages`, with shell snippets run in the root before and after apt."""
    key = hashlib.sha256(repr((packages, prepare, finish)).encode()).hexdigest()[:12]
    tarball = CACHE / f"{SUITE}-{name}-{key}.tar"
    if tarball.exists():
        return tarball
    with unpacked(base_root()) as root:
        shutil.copy("/etc/resolv.conf", root / "etc/resolv.conf")
        environment = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "DEBIAN_FRONTEND": "noninteractive", "LC_ALL": "C"}
        if prepare:
            run(CHROOT, root, "/bin/sh", "-euc", prepare, env=environment)
        run(CHROOT, root, "apt-get", "-qq", "update", env=environment)
        run(
            CHROOT, root, "apt-get", "-qq", "install", "--no-install-recommends", *packages,
            env=environment, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        script = f"{finish}\napt-get clean\nrm -rf /var/lib/apt/lists/* /etc/resolv.conf\n"
        run(CHROOT, root, "/bin/sh", "-euc", script, env=environment)
        pack(root, tarball)
    return tarball


def assembled_root(tarball: Path, source: Callable[[], Path], assemble: Callable[[Path, Path], None]) -> Path:
    """`tarball`, built once by `assemble(unpacked source() root, empty final root)` (`source` is
    asked for its root only then). The cache keeps one root of its kind (the name up to its first
    "-"): the current sources'."""
    if tarball.exists():
        return tarball
    with unpacked(source()) as runtime, tempfile.TemporaryDirectory(dir=scratch()) as directory:
        final = Path(directory) / "root"
        final.mkdir()
        assemble(runtime, final)
        pack(final, tarball)
    kind = tarball.name.split("-", 1)[0]
    for stale in CACHE.glob(f"{kind}-*.tar"):
        if stale != tarball:
            stale.unlink()
    return tarball
