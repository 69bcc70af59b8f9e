"""nix/check_image.py against archives built here with tarfile, in dockerTools' layout.

dockerTools archives hold manifest.json, <sha>.json (the config) and <sha>/layer.tar per
layer: one layer per store path, then a customisation layer with the `contents` symlinks
(/bin/desideliver, /etc/passwd, ...) and what extraCommands made (/tmp).
"""

from __future__ import annotations

import importlib.util
import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from tests.nix._nix import ROOT

SCRIPT = ROOT / "nix" / "check_image.py"
# check_image.py imports its sibling image_archive.py, as it does when run as a script.
sys.path.insert(0, str(SCRIPT.parent))
_spec = importlib.util.spec_from_file_location("check_image", SCRIPT)
assert _spec is not None
assert _spec.loader is not None
check_image = importlib.util.module_from_spec(_spec)
sys.modules["check_image"] = check_image
_spec.loader.exec_module(check_image)

LAUNCHER = "/nix/store/" + "a" * 32 + "-desideliver-launcher-0.1.0"
NSS = "/nix/store/" + "b" * 32 + "-fake-nss"
PASSWD = "/nix/store/" + "c" * 32 + "-passwd"
BASH = "/nix/store/" + "d" * 32 + "-bash-5.2p37"
STATIC = "/nix/store/" + "e" * 32 + "-desideliver-static-0.1.0"
LABELS = {
    "org.opencontainers.image.title": "desideliver",
    "org.opencontainers.image.description": "DesiDeliver REST API",
    "org.opencontainers.image.version": "0.1.0",
    "org.opencontainers.image.source": "https://github.com/desideliver/desideliver",
    "org.opencontainers.image.licenses": "MIT",
    "org.opencontainers.image.revision": "dirty",
}
PASSWD_TEXT = (
    "root:x:0:0:root user:/var/empty:/bin/sh\n"
    "app:x:10001:10001:desideliver:/var/empty:/sbin/nologin\n"
    "nobody:x:65534:65534:nobody:/var/empty:/bin/sh\n"
)


def _dir(name: str, mode: int = 0o555) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name.lstrip("/"))
    info.type, info.mode = tarfile.DIRTYPE, mode
    return info


def _file(name: str, data: bytes, mode: int = 0o444) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name.lstrip("/"))
    info.size, info.mode = len(data), mode
    return info, data


def _link(name: str, target: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name.lstrip("/"))
    info.type, info.linkname, info.mode = tarfile.SYMTYPE, target, 0o777
    return info


def _layer(members: list) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for member in members:
            if isinstance(member, tuple):
                tar.addfile(member[0], io.BytesIO(member[1]))
            else:
                tar.addfile(member)
    return buffer.getvalue()


def store_layers() -> list[list]:
    return [
        [
            _dir(LAUNCHER),
            _dir(LAUNCHER + "/bin"),
            _file(LAUNCHER + "/bin/desideliver", b"\x7fELF" + b"\0" * 4000, 0o555),
        ],
        [_dir(PASSWD), _dir(PASSWD + "/etc"), _file(PASSWD + "/etc/passwd", PASSWD_TEXT.encode())],
        [_dir(NSS), _dir(NSS + "/etc"), _link(NSS + "/etc/passwd", PASSWD + "/etc/passwd")],
        [_dir(BASH), _dir(BASH + "/bin"), _file(BASH + "/bin/bash", b"\x7fELF" + b"\0" * 100_000, 0o555)],
        [_dir(STATIC), _file(STATIC + "/staticfiles.json", b'{"paths": {}}')],
    ]


def customisation_layer(*, tmp_mode: int | None = 0o1777, extra: list | None = None) -> list:
    members = [
        _dir("bin", 0o755),
        _link("bin/desideliver", LAUNCHER + "/bin/desideliver"),
        _dir("etc", 0o755),
        _link("etc/passwd", NSS + "/etc/passwd"),
    ]
    if tmp_mode is not None:
        members.append(_dir("tmp", tmp_mode))
    return members + (extra or [])


def config(**changes: object) -> dict:
    cfg = {
        "User": "10001:10001",
        "Entrypoint": ["/bin/desideliver"],
        "Cmd": ["serve"],
        "Env": ["PATH=/bin", f"STATIC_ROOT={STATIC}", "PORT=8000"],
        "ExposedPorts": {"8000/tcp": {}},
        "WorkingDir": "/var/empty",
        "Labels": dict(LABELS),
    }
    cfg.update(changes)
    return {
        "architecture": "amd64",
        "os": "linux",
        "created": "1970-01-01T00:00:01Z",
        "config": cfg,
        "rootfs": {"type": "layers", "diff_ids": []},
    }


def build_image(path: Path, *, cfg: dict | None = None, custom: list | None = None, gz: bool = False) -> Path:
    layers = [*store_layers(), custom if custom is not None else customisation_layer()]
    cfg = cfg or config()
    mode = "w:gz" if gz else "w"
    with tarfile.open(path, mode) as outer:
        names = []
        for index, members in enumerate(layers):
            name = f"{index:064x}/layer.tar"
            data = _layer(members)
            info = tarfile.TarInfo(name)
            info.size = len(data)
            outer.addfile(info, io.BytesIO(data))
            names.append(name)
        config_data = json.dumps(cfg).encode()
        info = tarfile.TarInfo("f" * 64 + ".json")
        info.size = len(config_data)
        outer.addfile(info, io.BytesIO(config_data))
        manifest = [{"Config": info.name, "RepoTags": ["desideliver:0.1.0"], "Layers": names}]
        manifest_data = json.dumps(manifest).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(manifest_data)
        outer.addfile(info, io.BytesIO(manifest_data))
    return path


def failures_of(path: Path) -> list[str]:
    failures, _report = check_image.check(check_image.load_image(str(path)))
    return failures


@pytest.mark.parametrize("gz", [False, True], ids=["tar", "tar.gz"])
def test_good_image_passes(tmp_path: Path, gz: bool, capsys: pytest.CaptureFixture[str]) -> None:
    image = build_image(tmp_path / ("image.tar.gz" if gz else "image.tar"), gz=gz)
    assert check_image.main([str(image)]) == 0
    out = capsys.readouterr().out
    assert "OK: all image checks passed" in out
    assert "within the 180 MB budget" in out
    # A bash deep in the store is reported, not failed.
    assert f"flag: {BASH} looks like a shell" in out
    assert "the ten largest" in out
    assert f"MB  {BASH}" in out


def test_cli_runs_as_a_script(tmp_path: Path) -> None:
    image = build_image(tmp_path / "image.tar")
    result = subprocess.run([sys.executable, str(SCRIPT), str(image)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_root_user_fails(tmp_path: Path) -> None:
    image = build_image(tmp_path / "root.tar", cfg=config(User="0:0"))
    assert failures_of(image) == ["user: '0:0' is root (uid 0)"]


@pytest.mark.parametrize("user", ["", "app", "app:app"])
def test_missing_or_named_user_fails(tmp_path: Path, user: str) -> None:
    image = build_image(tmp_path / "user.tar", cfg=config(User=user))
    (failure,) = failures_of(image)
    assert failure.startswith("user: ")


def test_bin_sh_fails(tmp_path: Path) -> None:
    custom = customisation_layer(extra=[_link("bin/sh", BASH + "/bin/bash")])
    image = build_image(tmp_path / "sh.tar", custom=custom)
    assert failures_of(image) == ["shell: /bin/sh exists"]


def test_shell_on_path_fails(tmp_path: Path) -> None:
    custom = customisation_layer(
        extra=[_dir("usr", 0o755), _dir("usr/bin", 0o755), _link("usr/bin/bash", BASH + "/bin/bash")]
    )
    image = build_image(tmp_path / "bash.tar", custom=custom)
    assert failures_of(image) == ["shell: /usr/bin/bash exists"]


def test_missing_tmp_fails(tmp_path: Path) -> None:
    image = build_image(tmp_path / "notmp.tar", custom=customisation_layer(tmp_mode=None))
    assert failures_of(image) == ["tmp: /tmp does not exist"]


def test_tmp_mode_755_fails(tmp_path: Path) -> None:
    image = build_image(tmp_path / "tmp755.tar", custom=customisation_layer(tmp_mode=0o755))
    assert failures_of(image) == ["tmp: /tmp has mode 755, not 1777"]


@pytest.mark.parametrize("label", sorted(LABELS))
def test_missing_label_fails(tmp_path: Path, label: str) -> None:
    labels = {k: v for k, v in LABELS.items() if k != label}
    image = build_image(tmp_path / "label.tar", cfg=config(Labels=labels))
    assert failures_of(image) == [f"label: {label} is missing"]


def test_dangling_entrypoint_fails(tmp_path: Path) -> None:
    image = build_image(tmp_path / "entry.tar", cfg=config(Entrypoint=["/bin/nothere"]))
    assert failures_of(image) == ["entrypoint: /bin/nothere does not exist in the layers"]


def test_created_now_fails(tmp_path: Path) -> None:
    cfg = config()
    cfg["created"] = "2026-11-22T04:00:00Z"
    image = build_image(tmp_path / "created.tar", cfg=cfg)
    (failure,) = failures_of(image)
    assert failure.startswith("created: ")


def test_user_missing_from_passwd_fails(tmp_path: Path) -> None:
    image = build_image(tmp_path / "uid.tar", cfg=config(User="10002:10002"))
    assert failures_of(image) == ["passwd: /etc/passwd has no entry for uid 10002"]


def test_static_root_missing_fails(tmp_path: Path) -> None:
    missing = "/nix/store/" + "9" * 32 + "-static"
    image = build_image(tmp_path / "static.tar", cfg=config(Env=["PATH=/bin", f"STATIC_ROOT={missing}"]))
    assert failures_of(image) == [f"static: STATIC_ROOT {missing} is not in the layers"]


def test_failing_image_exits_1_with_a_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    image = build_image(tmp_path / "bad.tar", cfg=config(User="0"), custom=customisation_layer(tmp_mode=None))
    assert check_image.main([str(image)]) == 1
    out = capsys.readouterr().out
    assert "FAIL: 2 problem(s):" in out
    assert "  - user: '0' is root (uid 0)" in out
    assert "  - tmp: /tmp does not exist" in out


def test_not_an_image_fails_clearly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "empty.tar"
    with tarfile.open(path, "w"):
        pass
    assert check_image.main([str(path)]) == 1
    assert "FAIL: manifest.json is missing from the archive" in capsys.readouterr().out


def test_over_the_budget_fails_and_names_the_largest_store_paths(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image = build_image(tmp_path / "big.tar")
    # The archive's layers are about 0.13 MB; bash's 0.1 MB is the largest store path.
    assert check_image.main([str(image), "--budget-mb", "0.05"]) == 1
    out = capsys.readouterr().out
    assert "FAIL: 1 problem(s):" in out
    (failure,) = [line for line in out.splitlines() if line.startswith("  - size: ")]
    assert "over the 0.05 MB budget" in failure
    assert failure.index(BASH) < failure.index(LAUNCHER), "largest first"
    assert "OVER the 0.05 MB budget" in out


def test_the_budget_is_the_layers_uncompressed_size(tmp_path: Path) -> None:
    image = check_image.load_image(str(build_image(tmp_path / "image.tar.gz", gz=True)))
    layers_mb = image.layer_bytes / 1e6
    assert check_image.check(image, budget_mb=layers_mb)[0] == []
    (failure,) = check_image.check(image, budget_mb=layers_mb - 0.001)[0]
    assert failure.startswith("size: ")


def test_the_default_budget_is_180_mb() -> None:
    assert check_image.DEFAULT_BUDGET_MB == 180
