"""The test suite's throwaway PostgreSQL and Redis: devtools.servers, which `make dev` and bench/ use too."""

from devtools.servers import (
    MissingBinary,
    PostgreSQLExecutor,
    RedisExecutor,
    database_url,
    postgresql,
    redis,
    redis_url,
    wait_until_accepting,
)

__all__ = [
    "MissingBinary",
    "PostgreSQLExecutor",
    "RedisExecutor",
    "database_url",
    "postgresql",
    "redis",
    "redis_url",
    "wait_until_accepting",
]
