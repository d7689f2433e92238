"""Fixtures of the CLI tests: the environment a real ``clipbot`` process runs with."""

from __future__ import annotations

import os

import pytest


@pytest.fixture
def env(redis_url: str, prefix: str) -> dict[str, str]:
    e = dict(os.environ)
    e.update(CLIPBOT_REDIS_URL=redis_url, CLIPBOT_REDIS_PREFIX=prefix, LANG="C.UTF-8",
             CLIPBOT_LOG_LEVEL="WARNING")
    return e
