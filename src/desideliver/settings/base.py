"""Settings shared by every environment. Environment-specific modules import and refine these."""

import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from whitenoise.compress import Compressor

from desideliver.settings.environment import config

PACKAGE_DIR = Path(__file__).resolve().parent.parent

DEBUG = False
ALLOWED_HOSTS: list[str] = []

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and Redoc as static files: the docs work offline
    "corsheaders",
    "procrastinate.contrib.django",
    "desideliver.core",
    "desideliver.users",
    "desideliver.catalog",
    "desideliver.cart",
    "desideliver.orders",
    "desideliver.throttling",
    "desideliver.tickets",
]

MIDDLEWARE = [
    "desideliver.core.middleware.RequestIdMiddleware",
    "desideliver.core.middleware.RequestBodyLimitMiddleware",
    "desideliver.core.routing.HttpsRedirectExplainedMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "desideliver.core.routing.ApiRouteMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "desideliver.core.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "desideliver.urls"
WSGI_APPLICATION = "desideliver.wsgi.application"
AUTH_USER_MODEL = "users.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Database: persistent connections, health-checked, with bounded waits -------------------
DATABASE_CONNECT_TIMEOUT = config.int("DATABASE_CONNECT_TIMEOUT", default=3, minimum=1)
DATABASE_STATEMENT_TIMEOUT_MS = config.int("DATABASE_STATEMENT_TIMEOUT_MS", default=10_000, minimum=0)
# Security decisions (issue 11): migrations run without the statement timeout, under this lock
# timeout instead (core/migration_timeouts.py).
DATABASE_MIGRATION_LOCK_TIMEOUT_MS = config.int("DATABASE_MIGRATION_LOCK_TIMEOUT_MS", default=5_000, minimum=1)


def database_settings(url_config: dict) -> dict:
    """One `DATABASES` entry: the URL's settings plus our connection policy."""
    password = config.str("DATABASE_PASSWORD", default=None)
    return {
        **url_config,
        **({"PASSWORD": password} if password else {}),
        "CONN_MAX_AGE": config.int("CONN_MAX_AGE", default=600, minimum=0),
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {
            "connect_timeout": DATABASE_CONNECT_TIMEOUT,
            "options": f"-c statement_timeout={DATABASE_STATEMENT_TIMEOUT_MS}",
            "application_name": "desideliver",
        },
    }


def redis_location(url: str | None) -> str | None:
    """`REDIS_URL`, with `REDIS_PASSWORD` (or its file) put in when given separately.

    Only the credentials before `@` are replaced, so `[::1]:6379` and `unix:///path.sock` keep
    their host part exactly as written (urlsplit's `hostname` drops an IPv6 address's brackets).
    """
    password = config.str("REDIS_PASSWORD", default=None)
    if not url or not password:
        return url
    parts = urlsplit(url)
    address = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:{quote(password, safe='')}@{address}"))


def cache_settings(location: str | None) -> dict:
    """A Redis cache that never slows or breaks a request: short timeouts, errors logged and ignored."""
    timeout = config.float("REDIS_SOCKET_TIMEOUT", default=0.25)
    return {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": location,
            "KEY_PREFIX": "desideliver",
            # Security decisions (issue 11, caching): values are JSON, never pickle (a value someone
            # wrote into Redis is data, not code). Version 2: keys of the pickling releases are
            # never read back.
            "VERSION": 2,
            "TIMEOUT": config.int("CACHE_TTL", default=300, minimum=1),
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SERIALIZER": "django_redis.serializers.json.JSONSerializer",
                "SOCKET_CONNECT_TIMEOUT": timeout,
                "SOCKET_TIMEOUT": timeout,
                "IGNORE_EXCEPTIONS": True,
            },
        }
    }


DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
DJANGO_REDIS_LOGGER = "desideliver.cache"

# --- Auth --------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=config.int("JWT_ACCESS_MINUTES", default=15, minimum=1)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=config.int("JWT_REFRESH_DAYS", default=7, minimum=1)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    # Tokens carry a hash of the password hash: a password change ends every session at once.
    "CHECK_REVOKE_TOKEN": True,
    "TOKEN_REFRESH_SERIALIZER": "desideliver.users.tokens.RotatingRefreshSerializer",
    "TOKEN_BLACKLIST_SERIALIZER": "desideliver.users.tokens.LogoutSerializer",
    "UPDATE_LAST_LOGIN": False,
    "AUTH_HEADER_TYPES": ("Bearer",),
}

# --- Abuse limits (issue 11, security): client address, throttles, order caps, idempotency ----
# Who the client is: 0 trusted proxies (the default) ignores X-Forwarded-For; n takes the n-th
# address from its right (the one the nearest of our n proxies saw). See docs/reliability.md.
TRUSTED_PROXY_COUNT = config.int("TRUSTED_PROXY_COUNT", default=0, minimum=0)


def throttle_rate(name: str, default: str) -> str:
    """A DRF rate ("10/min": a count, then s, m, h or d), refused before serving when malformed."""
    rate = config.str(name, default=default)
    config.require(
        name,
        re.fullmatch(r"[0-9]+/(s|sec|second|m|min|minute|h|hour|d|day)", rate or "") is not None,
        f"invalid rate {rate!r}: use a count and a period, like 10/min (s, min, hour or day)",
    )
    return rate


# Counted in PostgreSQL (desideliver.throttling), per scope: login and register per client
# address, login_account per email, the others per user.
THROTTLE_RATES = {
    "login": throttle_rate("THROTTLE_LOGIN_RATE", "10/min"),
    "login_account": throttle_rate("THROTTLE_LOGIN_ACCOUNT_RATE", "20/hour"),
    "register": throttle_rate("THROTTLE_REGISTER_RATE", "20/hour"),
    "refresh": throttle_rate("THROTTLE_REFRESH_RATE", "60/hour"),
    "cart": throttle_rate("THROTTLE_CART_RATE", "120/min"),
    "order": throttle_rate("THROTTLE_ORDER_RATE", "10/min"),
    "export": throttle_rate("THROTTLE_EXPORT_RATE", "30/hour"),
    "ticket_create": throttle_rate("THROTTLE_TICKET_CREATE_RATE", "10/hour"),
}
# At most this many units in one user's orders (not cancelled) over the last window.
ORDER_UNITS_LIMIT = config.int("ORDER_UNITS_LIMIT", default=100, minimum=1)
ORDER_UNITS_WINDOW_HOURS = config.int("ORDER_UNITS_WINDOW_HOURS", default=24, minimum=1)
# How long an Idempotency-Key on POST /api/orders/create/ replays its order.
IDEMPOTENCY_KEY_RETENTION_HOURS = config.int("IDEMPOTENCY_KEY_RETENTION_HOURS", default=24, minimum=1)

# --- API ---------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["desideliver.users.authentication.ExpiryAwareJWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "desideliver.core.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        # Security decisions (issue 11, caching) and issue 12: unknown terms are a 400, and the
        # primary key breaks ties in every ordering.
        "desideliver.core.filters.StableOrderingFilter",
    ],
    "DEFAULT_THROTTLE_RATES": THROTTLE_RATES,
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "desideliver.core.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "DesiDeliver API",
    "DESCRIPTION": "Products, carts and orders. Authenticate with `Authorization: Bearer <access>`.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "OrderStatus": "desideliver.orders.models.Order.Status",
        "TicketStatus": "desideliver.tickets.models.Ticket.Status",
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

CORS_ALLOWED_ORIGINS = config.list("CORS_ALLOWED_ORIGINS", default=[])
CSRF_TRUSTED_ORIGINS = config.list("CSRF_TRUSTED_ORIGINS", default=[])

# Body limits, uploads and where media is stored.
from desideliver.settings.media import *  # noqa: E402, F403
from desideliver.settings.media import MEDIA_STORAGE  # noqa: E402

# --- Admin (security decisions, issue 11): short sessions, throttled login ----------------------
# Sessions are used by the admin only (the API uses JWTs): they end after ADMIN_SESSION_MINUTES
# from login, or when the browser closes, instead of Django's two weeks.
SESSION_COOKIE_AGE = 60 * config.int("ADMIN_SESSION_MINUTES", default=120, minimum=5)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Failed admin logins allowed per account and per client address in one window (core/admin_login.py).
ADMIN_LOGIN_FAILURES_PER_ACCOUNT = config.int("ADMIN_LOGIN_FAILURES_PER_ACCOUNT", default=5, minimum=1)
ADMIN_LOGIN_FAILURES_PER_ADDRESS = config.int("ADMIN_LOGIN_FAILURES_PER_ADDRESS", default=20, minimum=1)
ADMIN_LOGIN_WINDOW_SECONDS = config.int("ADMIN_LOGIN_WINDOW_SECONDS", default=15 * 60, minimum=1)

ADMIN_URL = config.str("ADMIN_URL", default="admin/")
config.require(
    "ADMIN_URL", ADMIN_URL.endswith("/") and not ADMIN_URL.startswith("/"), "must end with / and not start with /"
)

# --- Static files: collected at build time, served by whitenoise, never written at run time ----
STATIC_URL = "/static/"
STATIC_ROOT = config.str("STATIC_ROOT", default=None)
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STORAGES = {
    "default": MEDIA_STORAGE,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# The docs pages' bundles (drf-spectacular-sidecar) tripled the collected files: keep only the
# hashed copies (the only ones the manifest serves), and don't compress source maps, which only
# a browser's developer tools fetch. 33 MB -> 15 MB.
WHITENOISE_KEEP_ONLY_HASHED_FILES = True
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = [*Compressor.SKIP_COMPRESS_EXTENSIONS, "map"]

# --- Email -------------------------------------------------------------------------------------
vars().update(config.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = config.str("DEFAULT_FROM_EMAIL", default="DesiDeliver <orders@desideliver.invalid>")
# Mail is sent by `desideliver worker` (jobs): a hung mail server fails the attempt after this long
# and the job is retried with backoff, instead of holding a worker thread.
EMAIL_TIMEOUT = config.int("EMAIL_TIMEOUT", default=5, minimum=1)

# --- Background jobs (procrastinate, in PostgreSQL; see docs/architecture.md) --------------------
JOBS_MAX_ATTEMPTS = config.int("JOBS_MAX_ATTEMPTS", default=10, minimum=1)
JOBS_CONCURRENCY = config.int("JOBS_CONCURRENCY", default=4, minimum=1)
# On SIGTERM the worker stops fetching and waits this long for the jobs in hand (compose's
# stop_grace_period for the worker is longer).
JOBS_SHUTDOWN_TIMEOUT = config.float("JOBS_SHUTDOWN_TIMEOUT", default=20.0)
config.require("JOBS_SHUTDOWN_TIMEOUT", JOBS_SHUTDOWN_TIMEOUT >= 0, "must be 0 or more seconds")
# A worker silent for 3 heartbeats is presumed dead: its running jobs are queued again.
JOBS_HEARTBEAT_SECONDS = config.float("JOBS_HEARTBEAT_SECONDS", default=10.0)
config.require("JOBS_HEARTBEAT_SECONDS", JOBS_HEARTBEAT_SECONDS > 0, "must be more than 0 seconds")

# --- Logging -----------------------------------------------------------------------------------
LOG_LEVEL = config.str("LOG_LEVEL", default="INFO").upper()
config.require(
    "LOG_LEVEL",
    LOG_LEVEL in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"},
    f"invalid value {LOG_LEVEL!r}: use DEBUG, INFO, WARNING, ERROR or CRITICAL",
)
LOG_FORMAT = "text"


def logging_config(log_format: str, level: str) -> dict:
    """stdout only; `json` gives one object per line for log collectors."""
    formatter = "desideliver.core.logs.JsonFormatter" if log_format == "json" else "logging.Formatter"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": {"()": formatter, "format": "%(levelname)s %(name)s %(message)s"}},
        "filters": {"cache_outage": {"()": "desideliver.core.logs.CacheOutageFilter"}},
        "handlers": {
            "stdout": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": "default"}
        },
        "root": {"handlers": ["stdout"], "level": level},
        # Django's own defaults give `django` a console handler of its own (with DEBUG) and
        # `django.server` one that doesn't propagate: reset both so each line is printed once.
        "loggers": {
            "django": {"handlers": [], "propagate": True},
            "django.server": {"handlers": [], "level": "WARNING", "propagate": True},
            # A Redis outage: one warning per 10 s, not an error with a traceback per cache call.
            DJANGO_REDIS_LOGGER: {"filters": ["cache_outage"]},
        },
    }
