"""How jobs are retried: exponential backoff, 2 s doubling, up to JOBS_MAX_ATTEMPTS attempts."""

from django.conf import settings
from procrastinate import RetryStrategy

EMAIL_QUEUE = "email"
BACKOFF_BASE_SECONDS = 2  # waits 2, 4, 8, … s: ten attempts span about 34 minutes of an outage


def email_retry() -> RetryStrategy:
    return RetryStrategy(max_attempts=settings.JOBS_MAX_ATTEMPTS, exponential_wait=BACKOFF_BASE_SECONDS)
