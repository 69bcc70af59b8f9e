"""Stand-in images for the container tests, built here without Nix or a registry.

NOT the shipped images: `desideliver-standin:<version>` is the app built to nix/image.nix's
contract (same ENTRYPOINT, CMD, WORKDIR, USER and ENV; /bin/desideliver a compiled launcher; no
shell, coreutils or package manager; static files collected at build time into a read-only
directory) from Debian 12's Python 3.11 and the locked main-group wheels, hash-checked.
`desideliver-standin-proxy:<version>` is nix/proxy-image.nix's contract with Debian's nginx
running nix/proxy/nginx.conf unchanged (proxy_image.py says what it does and does not stand for);
the two share the tag, as compose.yaml's images share DESIDELIVER_TAG.
`desideliver-standin:postgres` and `:redis` are Debian's PostgreSQL 15 and Redis 7.0 behind
the official images' documented contract (see standin/*-entrypoint.sh).

What they do not stand for: the Nix build itself, its closure size and reproducibility,
Python 3.12, nixpkgs' nginx, and the Alpine-based postgres/redis images (see README, "What is verified where").

Run `python -m tests.container.images` to build and load them into $DOCKER_HOST's engine.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

from tests.container import app_image, proxy_image, rootfs
from tests.container.rootfs import run

ROOT = rootfs.ROOT
ASSETS = Path(__file__).resolve().parent / "standin"
REPOSITORY = "desideliver-standin"
VERSION = re.search(r'^version = "(.+)"$', (ROOT / "pyproject.toml").read_text(), re.MULTILINE)[1]  # type: ignore[index]
APP = f"{REPOSITORY}:{VERSION}"
PROXY = f"{REPOSITORY}-proxy:{VERSION}"
POSTGRES = f"{REPOSITORY}:postgres"
REDIS = f"{REPOSITORY}:redis"
LABEL = "io.desideliver.test-standin=true"

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
    """Build (or take from the cache) and load the four stand-ins; returns compose's image variables."""
    from concurrent.futures import ThreadPoolExecutor

    rootfs.base_root()
    with ThreadPoolExecutor(3) as pool:  # apt downloads and the app's pip install overlap
        postgres, redis = pool.submit(postgres_root), pool.submit(redis_root)
        app = pool.submit(app_image.app_root, VERSION)
        nginx = pool.submit(proxy_image.nginx_root)
        tarballs = {"postgres": postgres.result(), "redis": redis.result(), "app": app.result()}
        nginx.result()
    tarballs["proxy"] = proxy_image.proxy_root(tarballs["app"])  # its static files are the app's
    environment = environment if environment is not None else dict(os.environ)
    load(docker, environment, tarballs["postgres"], POSTGRES, POSTGRES_CHANGES)
    load(docker, environment, tarballs["redis"], REDIS, REDIS_CHANGES)
    load(docker, environment, tarballs["app"], APP, app_image.app_changes())
    load(docker, environment, tarballs["proxy"], PROXY, proxy_image.proxy_changes())
    repository, tag = APP.split(":")
    proxy_repository, proxy_tag = PROXY.split(":")
    assert proxy_tag == tag, "compose.yaml gives both images DESIDELIVER_TAG"
    return {
        "DESIDELIVER_IMAGE": repository,
        "DESIDELIVER_PROXY_IMAGE": proxy_repository,
        "DESIDELIVER_TAG": tag,
        "POSTGRES_IMAGE": POSTGRES,
        "REDIS_IMAGE": REDIS,
    }


if __name__ == "__main__":
    print(json.dumps(build_all(["docker"]), indent=2))
