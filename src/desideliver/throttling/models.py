from django.db import models


class ThrottleWindow(models.Model):
    """One rate limit's current fixed window: how many hits `key` made before `expires_at`.

    Kept in PostgreSQL, not in the cache: Redis evicts keys under memory pressure (allkeys-lru) and
    can be down, and a limit that an attacker can flush, or that vanishes in an outage, is no limit.
    Rows are written only by `store.hit` (one atomic upsert) and pruned there once expired.
    """

    key = models.CharField(max_length=200, primary_key=True)
    hits = models.PositiveIntegerField()
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "throttle_window"  # named in store.py's SQL

    def __str__(self) -> str:
        return f"{self.key}: {self.hits} until {self.expires_at:%H:%M:%S}"
