"""nix/proxy/nginx.conf, unchanged, under Debian's nginx (apt `nginx`), as an unprivileged process.

The Nix image runs the same file from a prefix directory that nix/proxy-image.nix builds; here
the prefix is a temporary directory laid out the same way (see the file's header):
mime.types, upstream.conf, listen.conf, static, media, tmp and, given `trusted_edge`, a
trusted-edge.d/edge.conf; read-only but for tmp (the image's prefix is a store path). As root
(CI), nginx runs as `nobody`, like the image's non-root user, so every directory it reads is
world-readable.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import port_for

ROOT = Path(__file__).resolve().parents[1]
NGINX_CONF = ROOT / "nix" / "proxy" / "nginx.conf"
DEBIAN_MIME_TYPES = Path("/etc/nginx/mime.types")
MISSING = "nginx is not installed (apt install nginx); .ci/run installs it, so CI runs these"


class NginxMissing(RuntimeError):
    pass


def nginx_binary() -> str | None:
    """Debian's nginx with its mime.types, or None."""
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
    return found if found is not None and DEBIAN_MIME_TYPES.exists() else None


def find_nginx() -> str:
    found = nginx_binary()
    if found is None:
        raise NginxMissing(MISSING)
    return found


def shared_directory(prefix: str) -> Path:
    """A temporary directory that nginx's unprivileged user can read (pytest's tmp_path is 0700)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    return path


@dataclass
class Proxy:
    prefix: Path
    port: int
    process: subprocess.Popen[bytes]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.prefix / "nginx.log"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]

    def access_log(self) -> list[dict[str, Any]]:
        """The JSON lines of the access log (the error log shares the file: its lines aren't JSON)."""
        entries = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                entries.append(json.loads(line))
        return entries

    def logged(self, path: str, method: str = "GET", timeout: float = 10.0) -> list[dict[str, Any]]:
        """The access log's entries for `method path`, once there is one: nginx writes a request's
        line after it has sent the response, so a client that got its answer can be first."""
        deadline = time.monotonic() + timeout
        while True:
            entries = [e for e in self.access_log() if e["path"] == path and e["method"] == method]
            if entries or time.monotonic() > deadline:
                return entries
            time.sleep(0.05)


def _prefix(upstream: str, static_root: Path, media_root: Path, port: int, trusted_edge: str | None) -> Path:
    prefix = shared_directory("desideliver-proxy-")
    shutil.copyfile(NGINX_CONF, prefix / "nginx.conf")
    (prefix / "mime.types").symlink_to(DEBIAN_MIME_TYPES)
    (prefix / "upstream.conf").write_text(f"upstream desideliver_web {{ server {upstream}; }}\n")
    (prefix / "listen.conf").write_text(f"listen 127.0.0.1:{port};\n")
    (prefix / "static").symlink_to(static_root)
    (prefix / "media").symlink_to(media_root)
    (prefix / "tmp").mkdir()
    (prefix / "tmp").chmod(0o1777)
    if trusted_edge is not None:
        (prefix / "trusted-edge.d").mkdir()
        (prefix / "trusted-edge.d" / "edge.conf").write_text(trusted_edge)
    return prefix


@contextmanager
def running(
    upstream: str,
    static_root: Path,
    media_root: Path,
    timeout: float = 15.0,
    *,
    trusted_edge: str | None = None,
) -> Iterator[Proxy]:
    """nginx in front of `upstream` (host:port), answering /proxy-health before this yields.

    `trusted_edge`: a trusted-edge.d file's text (`set_real_ip_from …;` lines), for a proxy
    behind a load balancer; None for the edge itself (compose's layout).
    """
    proxy = _start(upstream, static_root, media_root, timeout, trusted_edge)
    try:
        yield proxy
    finally:
        _stop(proxy.process)
        _remove(proxy.prefix)


def _start(
    upstream: str, static_root: Path, media_root: Path, timeout: float, trusted_edge: str | None, attempts: int = 3
) -> Proxy:
    """Start nginx on a random free port; another on a new port if something took it meanwhile."""
    nginx = find_nginx()
    for attempt in range(attempts):
        port = port_for.select_random()
        prefix = _prefix(upstream, static_root, media_root, port, trusted_edge)
        argv = [nginx, "-p", f"{prefix}/", "-c", str(prefix / "nginx.conf"), "-e", "stderr"]
        if os.geteuid() == 0:
            argv = ["runuser", "-u", "nobody", "--", *argv]
        # nginx opens /dev/stdout by name, as its own user: the file must be writable by it.
        log = os.open(prefix / "nginx.log", os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o666)
        os.fchmod(log, 0o666)
        try:
            process = subprocess.Popen(argv, stdout=log, stderr=log)
        finally:
            os.close(log)
        prefix.chmod(0o555)  # read-only, as the image's store path: nginx writes only to tmp/
        proxy = Proxy(prefix, port, process)
        try:
            _wait_until_healthy(proxy, timeout)
            return proxy
        except RuntimeError:
            _stop(process)
            taken = "Address already in use" in proxy.log()
            _remove(prefix)
            if not taken or attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def _wait_until_healthy(proxy: Proxy, timeout: float) -> None:
    """Until our nginx answers: an answer counts only while our process is still running, since
    a server that already held the port would answer too while ours exits on bind()."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proxy.process.poll() is not None:
            raise RuntimeError(f"nginx exited with {proxy.process.returncode}:\n{proxy.log()}")
        try:
            with urllib.request.urlopen(proxy.base_url + "/proxy-health", timeout=1) as response:
                answered = response.status == 200
        except (urllib.error.URLError, OSError):
            answered = False
        if answered and "[emerg]" not in proxy.log():
            time.sleep(0.2)
            if proxy.process.poll() is None and "[emerg]" not in proxy.log():
                return
        time.sleep(0.05)
    raise RuntimeError(f"nginx did not answer /proxy-health within {timeout}s:\n{proxy.log()}")


def _remove(prefix: Path) -> None:
    prefix.chmod(0o755)
    shutil.rmtree(prefix, ignore_errors=True)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)  # runuser forwards it; nginx's fast shutdown
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
