"""The soak's databases: a SQLite file in the test's folder, or a PostgreSQL database made for
this run and dropped at the end (where the CI variable is set, a missing server fails)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import PG_URL
from tests.integration.conftest import _admin, require_postgres


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def soak_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        folder = Path(os.environ.get("SOAK_LOG_DIR") or tmp_path)  # kept for a look if set
        for name in ("desk.db", "desk.db-wal", "desk.db-shm"):
            (folder / name).unlink(missing_ok=True)
        yield f"sqlite+aiosqlite:///{folder / 'desk.db'}"
        return
    async for url in _scratch_postgres():
        yield url


@pytest.fixture
async def two_database() -> AsyncIterator[str]:
    """PostgreSQL only: several processes share it."""
    async for url in _scratch_postgres():
        yield url


async def _scratch_postgres() -> AsyncIterator[str]:
    require_postgres()
    name = f"soak_{uuid.uuid4().hex[:10]}"
    await _admin(PG_URL, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        await _admin(PG_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
