"""What an image's file system holds, read from `docker export`'s tar (Engine.export)."""

from __future__ import annotations

import re
import tarfile
from pathlib import Path

# Programs a shell-less image must not contain, by file name, anywhere in its file system.
FORBIDDEN = {
    "sh", "bash", "dash", "ash", "zsh", "busybox", "toybox", "coreutils", "ls", "cat", "cp", "mv", "rm", "env",
    "chmod", "mkdir", "sed", "awk", "grep", "find", "tar", "gzip", "curl", "wget", "su", "sudo", "setpriv",
    "apt", "apt-get", "dpkg", "apk", "rpm", "pip", "pip3", "ensurepip", "gcc", "cc", "ld",
}  # fmt: skip


def members(tar: tarfile.TarFile) -> dict[str, tarfile.TarInfo]:
    """Every entry by its path relative to the root (no leading ./)."""
    return {member.name.lstrip("./"): member for member in tar.getmembers()}


def forbidden(entries: dict[str, tarfile.TarInfo]) -> list[str]:
    return sorted(name for name in entries if Path(name).name in FORBIDDEN)


def programs(tar: tarfile.TarFile, entries: dict[str, tarfile.TarInfo]) -> list[str]:
    """ELF files with an x bit that are not shared libraries. (Python modules with a shebang are
    not programs here: no interpreter sits where their first line points.)"""
    return sorted(
        name
        for name, member in entries.items()
        if member.isfile()
        and member.mode & 0o111
        and not re.search(r"\.so(\.\d+)*$", name)
        and tar.extractfile(member).read(4) == b"\x7fELF"  # type: ignore[union-attr]
    )
