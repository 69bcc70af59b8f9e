"""The stand-in app image against nix/image.nix's contract, and its processes as PID 1.

What this proves about the Nix image: that the config both share (read from nix/image.nix)
works under a real engine with compose.yaml's hardening. What it cannot: the Nix image's own
contents (see tests/container/images.py and README, "What is verified where").
"""

from __future__ import annotations

import re
import tarfile
import time
from pathlib import Path

import pytest

from tests.container import app_image, exported, images
from tests.container.engine import Engine

pytestmark = [pytest.mark.container, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


def nix_image_config() -> dict[str, object]:
    """nix/image.nix's `config` attribute set: the literal strings and lists it names."""
    source = (ROOT / "nix/image.nix").read_text()
    config = source[source.index("config = {") :]

    def string(name: str) -> str:
        found = re.search(rf'\b{name}\s*=\s*"([^"]*)"\s*;', config)
        assert found, f"nix/image.nix's config has no literal {name}: update this test"
        return found[1]

    def strings(name: str) -> list[str]:
        found = re.search(rf"\b{name}\s*=\s*\[((?:\s*\"[^\"]*\")*)\s*\]\s*;", config)
        assert found, f"nix/image.nix's config has no literal {name} list: update this test"
        return re.findall(r'"([^"]*)"', found[1])

    ports = re.search(r"ExposedPorts\s*=\s*\{([^}]*)\}", config)
    assert ports
    return {
        "User": string("User"),
        "Entrypoint": strings("Entrypoint"),
        "Cmd": strings("Cmd"),
        "WorkingDir": string("WorkingDir"),
        "Env": strings("Env"),
        "ExposedPorts": re.findall(r'"(\d+/tcp)"', ports[1]),
    }


def test_the_standin_config_is_nix_image_config() -> None:
    nix = nix_image_config()
    assert set(nix) <= set(app_image.APP_CONFIG)
    for key in ("User", "Entrypoint", "Cmd", "WorkingDir", "ExposedPorts"):
        assert app_image.APP_CONFIG[key] == nix[key], key
    nix_env = dict(item.split("=", 1) for item in nix["Env"])  # type: ignore[attr-defined]
    standin_env = dict(item.split("=", 1) for item in app_image.APP_CONFIG["Env"])  # type: ignore[attr-defined]
    assert nix_env.keys() == standin_env.keys()
    # STATIC_ROOT is a Nix store path there; the values of every other variable are the same.
    assert nix_env.pop("STATIC_ROOT").startswith("${")
    standin_env.pop("STATIC_ROOT")
    assert nix_env == standin_env


def test_the_loaded_image_has_that_config(engine: Engine, standin_images: dict[str, str]) -> None:
    config = engine.inspect("image", images.APP)["Config"]
    assert config["User"] == app_image.APP_CONFIG["User"]
    assert config["Entrypoint"] == app_image.APP_CONFIG["Entrypoint"]
    assert config["Cmd"] == app_image.APP_CONFIG["Cmd"]
    assert config["WorkingDir"] == app_image.APP_CONFIG["WorkingDir"]
    assert sorted(config["Env"]) == sorted(app_image.APP_CONFIG["Env"])  # type: ignore[call-overload]
    assert list(config["ExposedPorts"]) == app_image.APP_CONFIG["ExposedPorts"]


def test_no_shell_coreutils_or_package_manager_anywhere(
    engine: Engine, standin_images: dict[str, str], tmp_path: Path
) -> None:
    with tarfile.open(engine.export(images.APP, tmp_path / "root.tar")) as tar:
        members = exported.members(tar)
        assert exported.forbidden(members) == []
        programs = exported.programs(tar, members)
    # The launcher and the interpreter it execs: nothing else can be run.
    assert programs == ["bin/desideliver", "usr/bin/python3.11"], programs
    assert members["tmp"].mode & 0o7777 == 0o1777
    assert members["bin/desideliver"].size < 1_000_000  # a compiled launcher, not an interpreter's script
    static = app_image.STATIC_ROOT.lstrip("/")
    assert any(name.startswith(static + "/") and name.endswith(".css") for name in members), "static not collected"
    writable = [n for n, m in members.items() if n.startswith(static) and m.mode & 0o222]
    assert not writable, writable[:5]


@pytest.mark.parametrize(
    "command",
    [["wait-for-db", "--timeout", "120"], ["manage", "shell", "-c", "import time; time.sleep(120)"]],
    ids=["wait-for-db", "manage"],
)
@pytest.mark.parametrize("stop_signal", ["SIGTERM", "SIGINT"])
def test_one_off_commands_stop_on_a_signal_as_pid_1(
    engine: Engine, standin_images: dict[str, str], command: list[str], stop_signal: str
) -> None:
    """docker stop signals PID 1; without a handler the kernel drops it and Docker waits, then SIGKILLs."""
    environment = {
        "SECRET_KEY": "pid-1-test-secret-key-not-used-anywhere-else-0123456789abcdef",
        "DATABASE_URL": "postgres://app@127.0.0.1:9/app",  # nothing listens: wait-for-db keeps waiting
        "REDIS_URL": "redis://127.0.0.1:9/0",
        "ALLOWED_HOSTS": "localhost",
    }
    arguments = ["run", "--detach", "--stop-signal", stop_signal, "--network", "none"]
    for name, value in environment.items():
        arguments += ["--env", f"{name}={value}"]
    container = engine.run(*arguments, images.APP, *command).stdout.strip()
    try:
        time.sleep(2)  # past start-up, into the wait
        assert engine.inspect("container", container)["State"]["Running"]
        started = time.monotonic()
        engine.run("stop", "--time", "30", container, timeout=60)
        elapsed = time.monotonic() - started
        state = engine.inspect("container", container)["State"]
        assert elapsed < 10, f"PID 1 ignored {stop_signal}: stopped after {elapsed:.1f}s (killed by Docker)"
        assert state["ExitCode"] == 128 + {"SIGTERM": 15, "SIGINT": 2}[stop_signal], state
        assert "Traceback" not in engine.run("logs", container).stderr
    finally:
        engine.run("rm", "--force", container, check=False)
