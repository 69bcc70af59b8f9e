"""Migrations run without the statement timeout, under a lock timeout instead.

Requests are bounded by DATABASE_STATEMENT_TIMEOUT_MS, but a migration may rightly run for
minutes (an index build on a big table). What a migration must not do is queue for a lock behind
a long transaction: every request touching that table would queue behind the migration in turn.
So from `pre_migrate` to `post_migrate` the connection has no statement timeout and gives up on
a lock after DATABASE_MIGRATION_LOCK_TIMEOUT_MS (the migration fails and can be rerun).
"""

from typing import Any

from django.conf import settings
from django.db import connections


def relax_for_migrations(using: str, **kwargs: Any) -> None:
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT set_config('statement_timeout', '0', false)")
        cursor.execute(
            "SELECT set_config('lock_timeout', %s, false)", [str(settings.DATABASE_MIGRATION_LOCK_TIMEOUT_MS)]
        )


def restore_after_migrations(using: str, **kwargs: Any) -> None:
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT set_config('statement_timeout', %s, false)", [str(settings.DATABASE_STATEMENT_TIMEOUT_MS)]
        )
        cursor.execute("SELECT set_config('lock_timeout', '0', false)")
