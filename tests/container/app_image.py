"""The stand-in of the app image: nix/image.nix's contract, built from Debian 12 without Nix.

Debian's Python 3.11 and libpq from a debootstrap root; poetry.lock's main group installed
with every hash checked (markers decided for that Python); the app; static files collected
at build time into a read-only directory; /bin/desideliver a static C launcher. Only the
interpreter, its standard library, the environment and the shared libraries they load are
copied into the image's root: no shell, no coreutils, no package manager (not even pip).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.container import rootfs
from tests.container.rootfs import CHROOT, ROOT, digest, run

ASSETS = Path(__file__).resolve().parent / "standin"

VENV = "/opt/desideliver"
STATIC_ROOT = "/opt/desideliver-static"
# nix/image.nix's `config`, which tests/container/test_image_contract.py compares with this.
APP_CONFIG: dict[str, object] = {
    "User": "10001:10001",
    "Entrypoint": ["/bin/desideliver"],
    "Cmd": ["serve"],
    "WorkingDir": "/var/empty",
    "Env": [
        "PATH=/bin",
        "DJANGO_SETTINGS_MODULE=desideliver.settings.production",
        f"STATIC_ROOT={STATIC_ROOT}",
        "PYTHONUNBUFFERED=1",
        "PYTHONDONTWRITEBYTECODE=1",
        "PORT=8000",
        "PSYCOPG_IMPL=c",
        "SSL_CERT_FILE=/etc/ssl/certs/ca-bundle.crt",
    ],
    "ExposedPorts": ["8000/tcp"],
}
# Like nixpkgs' fakeNss plus the app user of nix/image.nix.
PASSWD = "root:x:0:0:root:/var/empty:/sbin/nologin\nnobody:x:65534:65534:nobody:/var/empty:/sbin/nologin\n"
PASSWD += "app:x:10001:10001:desideliver:/var/empty:/sbin/nologin\n"
GROUP = "root:x:0:\nnogroup:x:65534:\napp:x:10001:\n"
# Parts of Debian's stdlib the app never imports (and ensurepip would be a package manager).
STDLIB_DROPPED = (
    "test",
    "ensurepip",
    "idlelib",
    "tkinter",
    "turtledemo",
    "lib2to3",
    "pydoc_data",
    "config-3.11-x86_64-linux-gnu",
)


def runtime_root() -> Path:
    """Debian's Python and libpq: the source of the files the app image copies (never imported as is)."""
    return rootfs.derived_root("python-runtime", ["python3", "libpq5", "ca-certificates"])


def poetry() -> str:
    candidates = [os.environ.get("POETRY", ""), shutil.which("poetry") or "", str(ROOT / ".dev/poetry/bin/poetry")]
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            return candidate
    raise RuntimeError("poetry not found (set POETRY, or run `make lint` once)")


def for_python(requirements: str, python_full_version: str) -> str:
    """`poetry export`'s requirements with each marker decided for the image's Python, not this one.

    The export keeps markers (redis needs async-timeout below Python 3.11.3, say); pip would decide
    them for the Python running pip, which is not the image's."""
    from packaging.markers import Marker

    python_version = ".".join(python_full_version.split(".")[:2])
    environment = {"python_full_version": python_full_version, "python_version": python_version}
    kept = []
    for requirement in requirements.replace("\\\n", " ").splitlines():
        if not requirement.strip() or requirement.lstrip().startswith("#"):
            continue
        head, _, hashes = requirement.partition(" --hash")
        name, _, marker = head.partition(";")
        if not marker.strip() or Marker(marker.strip()).evaluate(environment):
            kept.append(f"{name.strip()} --hash{hashes}")
    return "\n".join(kept) + "\n"


def locked_site_packages(python_full_version: str) -> Path:
    """poetry.lock's main group for the image's Python, installed with every hash checked; cached
    by the lock's hash (and that Python's version)."""
    key = digest(ROOT / "poetry.lock", ROOT / "pyproject.toml")
    target = rootfs.CACHE / f"site-packages-{key}-py{python_full_version}"
    if target.exists():
        return target
    with tempfile.TemporaryDirectory(dir=rootfs.scratch()) as scratch:
        requirements = Path(scratch) / "requirements.txt"
        run(poetry(), "export", "--only", "main", "-f", "requirements.txt", "-o", requirements, cwd=ROOT)
        assert "--hash=sha256:" in requirements.read_text(), "poetry export gave no hashes"
        requirements.write_text(for_python(requirements.read_text(), python_full_version))
        partial = Path(scratch) / "site-packages"
        run(
            sys.executable, "-m", "pip", "install", "--quiet", "--require-hashes", "--no-deps", "--no-compile",
            "--target", partial, "-r", requirements, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        shutil.rmtree(partial / "bin", ignore_errors=True)  # console scripts: shebang scripts, not needed
        partial.rename(target)
    for stale in rootfs.CACHE.glob("site-packages-*"):  # one lock's wheels are kept
        if stale != target:
            shutil.rmtree(stale, ignore_errors=True)
    return target


def app_key() -> str:
    return digest(
        ROOT / "poetry.lock", ROOT / "pyproject.toml", ROOT / "src", Path(__file__), ASSETS, Path(rootfs.__file__)
    )


def shared_libraries(root: Path, elves: list[str]) -> set[str]:
    """Every library the ELF files (paths inside `root`) load, resolved by the root's own loader."""
    libraries: set[str] = set()
    for elf in elves:
        listing = run(CHROOT, root, "/lib64/ld-linux-x86-64.so.2", "--list", elf, capture_output=True).stdout
        libraries.update(re.findall(r"=> (/\S+) \(0x", listing))
    return libraries


def assemble_app(runtime: Path, final: Path) -> None:
    """Copy only what the app runs from the runtime root into `final`: no shell, no coreutils."""
    python = next(p.name for p in (runtime / "usr/bin").glob("python3.*") if re.fullmatch(r"python3\.\d+", p.name))
    site = f"{VENV}/lib/{python}/site-packages"
    # The app's environment, inside the runtime root so its Python can compile and check it.
    venv = runtime / VENV.lstrip("/")
    version_probe = [CHROOT, runtime, f"/usr/bin/{python}", "-c", "import platform; print(platform.python_version())"]
    version = run(*version_probe, capture_output=True).stdout.strip()
    shutil.copytree(locked_site_packages(version), runtime / site.lstrip("/"), symlinks=True)
    run(
        sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-compile",
        "--target", runtime / site.lstrip("/"), ROOT, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    shutil.rmtree(runtime / site.lstrip("/") / "bin", ignore_errors=True)
    (venv / "bin").mkdir(exist_ok=True)
    (venv / "bin/python3").symlink_to(f"/usr/bin/{python}")
    (venv / "pyvenv.cfg").write_text(f"home = /usr/bin\ninclude-system-site-packages = false\nversion = {version}\n")
    run(CHROOT, runtime, f"{VENV}/bin/python3", "-m", "compileall", "-q", "-j0", site)
    # Static files, collected with the production settings at build time (as nix/static.nix).
    build_environment = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "desideliver.settings.production",
        "SECRET_KEY": "collectstatic-build-only-not-a-secret-never-reaches-the-image",
        "DATABASE_URL": "postgres://build@localhost/build",
        "REDIS_URL": "redis://localhost:6379/0",
        "ALLOWED_HOSTS": "localhost",
        "STATIC_ROOT": STATIC_ROOT,
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    run(
        CHROOT,
        runtime,
        f"{VENV}/bin/python3",
        "-P",
        "-m",
        "desideliver",
        "manage",
        "collectstatic",
        "--noinput",
        "-v0",
        env=build_environment,
    )

    elves = (
        [f"/usr/bin/{python}"]
        + ["/" + str(p.relative_to(runtime)) for p in (runtime / "usr/lib" / python).rglob("*.so")]
        + ["/" + str(p.relative_to(runtime)) for p in (runtime / site.lstrip("/")).rglob("*.so*") if p.is_file()]
    )
    libraries = shared_libraries(runtime, elves)

    def copy(relative: str, destination: str | None = None) -> None:
        source = runtime / relative.lstrip("/")
        target = final / (destination or relative).lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, symlinks=True, dirs_exist_ok=True)
        else:
            shutil.copy2(source.resolve(), target)

    copy(f"/usr/bin/{python}")
    stdlib = runtime / "usr/lib" / python
    for entry in stdlib.iterdir():
        if entry.name not in STDLIB_DROPPED and entry.name not in ("site-packages", "dist-packages"):
            copy(f"/usr/lib/{python}/{entry.name}")
    copy(VENV)
    copy(STATIC_ROOT)
    # Each library under its soname in the loader's default directory; the loader where PT_INTERP says.
    for library in sorted(libraries):
        copy(library, f"/usr/lib/x86_64-linux-gnu/{Path(library).name}")
    copy("/lib64/ld-linux-x86-64.so.2")
    copy("/etc/ssl/certs/ca-certificates.crt", "/etc/ssl/certs/ca-bundle.crt")
    copy("/usr/share/zoneinfo/UTC")
    # The launcher: a small static C program (tests/container/standin/launcher.c).
    (final / "bin").mkdir()
    run("gcc", "-static", "-Os", "-s", "-Wall", "-Werror", "-o", final / "bin/desideliver", ASSETS / "launcher.c")
    (final / "etc/passwd").write_text(PASSWD)
    (final / "etc/group").write_text(GROUP)
    (final / "etc/nsswitch.conf").write_text("passwd: files\ngroup: files\nhosts: files dns\n")
    (final / "var/empty").mkdir(parents=True)
    (final / "tmp").mkdir()
    (final / "tmp").chmod(0o1777)
    # Read-only for the app user even without compose's read_only: root owns it all, nothing is 0o2.
    for path in [final, *final.rglob("*")]:
        if not path.is_symlink() and path != final / "tmp":
            mode = path.stat().st_mode
            path.chmod(mode & ~0o022)
    (final / "var/empty").chmod(0o555)
    # The media volume's mount point, the app user's as in nix/image.nix's fakeRootCommands.
    media = final / "var/lib/desideliver/media"
    media.mkdir(parents=True)
    os.chown(media, 10001, 10001)
    for directory in [final / STATIC_ROOT.lstrip("/"), *(final / STATIC_ROOT.lstrip("/")).rglob("*")]:
        directory.chmod(0o555 if directory.is_dir() else 0o444)


def app_root(version: str) -> Path:
    return rootfs.assembled_root(rootfs.CACHE / f"app-{version}-{app_key()}.tar", runtime_root, assemble_app)


def app_changes() -> list[str]:
    changes = [
        f"USER {APP_CONFIG['User']}",
        f"ENTRYPOINT {json.dumps(APP_CONFIG['Entrypoint'])}",
        f"CMD {json.dumps(APP_CONFIG['Cmd'])}",
        f"WORKDIR {APP_CONFIG['WorkingDir']}",
        "EXPOSE 8000/tcp",
        "LABEL org.opencontainers.image.title=desideliver-standin "
        "org.opencontainers.image.description='TEST STAND-IN, not the Nix-built image'",
    ]
    return changes + [f"ENV {variable}" for variable in APP_CONFIG["Env"]]  # type: ignore[attr-defined]
