"""Production: every required value comes from the environment (or a `*_FILE` secret), no defaults.

Behind a TLS-terminating proxy the secure defaults hold; to serve plain HTTP on a trusted
network (the local compose stack), set SECURE_SSL_REDIRECT=false and SECURE_HSTS_SECONDS=0.
"""

from csp.constants import NONE, SELF

from desideliver.settings.base import *  # noqa: F403
from desideliver.settings.base import cache_settings, config, database_settings, logging_config, redis_location

DEBUG = False

SECRET_KEY = config.str("SECRET_KEY")
config.require(
    "SECRET_KEY",
    len(SECRET_KEY or "") >= 50 and len(set(SECRET_KEY or "")) >= 5,
    "too weak: use at least 50 random characters",
)
ALLOWED_HOSTS = config.list("ALLOWED_HOSTS")
config.require("ALLOWED_HOSTS", bool(ALLOWED_HOSTS), "must name at least one host")
ALLOWED_HOSTS.append("localhost")  # `desideliver healthcheck` asks with Host: localhost from inside

STATIC_ROOT = config.str("STATIC_ROOT")  # collected at build time (the image's is read-only)

DATABASES = {"default": database_settings(config.db_url("DATABASE_URL"))}
CACHES = cache_settings(redis_location(config.url("REDIS_URL", ("redis", "rediss", "unix"))))

# HTTPS, assuming a proxy in front that sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if config.bool("TRUST_X_FORWARDED_PROTO", default=True) else None
)
SECURE_SSL_REDIRECT = config.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^health/"]
SECURE_HSTS_SECONDS = config.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = config.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = config.bool("SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = config.bool("SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Never the console backend: it prints addresses and order lines into the log. Without a mail
# server (EMAIL_URL unset) each message is dropped with one log line that carries no content.
if not config.str("EMAIL_URL", default=""):
    EMAIL_BACKEND = "desideliver.core.mail.LogOnlyEmailBackend"
config.require(
    "EMAIL_URL",
    EMAIL_BACKEND != "django.core.mail.backends.console.EmailBackend",
    "consolemail:// would print customers' addresses and orders to the log: set smtp+tls://… or leave it unset",
)

# --- Content-Security-Policy (django-csp) -------------------------------------------------------
# The admin, the docs pages and the landing page share this origin: nothing but our own files runs
# or loads. core/docs.py relaxes styles and workers for Redoc's page only.
MIDDLEWARE.insert(MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1, "csp.middleware.CSPMiddleware")  # noqa: F405
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "worker-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

LOGGING = logging_config(config.str("LOG_FORMAT", default="json"), LOG_LEVEL)  # noqa: F405

config.raise_if_invalid(__name__)
