"""Media configuration: bad values fail before serving; STORAGES["default"] is replaceable by environment."""

import json
import subprocess

from tests.service import desideliver_command, production_environment


def run(*arguments: str, **overrides: str) -> subprocess.CompletedProcess[str]:
    environment = production_environment("postgres://app@127.0.0.1:1/app", "redis://127.0.0.1:1/0", **overrides)
    return subprocess.run(desideliver_command(*arguments), env=environment, capture_output=True, text=True, timeout=60)


def test_invalid_media_settings_are_listed_together():
    result = run(
        "manage",
        "check",
        MEDIA_ACCEL_REDIRECT_PREFIX="internal-media",
        MEDIA_STORAGE_OPTIONS="[1, 2]",
        MAX_ATTACHMENT_BYTES="5MB",
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "3 problems" in result.stderr
    assert "  - MEDIA_ACCEL_REDIRECT_PREFIX: must start and end with /" in result.stderr
    assert "  - MEDIA_STORAGE_OPTIONS: must be a JSON object" in result.stderr
    assert "  - MAX_ATTACHMENT_BYTES: invalid value" in result.stderr


def test_the_proxy_hand_over_needs_files_on_its_disk():
    result = run(
        "manage",
        "check",
        MEDIA_ACCEL_REDIRECT_PREFIX="/internal-media/",
        MEDIA_STORAGE_BACKEND="django.core.files.storage.InMemoryStorage",
    )
    assert result.returncode == 2
    assert "  - MEDIA_ACCEL_REDIRECT_PREFIX: must be empty with another MEDIA_STORAGE_BACKEND" in result.stderr


def test_serve_refuses_a_media_root_it_cannot_write(tmp_path):
    """A missing directory, and a file where the directory should be (a read-only mount or a volume
    owned by root fail the same write; this suite runs as root, which may write any directory)."""
    not_a_directory = tmp_path / "media"
    not_a_directory.write_text("")
    for root in (str(tmp_path / "missing"), str(not_a_directory)):
        result = run("serve", MEDIA_ROOT=root, PORT="1")
        assert result.returncode == 2, result.stderr
        assert f"MEDIA_ROOT={root} is not a writable directory" in result.stderr


SHOW_STORAGE = """
import json
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
name = default_storage.save("products/jar.jpg", ContentFile(b"pixels"))
backend = default_storage.__class__  # default_storage is a lazy proxy of the configured class
print("RESULT " + json.dumps([backend.__module__ + "." + backend.__name__,
                              default_storage.url(name), default_storage.open(name).read().decode()]))
"""


def test_another_storage_backend_replaces_the_volume_by_configuration(tmp_path):
    """Django's InMemoryStorage stands in for an S3-compatible backend (django-storages), which needs a
    bucket: what is shown is that STORAGES["default"] and its options come from the environment."""
    media_root = tmp_path / "volume"
    media_root.mkdir()
    result = run(
        "manage",
        "shell",
        "-c",
        SHOW_STORAGE,
        MEDIA_ROOT=str(media_root),
        MEDIA_STORAGE_BACKEND="django.core.files.storage.InMemoryStorage",
        MEDIA_STORAGE_OPTIONS=json.dumps({"base_url": "https://cdn.example.com/media/"}),
    )
    assert result.returncode == 0, result.stderr
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    backend, url, content = json.loads(line.removeprefix("RESULT "))
    assert backend == "django.core.files.storage.memory.InMemoryStorage"
    assert url == "https://cdn.example.com/media/products/jar.jpg"
    assert content == "pixels"
    assert list(media_root.iterdir()) == []  # nothing on the volume
