"""`desideliver manage clear_cache`: empty the app's cache (Redis), e.g. after `make restore`.

pg_restore writes the tables directly, so none of the signals that invalidate cached answers
fire; without this the API serves the pre-restore catalogue until CACHE_TTL runs out.
The cache ignores Redis errors on requests (IGNORE_EXCEPTIONS); here an unreachable Redis is
an error, so a restore never reports a cache as emptied that was not.
"""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_redis import get_redis_connection
from redis.exceptions import RedisError


class Command(BaseCommand):
    help = "Remove every entry from the app's Redis caches (FLUSHDB of each cache's database)."

    def handle(self, *args: Any, **options: Any) -> None:
        for alias in settings.CACHES:
            try:
                get_redis_connection(alias).flushdb()
            except RedisError as error:
                raise CommandError(f"cache {alias!r} not cleared: Redis: {error}") from None
            self.stdout.write(f"cleared cache {alias!r}")
