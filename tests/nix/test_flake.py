"""flake.nix and nix/*.nix parse; flake.lock is the v7 lock of exactly the declared inputs."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.nix._nix import ROOT, nix_eval_json, nix_eval_json_args, nix_files, nix_instantiate
from tests.nix.conftest import source_arguments

PINS = {
    "nixpkgs": {
        "owner": "NixOS",
        "repo": "nixpkgs",
        "rev": "75e28c029ef2605f9841e0baa335d70065fe7ae2",
        "lastModified": 1730157240,
        "narHash": "sha256-P8wF4ag6Srmpb/gwskYpnIsnspbjZlRvu47iN527ABQ=",
    },
    "poetry2nix": {
        "owner": "nix-community",
        "repo": "poetry2nix",
        "rev": "ce2369db77f45688172384bbeb962bc6c2ea6f94",
        "lastModified": 1743690424,
        "narHash": "sha256-cX98bUuKuihOaRp8dNV1Mq7u6/CQZWTPth2IJPATBXc=",
    },
}
GITHUB_LOCKED_KEYS = {"lastModified", "narHash", "owner", "repo", "rev", "type"}


def test_the_flake_and_the_nix_directory_are_found() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in nix_files()}
    assert "flake.nix" in names
    assert {
        "nix/package.nix",
        "nix/static.nix",
        "nix/image.nix",
        "nix/proxy-image.nix",
        "nix/shell.nix",
        "nix/checks.nix",
        "nix/sbom.nix",
    } <= names


@pytest.mark.parametrize("path", nix_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_nix_file_parses(path) -> None:
    result = subprocess.run([nix_instantiate(), "--parse", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"{path.relative_to(ROOT)}:\n{result.stderr}"


@pytest.fixture(scope="module")
def lock() -> dict:
    return json.loads((ROOT / "flake.lock").read_text())


@pytest.fixture(scope="module")
def declared() -> dict:
    inputs = nix_eval_json("(import ./flake.nix).inputs")
    assert isinstance(inputs, dict)
    return inputs


def _follow(lock: dict, path: list[str], depth: int = 0) -> str:
    """The node a follows path (input names from the root) leads to."""
    assert depth < 20, f"follows loop at {path}"
    current = lock["root"]
    for step in path:
        ref = lock["nodes"][current]["inputs"][step]
        current = ref if isinstance(ref, str) else _follow(lock, ref, depth + 1)
    return current


def test_lock_is_version_7_and_well_formed(lock: dict) -> None:
    assert lock["version"] == 7
    assert lock["root"] in lock["nodes"]
    nodes = lock["nodes"]
    for name, node in nodes.items():
        for input_name, ref in node.get("inputs", {}).items():
            if isinstance(ref, str):
                assert ref in nodes, f"{name}.{input_name} -> missing node {ref}"
            else:
                assert _follow(lock, ref) in nodes, f"{name}.{input_name} follows {ref}: no such node"
        if name != lock["root"]:
            assert node["locked"]["type"] == "github", f"{name} is locked as {node['locked']['type']}"
            assert set(node["locked"]) == GITHUB_LOCKED_KEYS, name
            assert node["locked"]["narHash"].startswith("sha256-")
            assert node["original"]["type"] == "github"


def test_lock_is_written_as_nix_writes_it(lock: dict) -> None:
    text = (ROOT / "flake.lock").read_text()
    assert text == json.dumps(lock, indent=2, sort_keys=True) + "\n"


def test_lock_locks_exactly_the_declared_inputs(lock: dict, declared: dict) -> None:
    root = lock["nodes"][lock["root"]]
    assert set(root["inputs"]) == set(declared)
    for name, spec in declared.items():
        node = lock["nodes"][root["inputs"][name]]
        url = spec["url"]
        assert url.startswith("github:"), url
        owner, repo, *rest = url.removeprefix("github:").split("/")
        assert (node["original"]["owner"], node["original"]["repo"]) == (owner, repo)
        if rest:
            assert node["original"].get("rev") == rest[0] == node["locked"]["rev"]
        # Every follows declared for the input's own inputs is in the lock.
        for sub, sub_spec in spec.get("inputs", {}).items():
            assert node["inputs"][sub] == sub_spec["follows"].split("/"), (name, sub)


@pytest.mark.parametrize("name", sorted(PINS))
def test_pins(lock: dict, name: str) -> None:
    root = lock["nodes"][lock["root"]]
    node = lock["nodes"][root["inputs"][name]]
    expected = dict(PINS[name], type="github")
    assert node["locked"] == expected


def test_poetry2nix_follows_our_nixpkgs_so_the_lock_has_one_nixpkgs(lock: dict) -> None:
    locked_nixpkgs = [n for n, node in lock["nodes"].items() if node.get("locked", {}).get("repo") == "nixpkgs"]
    assert locked_nixpkgs == ["nixpkgs"]


def test_image_tag_is_the_pyproject_version() -> None:
    version = nix_eval_json("(builtins.fromTOML (builtins.readFile ./pyproject.toml)).tool.poetry.version")
    import tomllib

    assert version == tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["poetry"]["version"]
    assert "tag = version;" in (ROOT / "nix" / "image.nix").read_text()


def _workflow() -> dict:
    return yaml.safe_load((ROOT / ".github" / "workflows" / "nix.yml").read_text())


def _commands(job: dict) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def test_workflow_builds_checks_and_smoke_tests_the_image() -> None:
    image = _commands(_workflow()["jobs"]["image"])
    for step in (
        "nix flake check -L",
        "nix build .#image -L --out-link image.tar.gz",
        "nix build .#static --rebuild",
        "nix build .#desideliver --rebuild",
        "python3 nix/check_image.py image.tar.gz",
        "docker load < image.tar.gz",
        "docker compose up --detach --wait",
        "/health/ready/",
        "/api/auth/register/",
        "/api/auth/login/",
        "/api/products/",
        "docker compose down -v",
    ):
        assert step in image, step


def test_workflow_builds_the_sbom_and_publishes_a_vulnerability_scan() -> None:
    job = _workflow()["jobs"]["image"]
    commands = _commands(job)
    assert "nix build .#sbom" in commands
    assert "nixpkgs#trivy" in commands
    assert 'trivy image --scanners vuln --format json --output trivy-image.json "desideliver:$tag"' in commands
    assert "trivy sbom --format json --output trivy-sbom.json sbom.cdx.json" in commands
    assert "GITHUB_STEP_SUMMARY" in commands
    names = [step.get("name", "") for step in job["steps"]]
    assert names.index("Load the image") < names.index("Vulnerability scan (Trivy)")
    (publish,) = [step for step in job["steps"] if step.get("uses", "").startswith("actions/upload-artifact@")]
    assert publish["if"] == "always()"
    assert {"sbom.cdx.json", "trivy-image.json", "trivy-sbom.json"} <= set(publish["with"]["path"].split())


def test_workflow_compares_two_independent_builds() -> None:
    jobs = _workflow()["jobs"]
    assert "needs" not in jobs["image-again"], "independent: its own runner and store"
    assert "nix build .#image" in _commands(jobs["image-again"])
    assert set(jobs["reproducible"]["needs"]) == {"image", "image-again"}
    for job in ("image", "image-again"):
        assert jobs[job]["outputs"]["sha256"] == "${{ steps.archive.outputs.sha256 }}"
    assert '"$FIRST" = "$SECOND"' in _commands(jobs["reproducible"])


def test_workflow_tries_the_newest_nixos_stable_without_blocking() -> None:
    jobs = _workflow()["jobs"]
    newest = jobs["newest-nixos"]
    assert newest["continue-on-error"] is True
    assert "--override-input nixpkgs" in _commands(newest)
    assert "GITHUB_STEP_SUMMARY" in _commands(newest)
    assert jobs["darwin"]["continue-on-error"] is True


@pytest.fixture(scope="module")
def wiring(nix_sources: tuple[Path, Path]) -> dict:
    """flake.nix's outputs with nixpkgs' real lib and poetry2nix's real scope (stubs/eval.nix)."""
    arguments = source_arguments(nix_sources)
    return nix_eval_json_args("--readonly-mode", "tests/nix/stubs/eval.nix", *arguments)  # type: ignore[return-value]


def test_outputs_per_system(wiring: dict) -> None:
    linux = ["default", "desideliver", "image", "proxy-image", "sbom", "static"]
    darwin = ["default", "desideliver", "static"]
    assert wiring["packages"] == {
        "x86_64-linux": linux,
        "aarch64-linux": linux,
        "x86_64-darwin": darwin,
        "aarch64-darwin": darwin,
    }
    assert wiring["checks"]["x86_64-linux"] == ["formatting", "image", "proxy-image", "pytest"]
    assert wiring["checks"]["aarch64-darwin"] == ["formatting", "pytest"]
    assert set(wiring["devShells"]) == set(wiring["formatter"]) == set(wiring["packages"])
    assert set(wiring["formatter"].values()) == {"nixfmt"}


def test_package(wiring: dict) -> None:
    app = wiring["app"]
    assert app["preferWheels"] is True
    assert app["doCheck"] is False
    assert app["checkGroups"] == [], "the dev group is no build input of the app"
    assert app["python"] == "python3.12"
    assert app["overridesCompose"] is True
    assert "README.md" in app["postPatch"]
    assert "opt-1.pyc" in app["postInstall"]


def test_the_app_and_dev_env_are_built_from_nix_source_nix(wiring: dict) -> None:
    assert wiring["app"]["projectDir"] == wiring["app"]["src"] == wiring["source"] == wiring["devEnvProjectDir"]
    assert wiring["source"].startswith("/nix/store/")


def test_image_config(wiring: dict) -> None:
    image = wiring["image"]
    assert (image["name"], image["tag"], image["created"]) == ("desideliver", "0.1.0", "default")
    config = image["config"]
    assert config["User"] == "10001:10001"
    assert config["Entrypoint"] == ["/bin/desideliver"]
    assert config["Cmd"] == ["serve"]
    assert config["ExposedPorts"] == {"8000/tcp": {}}
    env = dict(item.split("=", 1) for item in config["Env"])
    assert env["DJANGO_SETTINGS_MODULE"] == "desideliver.settings.production"
    assert env["STATIC_ROOT"].endswith("-desideliver-static-0.1.0")
    assert env["PATH"] == "/bin"
    assert env["PORT"] == "8000"
    assert env["PSYCOPG_IMPL"] == "c"
    assert set(config["Labels"]) == {
        f"org.opencontainers.image.{k}" for k in ("title", "description", "version", "source", "licenses", "revision")
    }
    # self.rev of the evaluated flake (eval.nix); a dirty tree gets self.dirtyRev, else "unknown".
    assert config["Labels"]["org.opencontainers.image.revision"] == "0123456789abcdef0123456789abcdef01234567"
    assert 'revision = self.rev or self.dirtyRev or "unknown";' in (ROOT / "flake.nix").read_text()
    assert image["passwd"] == ["app:x:10001:10001:desideliver:/var/empty:/sbin/nologin"]
    assert image["group"] == ["app:x:10001:"]
    assert image["extraCommands"].split() == ["mkdir", "-p", "tmp", "chmod", "1777", "tmp"]
    assert "makeWrapper" in image["launcher"]
    assert '-m desideliver"' in image["launcher"]


def test_sbom_is_built_from_the_images_closure_and_poetry2nixs_files(wiring: dict) -> None:
    sbom = wiring["sbom"]
    assert sbom["name"] == "desideliver-sbom-0.1.0.cdx.json"
    # closureInfo's roots: what the image is made of, and the static files its config names.
    assert sbom["closureRoots"] == [*sbom["imageContents"], sbom["staticName"]]
    assert sbom["imageContents"] == ["desideliver-launcher-0.1.0", "fake-nss", "ca-certificates"]
    # One entry per locked package: the file its fetcher downloads, and its store path.
    assert set(sbom["files"]) == set(sbom["lockedFiles"])
    for name, entry in sbom["files"].items():
        assert entry["file"] in sbom["lockedFiles"][name], name
        assert entry["path"].startswith("/nix/store/")
        assert f"-python3.12-{name}-" in entry["path"]
    script = " ".join(word for word in sbom["script"].split() if word != "\\")
    assert "-python3-with-packages/bin/python3 /nix/store/" in script
    assert "-sbom.py --lock " in script
    for argument in (
        "--lock",
        "--pyproject",
        "--files",
        "--python-version 3.12.7",
        "--system x86_64-linux",
        "--version 0.1.0",
    ):
        assert argument in script, argument
    assert "-closure-info/store-paths" in script
    assert f"{wiring['source']}/poetry.lock" in script


def test_proxy_image_config(wiring: dict) -> None:
    image = wiring["proxyImage"]
    assert (image["name"], image["tag"]) == ("desideliver-proxy", "0.1.0")
    config = image["config"]
    assert config["User"] == "10002:10001", "its own uid, the app's group (reads the media volume)"
    assert image["passwd"] == ["proxy:x:10002:10001:desideliver proxy:/var/empty:/sbin/nologin"]
    assert image["group"] == ["app:x:10001:"]
    prefix = image["prefix"]
    assert config["Entrypoint"] == [
        f"{image['nginx']}/bin/nginx",
        "-p",
        f"{prefix}/",
        "-c",
        f"{prefix}/nginx.conf",
        "-e",
        "stderr",
    ]
    assert image["nginxOverride"] == {"withPerl": False}
    assert config["ExposedPorts"] == {"8080/tcp": {}}
    assert dict(item.split("=", 1) for item in config["Env"]) == {"PATH": "/bin"}
    assert config["Labels"]["org.opencontainers.image.title"] == "desideliver-proxy"
    assert config["Labels"]["org.opencontainers.image.revision"] == "0123456789abcdef0123456789abcdef01234567"
    assert image["extraCommands"].split() == ["mkdir", "-p", "tmp", "chmod", "1777", "tmp"]
    assert "/bin/proxy-healthcheck" in image["healthcheck"]
    assert "http://127.0.0.1:8080/proxy-health" in image["healthcheck"]
    assert "--fail" in image["healthcheck"]


def test_the_proxy_prefix_is_laid_out_as_nginx_conf_says(wiring: dict) -> None:
    """nix/proxy/nginx.conf's header names what its prefix holds; tests/proxy lays out the same."""
    script = wiring["proxyImage"]["prefixScript"]
    lines = [line.strip() for line in script.strip().splitlines()]
    nginx_store_path = wiring["proxyImage"]["nginx"]
    assert lines[0] == "mkdir -p $out"
    assert lines[1].startswith("cp /nix/store/")
    assert lines[1].endswith("-nginx.conf $out/nginx.conf")
    assert f"ln -s {nginx_store_path}/conf/mime.types $out/mime.types" in lines
    assert "echo 'upstream desideliver_web { server web:8000; }' > $out/upstream.conf" in lines
    assert "echo 'listen 8080;' > $out/listen.conf" in lines
    # The same static derivation as the app image's STATIC_ROOT: one build, two images.
    assert f"ln -s {wiring['proxyImage']['static']} $out/static" in lines
    assert (
        wiring["proxyImage"]["static"]
        == dict(item.split("=", 1) for item in wiring["image"]["config"]["Env"])["STATIC_ROOT"]
    )
    assert "ln -s /var/lib/desideliver/media $out/media" in lines
    assert "ln -s /tmp $out/tmp" in lines
    assert "ln -s /etc/desideliver-proxy/trusted-edge.d $out/trusted-edge.d" in lines
    conf = (ROOT / "nix" / "proxy" / "nginx.conf").read_text()
    for name in ("mime.types", "upstream.conf", "listen.conf", "trusted-edge.d/*.conf"):
        assert f"include {name};" in conf
    assert "alias static/;" in conf
    assert "alias media/;" in conf
    assert "pid tmp/nginx.pid;" in conf


def test_static_build_values_are_dummies(wiring: dict) -> None:
    static = wiring["static"]
    assert static["DJANGO_SETTINGS_MODULE"] == "desideliver.settings.production"
    assert "not-a-secret" in static["SECRET_KEY"]
    assert len(static["SECRET_KEY"]) >= 50
    assert "sort_keys=True" in wiring["staticScript"]


def test_dev_shell(wiring: dict) -> None:
    shell = wiring["shell"]
    assert {"python3.12-dev-env", "poetry-1.8", "postgresql-16", "redis", "nixfmt"} <= set(shell["packages"])
    assert 'PYTHONPATH="$DESIDELIVER_ROOT/src"' in shell["shellHook"]
    assert "python -m pytest" in wiring["pytestScript"]


def _source_path(tree: Path, nix_sources: tuple[Path, Path]) -> str:
    expression = f'"${{import ./nix/source.nix {{ lib = import {nix_sources[1]}/lib; }}}}"'
    result = subprocess.run(
        [nix_instantiate(), "--readonly-mode", "--eval", "--expr", expression],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_only_pyproject_lock_and_src_change_the_app_source(tmp_path: Path, nix_sources: tuple[Path, Path]) -> None:
    """nix/source.nix's store path (lib.fileset.toSource, hashed by Nix) for edited copies of the tree."""
    base = tmp_path / "base"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "src", base / "src", ignore=ignore)
    shutil.copytree(ROOT / "nix", base / "nix", ignore=ignore)
    for name in ("pyproject.toml", "poetry.lock", "README.md", "flake.nix"):
        shutil.copy2(ROOT / name, base / name)
    original = _source_path(base, nix_sources)

    (base / "README.md").write_text("edited\n")
    (base / "docs").mkdir()
    (base / "docs" / "new.md").write_text("new\n")
    (base / "nix" / "image.nix").write_text("# edited\n")
    assert _source_path(base, nix_sources) == original

    (base / "src" / "desideliver" / "__init__.py").write_text("# edited\n")
    assert _source_path(base, nix_sources) != original
