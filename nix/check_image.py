#!/usr/bin/env python3
"""Check a Docker image archive built by dockerTools (or any `docker save` archive).

Usage: python3 nix/check_image.py IMAGE.tar[.gz] [--budget-mb 180]

Merges the layers into one file tree (nix/image_archive.py) and fails (exit 1) with a list of
problems unless:

- the user is numeric and not 0 (uid, and gid when given);
- no shell (sh, bash, ash, dash, busybox, ...) is at /bin, /usr/bin, /sbin, /usr/sbin or in a
  directory of the image's PATH, and /bin/sh does not exist;
- the entrypoint's target exists in the layers (symlinks followed);
- /tmp is a directory of mode 1777;
- /etc/passwd has an entry for the user's uid;
- `created` is the fixed date dockerTools uses (1970-01-01);
- the OCI labels org.opencontainers.image.{title,description,version,source,licenses,revision}
  are present and non-empty;
- a STATIC_ROOT in the environment that points into /nix/store exists in the layers;
- the layers, uncompressed, fit the size budget (--budget-mb, default 180 MB); over it, the
  failure names the largest store paths.

It also prints: the size against the budget, the ten largest /nix/store paths, and store paths
that look like things the service never runs (shells, coreutils, compilers, package managers,
PostgreSQL server binaries), which are reported, not failed. Standard library only.
"""

from __future__ import annotations

import argparse
import posixpath
import re
import sys
from typing import Any

from image_archive import Entry, Image, ImageError, load_image, resolve

SHELLS = ("sh", "bash", "ash", "dash", "busybox", "zsh", "ksh", "mksh", "csh", "tcsh", "fish")
SHELL_DIRS = ("/bin", "/usr/bin", "/sbin", "/usr/sbin")
REQUIRED_LABELS = tuple(
    f"org.opencontainers.image.{name}" for name in ("title", "description", "version", "source", "licenses", "revision")
)
FIXED_CREATED_PREFIX = "1970-01-01T"
# Smaller than slim-Dockerfile images of comparable Django apps (161-254 MB); docs/nix.md.
DEFAULT_BUDGET_MB = 180
LARGEST_IN_FAILURE = 5
# Store path names (after the hash) that the service never runs: reported, not failed.
SUSPICIOUS = (
    (re.compile(r"^(bash|bash-interactive|dash|busybox|zsh)-\d"), "a shell"),
    (re.compile(r"^coreutils-\d"), "coreutils"),
    (re.compile(r"^(gcc|clang|binutils|cc-wrapper|gcc-wrapper)(-wrapper)?-\d"), "a compiler toolchain"),
    (re.compile(r"^(python3\.\d+-)?(poetry|pip)-\d"), "a package manager"),
    (re.compile(r"^postgresql-\d+(\.\d+)*$"), "PostgreSQL's server output (only libpq is needed)"),
)
STORE_PATH = re.compile(r"^/nix/store/([0-9a-z]{32}-[^/]+)")


def _env(config: dict[str, Any]) -> dict[str, str]:
    env = {}
    for item in config.get("config", {}).get("Env") or []:
        key, _, value = item.partition("=")
        env[key] = value
    return env


def check(image: Image, budget_mb: float = DEFAULT_BUDGET_MB) -> tuple[list[str], list[str]]:
    """Return (failures, report lines)."""
    failures: list[str] = []
    report: list[str] = []
    files = image.files
    cfg = image.config.get("config") or {}
    env = _env(image.config)

    # User: numeric, not root.
    user = str(cfg.get("User") or "")
    uid_text, _, gid_text = user.partition(":")
    uid = None
    if not user:
        failures.append("user: no User is set, so the container runs as root")
    elif not uid_text.isdigit() or (gid_text and not gid_text.isdigit()):
        failures.append(f"user: {user!r} is not numeric uid[:gid] (Kubernetes runAsNonRoot cannot verify names)")
    elif int(uid_text) == 0:
        failures.append(f"user: {user!r} is root (uid 0)")
    else:
        uid = int(uid_text)

    # Shells.
    if "/bin/sh" in files:
        failures.append("shell: /bin/sh exists")
    dirs = list(SHELL_DIRS)
    for directory in env.get("PATH", "").split(":"):
        if directory and directory not in dirs:
            dirs.append(directory)
    for directory in dirs:
        if directory.startswith("/nix/store/"):
            continue  # reported below with the rest of the store
        for shell in SHELLS:
            path = f"{directory}/{shell}"
            if path == "/bin/sh":
                continue
            if path in files or resolve(files, path):
                failures.append(f"shell: {path} exists")
    store_shells = sorted(
        name
        for name, entry in files.items()
        if name.startswith("/nix/store/")
        and posixpath.basename(name) in SHELLS
        and posixpath.basename(posixpath.dirname(name)) in ("bin", "sbin")
        and entry.kind in ("file", "symlink", "hardlink")
    )

    # Entrypoint.
    entrypoint = cfg.get("Entrypoint") or []
    if not entrypoint:
        failures.append("entrypoint: no Entrypoint is set")
    else:
        target = resolve(files, entrypoint[0]) if entrypoint[0].startswith("/") else None
        if target is None or files.get(target, Entry("other", 0, 0)).kind not in ("file", "hardlink"):
            failures.append(f"entrypoint: {entrypoint[0]} does not exist in the layers")
        elif not files[target].mode & 0o111:
            failures.append(f"entrypoint: {entrypoint[0]} is not executable")

    # /tmp.
    tmp = files.get("/tmp")  # noqa: S108 - the image's /tmp, not a temporary file
    if tmp is None:
        failures.append("tmp: /tmp does not exist")
    elif tmp.kind != "dir":
        failures.append(f"tmp: /tmp is a {tmp.kind}, not a directory")
    elif tmp.mode & 0o7777 != 0o1777:
        failures.append(f"tmp: /tmp has mode {tmp.mode & 0o7777:o}, not 1777")

    # /etc/passwd.
    if uid is not None:
        passwd = _read_text(image, "/etc/passwd")
        if passwd is None:
            failures.append("passwd: /etc/passwd does not exist")
        else:
            uids = {line.split(":")[2] for line in passwd.splitlines() if line.count(":") >= 6}
            if str(uid) not in uids:
                failures.append(f"passwd: /etc/passwd has no entry for uid {uid}")

    # created.
    created = str(image.config.get("created") or "")
    if not created.startswith(FIXED_CREATED_PREFIX):
        failures.append(f'created: {created!r} is not the fixed 1970-01-01 date (is `created` set to "now"?)')

    # Labels.
    labels = cfg.get("Labels") or {}
    for label in REQUIRED_LABELS:
        if not labels.get(label):
            failures.append(f"label: {label} is missing")

    # STATIC_ROOT.
    static_root = env.get("STATIC_ROOT", "")
    if static_root.startswith("/nix/store/") and resolve(files, static_root) is None:
        failures.append(f"static: STATIC_ROOT {static_root} is not in the layers")

    # Size, and the largest store paths (in the failure too, when over the budget).
    content_bytes = sum(e.size for e in files.values() if e.kind == "file")
    budget = budget_mb * 1_000_000
    verdict = "within" if image.layer_bytes <= budget else "OVER"
    report.append(
        f"size: {image.layer_bytes / 1e6:.1f} MB of layers uncompressed "
        f"({content_bytes / 1e6:.1f} MB of file contents), {verdict} the {budget_mb:g} MB budget"
    )
    by_path = store_path_sizes(files)
    largest = sorted(by_path.items(), key=lambda kv: (-kv[1], kv[0]))
    if image.layer_bytes > budget:
        names = ", ".join(f"/nix/store/{name} ({size / 1e6:.1f} MB)" for name, size in largest[:LARGEST_IN_FAILURE])
        failures.append(
            f"size: {image.layer_bytes / 1e6:.1f} MB of layers is over the {budget_mb:g} MB budget; largest: {names}"
        )
    report.append(f"store paths: {len(by_path)}; the ten largest:")
    for name, size in largest[:10]:
        report.append(f"  {size / 1e6:8.1f} MB  /nix/store/{name}")
    for name in sorted(by_path):
        pname = name.split("-", 1)[1]
        for pattern, what in SUSPICIOUS:
            if pattern.search(pname):
                report.append(f"flag: /nix/store/{name} looks like {what}")
    for name in store_shells:
        report.append(f"flag: shell inside the store (not reachable from PATH): {name}")
    return failures, report


def store_path_sizes(files: dict[str, Entry]) -> dict[str, int]:
    """Bytes of file contents under each /nix/store path of the merged tree."""
    by_path: dict[str, int] = {}
    for name, entry in files.items():
        match = STORE_PATH.match(name)
        if match:
            by_path[match.group(1)] = by_path.get(match.group(1), 0) + (entry.size if entry.kind == "file" else 0)
    return by_path


def _read_text(image: Image, path: str) -> str | None:
    real = resolve(image.files, path)
    return None if real is None else image.texts.get(real)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("archive", help="image archive (.tar or .tar.gz), e.g. ./result")
    parser.add_argument("--budget-mb", type=float, default=DEFAULT_BUDGET_MB)
    args = parser.parse_args(argv)
    try:
        image = load_image(args.archive)
    except ImageError as exc:
        print(f"FAIL: {exc}")
        return 1
    failures, report = check(image, args.budget_mb)
    tags = ", ".join(image.manifest.get("RepoTags") or []) or "(no tag)"
    print(f"image: {args.archive} {tags}")
    for line in report:
        print(line)
    if failures:
        print(f"FAIL: {len(failures)} problem(s):")
        for failure in failures:
            print(f"  - {failure}")
        return 1
    print("OK: all image checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
