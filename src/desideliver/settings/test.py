"""The test suite: servers come from tests/conftest.py, which points these settings at them."""

import tempfile
from pathlib import Path

from desideliver.settings.base import *  # noqa: F403
from desideliver.settings.base import cache_settings, config, database_settings, logging_config

SECRET_KEY = "test-only-secret-key-that-is-long-enough-for-hmac-0123456789"
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]

# The session's throwaway servers replace these hosts and ports before any test runs.
DATABASES = {
    "default": database_settings(
        config.db_url("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/desideliver")
    )
}
# Port 1: nothing real. tests/conftest.py points the cache at the session's Redis, and stops the
# session if the cache was built before that (it would silently ignore every error).
CACHES = cache_settings("redis://127.0.0.1:1/0")

# Hashing cost is not under test; Django's default hasher is (tests/test_security.py).
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
# Tests that look at stored files give each test its own directory (pytest-django's `settings`).
MEDIA_ROOT = str(Path(tempfile.gettempdir()) / "desideliver-test-media")
LOGGING = logging_config("text", "WARNING")

config.raise_if_invalid(__name__)
