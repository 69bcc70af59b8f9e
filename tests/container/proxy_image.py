"""The stand-in of the proxy image (nix/proxy-image.nix), built from Debian 12's nginx without Nix.

What it stands for: nix/proxy/nginx.conf, byte for byte the repository's file, run by
`nginx -p PREFIX/ -c PREFIX/nginx.conf -e stderr` from a prefix directory laid out as
nix/proxy-image.nix builds it (the config's header): mime.types the running nginx's own,
upstream.conf `server web:8000`, listen.conf `listen 8080`, static the collected static files
(the app stand-in's own, copied from its root: one collection, two images, as the Nix static
derivation), media -> /var/lib/desideliver/media (the media_data volume, read-only), tmp ->
/tmp, trusted-edge.d -> /etc/desideliver-proxy/trusted-edge.d (absent: compose mounts none, this
proxy is the edge); user 10002:10001 (its own user in the app's group), /bin/proxy-healthcheck (a compiled
program, standin/proxy-healthcheck.c, where the Nix image wraps curl), the NSS files, and no
shell, coreutils or package manager: nginx, its libraries and the healthcheck are all it runs.

What it does not stand for: nixpkgs' nginx build (version, compiled-in modules and paths;
here Debian's 1.22), curlMinimal, the Nix closure and its size, buildLayeredImage's layers.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.container import app_image, rootfs
from tests.container.rootfs import ROOT, digest, run

ASSETS = Path(__file__).resolve().parent / "standin"
NGINX_CONF = ROOT / "nix/proxy/nginx.conf"
NGINX = "/usr/sbin/nginx"
PREFIX = "/opt/desideliver-proxy"  # the Nix image's is its prefix derivation's store path
# nix/proxy-image.nix's bindings, which tests/container/test_proxy_image.py compares with these.
UPSTREAM = "web:8000"
PORT = 8080
MEDIA_ROOT = "/var/lib/desideliver/media"
TRUSTED_EDGE_DIR = "/etc/desideliver-proxy/trusted-edge.d"
PROXY_CONFIG: dict[str, object] = {
    "User": "10002:10001",
    "Entrypoint": [NGINX, "-p", f"{PREFIX}/", "-c", f"{PREFIX}/nginx.conf", "-e", "stderr"],
    "WorkingDir": "/var/empty",
    "Env": ["PATH=/bin"],
    "ExposedPorts": [f"{PORT}/tcp"],
}
# nixpkgs' fakeNss plus nix/proxy-image.nix's extra lines.
PASSWD = "root:x:0:0:root:/var/empty:/sbin/nologin\nnobody:x:65534:65534:nobody:/var/empty:/sbin/nologin\n"
PASSWD += "proxy:x:10002:10001:desideliver proxy:/var/empty:/sbin/nologin\n"
GROUP = "root:x:0:\nnogroup:x:65534:\napp:x:10001:\n"


def nginx_root() -> Path:
    """Debian's nginx: the source of the files the proxy image copies."""
    return rootfs.derived_root("nginx", ["nginx"])


def write_prefix(final: Path) -> None:
    """The prefix directory of nix/proxy-image.nix's `prefix` derivation, at PREFIX."""
    prefix = final / PREFIX.lstrip("/")
    prefix.mkdir(parents=True)
    shutil.copyfile(NGINX_CONF, prefix / "nginx.conf")
    (prefix / "mime.types").symlink_to("/etc/nginx/mime.types")
    (prefix / "upstream.conf").write_text(f"upstream desideliver_web {{ server {UPSTREAM}; }}\n")
    (prefix / "listen.conf").write_text(f"listen {PORT};\n")
    (prefix / "static").symlink_to(app_image.STATIC_ROOT)
    (prefix / "media").symlink_to(MEDIA_ROOT)
    (prefix / "tmp").symlink_to("/tmp")
    (prefix / "trusted-edge.d").symlink_to(TRUSTED_EDGE_DIR)


def assemble_proxy(runtime: Path, app_tarball: Path, final: Path) -> None:
    """nginx, the libraries it loads, mime.types, the prefix, the app's static files; no shell."""

    def copy(relative: str, destination: str | None = None) -> None:
        target = final / (destination or relative).lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2((runtime / relative.lstrip("/")).resolve(), target)

    copy(NGINX)
    for library in sorted(app_image.shared_libraries(runtime, [NGINX])):
        copy(library, f"/usr/lib/x86_64-linux-gnu/{Path(library).name}")
    copy("/lib64/ld-linux-x86-64.so.2")
    copy("/etc/nginx/mime.types")
    write_prefix(final)
    # The app stand-in's collected static files, unchanged (modes and all: read-only).
    run("tar", "--numeric-owner", "-C", final, "-xf", app_tarball, "." + app_image.STATIC_ROOT)
    (final / "bin").mkdir()
    healthcheck = final / "bin/proxy-healthcheck"
    run("gcc", "-static", "-Os", "-s", "-Wall", "-Werror", "-o", healthcheck, ASSETS / "proxy-healthcheck.c")
    (final / "etc/passwd").write_text(PASSWD)
    (final / "etc/group").write_text(GROUP)
    (final / "etc/nsswitch.conf").write_text("passwd: files\ngroup: files\nhosts: files dns\n")
    (final / "var/empty").mkdir(parents=True)
    (final / "tmp").mkdir()
    # Nothing writable for the proxy's user even without compose's read_only; /tmp is the tmpfs's.
    for path in [final, *final.rglob("*")]:
        if not path.is_symlink() and path != final / "tmp":
            path.chmod(path.stat().st_mode & ~0o022)
    (final / "tmp").chmod(0o1777)
    (final / "var/empty").chmod(0o555)
    # No media directory, as in the Nix image: web mounts the volume first and gives it its owner.


def proxy_root(app_tarball: Path) -> Path:
    # The app root's name carries its own key (its static files come from it).
    key = digest(NGINX_CONF, Path(__file__), ASSETS / "proxy-healthcheck.c", Path(rootfs.__file__))
    tarball = rootfs.CACHE / f"proxy-{key}-{app_tarball.stem}.tar"
    return rootfs.assembled_root(
        tarball, nginx_root, lambda runtime, final: assemble_proxy(runtime, app_tarball, final)
    )


def proxy_changes() -> list[str]:
    return [
        f"USER {PROXY_CONFIG['User']}",
        f"ENTRYPOINT {json.dumps(PROXY_CONFIG['Entrypoint'])}",
        f"WORKDIR {PROXY_CONFIG['WorkingDir']}",
        f"EXPOSE {PORT}/tcp",
        *(f"ENV {variable}" for variable in PROXY_CONFIG["Env"]),  # type: ignore[attr-defined]
        "LABEL org.opencontainers.image.title=desideliver-standin-proxy "
        "org.opencontainers.image.description='TEST STAND-IN, not the Nix-built proxy image'",
    ]
