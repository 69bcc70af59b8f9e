"""Stand-in images for the container tests, built here without Nix or a registry.

NOT the shipped image: `desideliver-standin:app-<version>` is the app built to nix/image.nix's
contract (same ENTRYPOINT, CMD, WORKDIR, USER and ENV; /bin/desideliver a compiled launcher; no
shell, coreutils or package manager; static files collected at build time into a read-only
directory) from Debian 12's Python 3.11 and the locked main-group wheels, hash-checked.
`desideliver-standin:postgres` and `:redis` are Debian's PostgreSQL 15 and Redis 7.0 behind
the official images' documented contract (see standin/*-entrypoint.sh).

What they do not stand for: the Nix build itself, its closure size and reproducibility,
Python 3.12, and the Alpine-based postgres/redis images (see README, "What is verified where").

Run `python -m tests.container.images` to build and load them into $DOCKER_HOST's engine.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.container import rootfs

ROOT = Path(__file__).resolve().parents[2]
ASSETS = Path(__file__).resolve().parent / "standin"
REPOSITORY = "desideliver-standin"
VERSION = re.search(r'^version = "(.+)"$', (ROOT / "pyproject.toml").read_text(), re.MULTILINE)[1]  # type: ignore[index]
APP = f"{REPOSITORY}:app-{VERSION}"
POSTGRES = f"{REPOSITORY}:postgres"
REDIS = f"{REPOSITORY}:redis"
LABEL = "io.desideliver.test-standin=true"
CHROOT = shutil.which("chroot") or "/usr/sbin/chroot"

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


def run(*command: str | Path, **options: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(part) for part in command], check=True, text=True, **options)  # type: ignore[call-overload, no-any-return]


def digest(*paths: Path) -> str:
    """A content hash over files and directory trees (sorted, so stable)."""
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


# --- postgres and redis --------------------------------------------------------------------------


def install_entrypoint(script: str) -> str:
    """A shell snippet writing standin/SCRIPT to /usr/local/bin/docker-entrypoint.sh in the root."""
    body = (ASSETS / script).read_text()
    return (
        f"cat > /usr/local/bin/docker-entrypoint.sh <<'EOF'\n{body}EOF\nchmod 755 /usr/local/bin/docker-entrypoint.sh"
    )


def postgres_root() -> Path:
    # No cluster at install time: the entrypoint runs initdb into the volume on first start.
    no_cluster = "echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.conf"
    return rootfs.derived_root(
        "postgres",
        ["postgresql-15"],
        prepare=f"mkdir -p /etc/postgresql-common\n{no_cluster}",
        finish=install_entrypoint("postgres-entrypoint.sh"),
    )


def redis_root() -> Path:
    return rootfs.derived_root(
        "redis",
        ["redis-server"],
        finish=f"{install_entrypoint('redis-entrypoint.sh')}\nmkdir -p /data && chown redis:redis /data",
    )


POSTGRES_CHANGES = [
    "ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV PGDATA=/var/lib/postgresql/data",
    "VOLUME /var/lib/postgresql/data",
    'ENTRYPOINT ["docker-entrypoint.sh"]',
    'CMD ["postgres"]',
    "STOPSIGNAL SIGINT",  # PostgreSQL's fast shutdown, as the official image
    "EXPOSE 5432",
]
REDIS_CHANGES = [
    "WORKDIR /data",
    "VOLUME /data",
    'ENTRYPOINT ["docker-entrypoint.sh"]',
    'CMD ["redis-server"]',
    "EXPOSE 6379",
]


# --- the app ---------------------------------------------------------------------------------------


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
    for directory in [final / STATIC_ROOT.lstrip("/"), *(final / STATIC_ROOT.lstrip("/")).rglob("*")]:
        directory.chmod(0o555 if directory.is_dir() else 0o444)


def app_root() -> Path:
    tarball = rootfs.CACHE / f"app-{VERSION}-{app_key()}.tar"
    if tarball.exists():
        return tarball
    with rootfs.unpacked(runtime_root()) as runtime, tempfile.TemporaryDirectory(dir=rootfs.scratch()) as scratch:
        final = Path(scratch) / "root"
        final.mkdir()
        assemble_app(runtime, final)
        rootfs.pack(final, tarball)
    for stale in rootfs.CACHE.glob("app-*.tar"):  # one app root is kept: the current sources'
        if stale != tarball:
            stale.unlink()
    return tarball


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


# --- loading -------------------------------------------------------------------------------------


def load(docker: list[str], environment: dict[str, str], tarball: Path, name: str, changes: list[str]) -> str:
    """`docker import` the root with the image config; labelled so the suite can remove it."""
    command = [*docker, "import"]
    for change in [*changes, f"LABEL {LABEL}"]:
        command += ["--change", change]
    with tarball.open("rb") as stream:
        run(*command, "-", name, stdin=stream, stdout=subprocess.DEVNULL, env=environment)
    return name


def build_all(docker: list[str], environment: dict[str, str] | None = None) -> dict[str, str]:
    """Build (or take from the cache) and load the three stand-ins; returns compose's image variables."""
    from concurrent.futures import ThreadPoolExecutor

    rootfs.base_root()
    with ThreadPoolExecutor(3) as pool:  # apt downloads and the app's pip install overlap
        postgres, redis, app = (pool.submit(f) for f in (postgres_root, redis_root, app_root))
        tarballs = {"postgres": postgres.result(), "redis": redis.result(), "app": app.result()}
    environment = environment if environment is not None else dict(os.environ)
    load(docker, environment, tarballs["postgres"], POSTGRES, POSTGRES_CHANGES)
    load(docker, environment, tarballs["redis"], REDIS, REDIS_CHANGES)
    load(docker, environment, tarballs["app"], APP, app_changes())
    repository, tag = APP.split(":")
    return {"DESIDELIVER_IMAGE": repository, "DESIDELIVER_TAG": tag, "POSTGRES_IMAGE": POSTGRES, "REDIS_IMAGE": REDIS}


if __name__ == "__main__":
    print(json.dumps(build_all(["docker"]), indent=2))
