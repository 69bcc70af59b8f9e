"""Atomic fixed-window counters in PostgreSQL (see models.ThrottleWindow for why not Redis).

`hit` is one `INSERT … ON CONFLICT DO UPDATE … RETURNING`: concurrent hits on one key queue on its
row, so exactly `limit` of any burst are allowed, across workers and replicas. Statements run in
autocommit (the throttle runs before a view opens a transaction), so a count is never rolled back.
"""

import random

from django.db import connection

PRUNE_EVERY = 200  # on average, one hit in this many deletes up to 1000 expired windows

_HIT = """
INSERT INTO throttle_window AS t (key, hits, expires_at)
VALUES (%(key)s, 1, now() + make_interval(secs => %(seconds)s))
ON CONFLICT (key) DO UPDATE SET
    hits = CASE WHEN t.expires_at <= now() THEN 1 ELSE t.hits + 1 END,
    expires_at = CASE WHEN t.expires_at <= now() THEN EXCLUDED.expires_at ELSE t.expires_at END
RETURNING hits, EXTRACT(EPOCH FROM t.expires_at - now())
"""
_REFUND = "UPDATE throttle_window SET hits = hits - 1 WHERE key = %s AND hits > 0 AND expires_at > now()"
_PRUNE = """
DELETE FROM throttle_window WHERE key IN (
    SELECT key FROM throttle_window WHERE expires_at < now() LIMIT 1000 FOR UPDATE SKIP LOCKED
)
"""


def hit(key: str, seconds: int) -> tuple[int, float]:
    """Count one hit on `key` in its current window of `seconds`: (hits so far, seconds left)."""
    with connection.cursor() as cursor:
        cursor.execute(_HIT, {"key": key, "seconds": seconds})
        hits, remaining = cursor.fetchone()
        if random.randrange(PRUNE_EVERY) == 0:
            cursor.execute(_PRUNE)
    return int(hits), max(float(remaining), 0.0)


def refund(key: str) -> None:
    """Take back one hit (a login that succeeded is not an attempt to guess)."""
    with connection.cursor() as cursor:
        cursor.execute(_REFUND, [key])
