from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from standin import StandIn
from tests.e2e.harness import OPERATORS, WORKING_MOMENT, Harness


@pytest.fixture
async def standin() -> AsyncIterator[StandIn]:
    s = StandIn()
    s.add_user(9001, "Dilnoza", last_name="Operator")
    s.add_user(9002, "Sardor", last_name="Operator")
    s.add_user(6666, "Stranger")
    s.add_group(OPERATORS, "CRPT-Turon operators", members=[9001, 9002])
    await s.start()
    yield s
    await s.stop()


@pytest.fixture
async def harness(standin: StandIn, tmp_path: Path) -> AsyncIterator[Harness]:
    h = Harness(standin, tmp_path, WORKING_MOMENT)
    await h.start()
    yield h
    await h.stop()
