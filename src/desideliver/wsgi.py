"""WSGI entry point; `desideliver serve` runs it under gunicorn."""

from django.core.wsgi import get_wsgi_application

# DJANGO_SETTINGS_MODULE must be set (no default: see cli.load_settings).
application = get_wsgi_application()


def _warm_up() -> None:
    """Import now what the first request would: with gunicorn's preload, once in the master.

    Django loads the URLconf (every view, serializer and admin module) on the first request and
    readiness loads the migration graph; left to the workers, that is private memory in each and
    a slow first answer from each. Nothing here opens a connection, so workers share no socket.
    """
    # django-redis and redis-py (about 60 ms) are otherwise imported by each worker on its first
    # cache use, and /health/ready/ pings Redis first thing: imports only, no client, no socket.
    import django_redis.cache
    import django_redis.client.default
    import django_redis.compressors.identity
    import django_redis.pool
    import django_redis.serializers.json  # noqa: F401
    from django.db.migrations.loader import MigrationLoader
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 — importing every view is the point
    MigrationLoader(None, ignore_no_migrations=True)


_warm_up()
