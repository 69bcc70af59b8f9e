"""Read a Docker image archive (dockerTools' or any `docker save` archive) into one file tree.

manifest.json, the image config and every <layer>/layer.tar, merged in order (whiteouts
applied), with symlinks resolved inside the image. Standard library only; used by
nix/check_image.py.
"""

from __future__ import annotations

import io
import json
import posixpath
import tarfile
from dataclasses import dataclass
from typing import Any

# Files whose text the checks read (small ones only).
TEXT_NAMES = ("passwd",)


class ImageError(Exception):
    """The archive is not a readable image."""


@dataclass
class Entry:
    kind: str  # "file", "dir", "symlink", "hardlink", "other"
    mode: int
    size: int
    target: str = ""


@dataclass
class Image:
    manifest: dict[str, Any]
    config: dict[str, Any]
    files: dict[str, Entry]
    layer_bytes: int
    texts: dict[str, str]  # contents of small files named in TEXT_NAMES, by path


def _norm(path: str) -> str:
    """Archive member name -> absolute image path ("./etc/passwd" -> "/etc/passwd")."""
    while path.startswith("./"):
        path = path[2:]
    if path in ("", "."):
        return "/"
    return posixpath.normpath("/" + path.lstrip("/"))


def _read_member(outer: tarfile.TarFile, name: str) -> bytes:
    candidates = [name, "./" + name, name.lstrip("./")]
    for candidate in candidates:
        try:
            member = outer.getmember(candidate)
        except KeyError:
            continue
        handle = outer.extractfile(member)
        if handle is None:
            break
        return handle.read()
    raise ImageError(f"{name} is missing from the archive")


def load_image(path: str) -> Image:
    try:
        outer = tarfile.open(path, "r:*")  # noqa: SIM115 - closed by the `with outer` below
    except (OSError, tarfile.TarError) as exc:
        raise ImageError(f"cannot open {path}: {exc}") from exc
    with outer:
        try:
            manifest_list = json.loads(_read_member(outer, "manifest.json"))
        except json.JSONDecodeError as exc:
            raise ImageError(f"manifest.json is not JSON: {exc}") from exc
        if not isinstance(manifest_list, list) or not manifest_list:
            raise ImageError("manifest.json holds no image")
        manifest = manifest_list[0]
        try:
            config = json.loads(_read_member(outer, manifest["Config"]))
        except KeyError as exc:
            raise ImageError("manifest.json names no Config") from exc
        files: dict[str, Entry] = {"/": Entry("dir", 0o755, 0)}
        layer_bytes = 0
        texts: dict[str, str] = {}
        for layer_name in manifest.get("Layers", []):
            data = _read_member(outer, layer_name)
            layer_bytes += len(data)
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as layer:
                for member in layer.getmembers():
                    name = _norm(member.name)
                    base = posixpath.basename(name)
                    if base.startswith(".wh."):
                        gone = posixpath.join(posixpath.dirname(name), base[4:])
                        for key in [k for k in files if k == gone or k.startswith(gone + "/")]:
                            del files[key]
                        continue
                    if member.isdir():
                        entry = Entry("dir", member.mode, 0)
                    elif member.issym():
                        entry = Entry("symlink", member.mode, 0, member.linkname)
                    elif member.islnk():
                        entry = Entry("hardlink", member.mode, 0, _norm(member.linkname))
                    elif member.isfile():
                        entry = Entry("file", member.mode, member.size)
                        if base in TEXT_NAMES and member.size < 1_000_000:
                            handle = layer.extractfile(member)
                            if handle is not None:
                                texts[name] = handle.read().decode("utf-8", "replace")
                    else:
                        entry = Entry("other", member.mode, 0)
                    files[name] = entry
    # Parent directories a layer did not list itself still exist in the merged tree.
    for name in list(files):
        parent = posixpath.dirname(name)
        while parent not in files:
            files[parent] = Entry("dir", 0o755, 0)
            parent = posixpath.dirname(parent)
    return Image(manifest, config, files, layer_bytes, texts)


def resolve(files: dict[str, Entry], path: str, max_hops: int = 40) -> str | None:
    """Follow symlinks (in every path component) inside the image; None if it dangles."""
    path = _norm(path)
    for _ in range(max_hops):
        parts = [p for p in path.split("/") if p]
        current = "/"
        changed = False
        for index, part in enumerate(parts):
            candidate = posixpath.join(current, part)
            entry = files.get(candidate)
            if entry is None:
                return None
            if entry.kind == "symlink":
                target = entry.target
                base = target if target.startswith("/") else posixpath.join(current, target)
                rest = "/".join(parts[index + 1 :])
                path = _norm(posixpath.join(base, rest) if rest else base)
                changed = True
                break
            if entry.kind == "hardlink":
                candidate = entry.target
            current = candidate
        if not changed:
            return path
    return None
