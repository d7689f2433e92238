"""Redis connections that ride out a Redis restart with backoff."""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

# Errors that mean "Redis is unreachable right now": loops catch these, wait and carry on.
# redis-py's ConnectionError is not the builtin one, so both are listed.
TRANSIENT: tuple[type[BaseException], ...] = (
    RedisConnectionError,
    RedisTimeoutError,
    ConnectionError,
    OSError,
)

# A burst of requests waits for a free connection instead of failing with
# "Too many connections" (the default pool raises once it is full).
MAX_CONNECTIONS = 64
POOL_TIMEOUT_S = 20.0


def _client(url: str, *, decode: bool, retries: int) -> Redis:
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=MAX_CONNECTIONS,
        timeout=POOL_TIMEOUT_S,
        decode_responses=decode,
        socket_connect_timeout=5,
        health_check_interval=15,
        # With an explicit pool, retries are configured on the pool's connections.
        retry=Retry(ExponentialBackoff(cap=5.0, base=0.05), retries),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
    )
    return Redis.from_pool(pool)  # the client owns the pool and closes it with itself


def connect(url: str, *, retries: int = 8) -> Redis:
    """A text client for ``url`` that retries connection errors (about 25 s in all)."""
    return _client(url, decode=True, retries=retries)


def connect_binary(url: str) -> Redis:
    """A client that returns bytes, for clip blobs."""
    return _client(url, decode=False, retries=8)
