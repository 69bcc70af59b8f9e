"""Development on a workstation: `make dev` starts PostgreSQL and Redis at these defaults."""

from desideliver.settings.base import *  # noqa: F403
from desideliver.settings.base import (
    PACKAGE_DIR,
    cache_settings,
    config,
    database_settings,
    logging_config,
    redis_location,
)

DEBUG = config.bool("DEBUG", default=True)
SECRET_KEY = config.str("SECRET_KEY", default="local-development-only-never-used-in-production")
ALLOWED_HOSTS = config.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

DATABASES = {
    "default": database_settings(
        config.db_url("DATABASE_URL", default="postgres://postgres@127.0.0.1:54320/desideliver")
    )
}
CACHES = cache_settings(
    redis_location(config.url("REDIS_URL", ("redis", "rediss", "unix"), default="redis://127.0.0.1:63790/0"))
)

# Uploads go next to the dev database (`.dev/` in the checkout); `make dev` has no proxy, so the
# download view streams attachments itself and urls.py serves /media/products/ while DEBUG is on.
MEDIA_ROOT = config.str("MEDIA_ROOT", default=str(PACKAGE_DIR.parent.parent / ".dev" / "media"))

# Served from the apps' directories as they are edited; the manifest is a build-time concern.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405

REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"] = [  # noqa: F405
    "rest_framework.renderers.JSONRenderer",
    "rest_framework.renderers.BrowsableAPIRenderer",
]

LOGGING = logging_config(config.str("LOG_FORMAT", default="text"), LOG_LEVEL)  # noqa: F405

config.raise_if_invalid(__name__)
