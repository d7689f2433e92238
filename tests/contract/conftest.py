"""The adapter contract: one scenario set, run against all four adapters' fakes.

``driver`` is parametrised over the platforms; ``faults`` over the send failures the
fakes inject (only "none" so far: add ``Faults(...)`` values to ``FAULTS`` once the fakes
can inject them, and every scenario runs under each)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

# Imported first on purpose: it loads discord.py without the stdlib 'audioop' deprecation
# warning, which the test run would otherwise turn into an error.
import bots.discord  # noqa: F401  # isort: skip
from storage import QuotaLimits, Storage
from tests.contract.base import LIMITS, NO_FAULTS, Driver, Faults
from tests.contract.drivers import DRIVERS

FAULTS = {"no-faults": NO_FAULTS}
OpenDriver = Callable[..., Awaitable[Driver]]


@pytest.fixture(params=list(FAULTS.values()), ids=list(FAULTS))
def faults(request: pytest.FixtureRequest) -> Faults:
    return request.param


@pytest.fixture(params=list(DRIVERS))
def platform(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
async def open_driver(platform: str, storage: Storage, redis_url: str, faults: Faults
                      ) -> AsyncIterator[OpenDriver]:
    """Start the platform's bot with ``limits`` and return its driver (closed after)."""
    async with contextlib.AsyncExitStack() as stack:
        async def start(limits: QuotaLimits = LIMITS) -> Driver:
            return await stack.enter_async_context(
                DRIVERS[platform](storage, redis_url, limits, faults))

        yield start


@pytest.fixture
async def driver(open_driver: OpenDriver) -> Driver:
    return await open_driver()
