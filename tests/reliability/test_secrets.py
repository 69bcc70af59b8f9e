"""Nothing secret is tracked in git; production refuses to start without a real SECRET_KEY; *_FILE works."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.git_tree import require_git_work_tree
from tests.service import TEST_SECRET_KEY, desideliver_command, production_environment

REPOSITORY = Path(__file__).resolve().parents[2]

# Placeholder or test-only values that look like keys on purpose (each is named where it lives).
ALLOWED_VALUES = {
    TEST_SECRET_KEY,  # tests/service.py
    "test-only-secret-key-that-is-long-enough-for-hmac-0123456789",  # settings/test.py
    "local-development-only-never-used-in-production",  # settings/local.py
    "collectstatic-build-only-not-a-secret-never-reaches-the-image",  # nix/static.nix (build step only)
}
# Tests, benchmarks and docs create throwaway accounts with example passwords; they are still
# scanned for real key material (KEY_PATTERNS except URL passwords), not for `password = "…"`.
EXAMPLES = re.compile(r"^(?:tests|bench)/|\.md$")
KEY_PATTERNS = {
    "private key": re.compile(r"-----BEGIN (?:RSA |EC |OPENSSH |DSA |PGP |ENCRYPTED )?PRIVATE KEY( BLOCK)?-----"),
    "AWS access key": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})\b"),
    "Slack token": re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
    "Stripe key": re.compile(r"\b[sr]k_live_[0-9A-Za-z]{16,}"),
    "JWT": re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),
    "URL with a password": re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s:/@'\"]+:([^\s@/'\"$]{6,})@"),
}
# `SECRET_KEY = "…"`, `password: …`, `API_TOKEN=…` with a literal value of 16+ characters.
ASSIGNED_SECRET = re.compile(
    r"""(?ix)\b[\w.-]*(?:secret|password|passwd|token|api_?key|private_?key)[\w.-]*\b["']?\s*[:=]\s*["']([^"'\s$<>{}]{16,})["']"""
)
FORBIDDEN_FILES = re.compile(
    r"(?:^|/)(?:\.env(?:\.[\w-]+)?|id_(?:rsa|ed25519|ecdsa|dsa)|.*\.(?:pem|key|p12|pfx|jks|kdbx)|\.?htpasswd|\.netrc|\.pgpass)$"
)
ALLOWED_FILES = {".env.example"}


def tracked_files() -> list[str]:
    require_git_work_tree(REPOSITORY)
    result = subprocess.run(["git", "ls-files", "-z"], cwd=REPOSITORY, capture_output=True, check=True, timeout=30)
    return [name for name in result.stdout.decode().split("\0") if name]


def test_no_env_or_key_files_are_tracked() -> None:
    offending = [name for name in tracked_files() if FORBIDDEN_FILES.search(name) and name not in ALLOWED_FILES]
    assert offending == []


def test_tracked_files_contain_no_key_looking_values() -> None:
    findings = []
    for name in tracked_files():
        path = REPOSITORY / name
        if not path.is_file() or path.stat().st_size > 2_000_000 or name.endswith(".lock"):
            continue
        text = path.read_bytes().decode("utf-8", errors="ignore")
        examples = bool(EXAMPLES.search(name))
        for kind, pattern in KEY_PATTERNS.items():
            if examples and kind == "URL with a password":
                continue
            findings += [
                f"{name}: {kind}"
                for match in pattern.finditer(text)
                if match.group(0) not in ALLOWED_VALUES and "${" not in match.group(0)
            ]
        for match in [] if examples else ASSIGNED_SECRET.finditer(text):
            value = match.group(1)
            if value in ALLOWED_VALUES or value.startswith(("test", "example", "changeme", "dummy")):
                continue
            # Dotted names, file paths and env-variable names are references, not values.
            if re.fullmatch(r"[A-Za-z_][\w.]*(?:\.[\w]+)+|/[\w./-]+|[A-Z][A-Z0-9_]+", value):
                continue
            findings.append(f"{name}: {match.group(0)[:60]}")
    assert findings == []


def test_the_scanner_catches_what_it_should() -> None:
    fake_key = "AKIA" + "ABCDEFGHIJKLMNOP"
    assert KEY_PATTERNS["AWS access key"].search(f"aws = '{fake_key}'")
    assert ASSIGNED_SECRET.search('SECRET_KEY = "k3y-0f-s0m3-r3al-s3rv1c3-xyz"')
    assert KEY_PATTERNS["URL with a password"].search("postgres://app:s3cr3t-pass@db/app")
    assert FORBIDDEN_FILES.search("deploy/.env")
    assert FORBIDDEN_FILES.search("certs/server.key")


def _check(environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        desideliver_command("manage", "shell", "-c", "from django.conf import settings; print(settings.SECRET_KEY)"),
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("secret_key", [None, "", "short", "a" * 60])
def test_production_refuses_a_missing_or_weak_secret_key(secret_key: str | None) -> None:
    environment = production_environment("postgres://x@127.0.0.1:1/x", "redis://127.0.0.1:1/0")
    if secret_key is None:
        del environment["SECRET_KEY"]
    else:
        environment["SECRET_KEY"] = secret_key
    result = _check(environment)
    assert result.returncode == 2, result.stderr
    assert "SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr


def test_secret_key_file_is_honoured_and_exclusive(tmp_path: Path) -> None:
    key = "file-" + TEST_SECRET_KEY[::-1]
    (tmp_path / "secret_key").write_text(key + "\n")
    environment = production_environment("postgres://x@127.0.0.1:1/x", "redis://127.0.0.1:1/0")
    del environment["SECRET_KEY"]
    environment["SECRET_KEY_FILE"] = str(tmp_path / "secret_key")
    result = _check(environment)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == key

    both = _check({**environment, "SECRET_KEY": TEST_SECRET_KEY})
    assert both.returncode == 2
    assert "SECRET_KEY" in both.stderr
