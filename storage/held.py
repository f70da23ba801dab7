"""The quality guard's held answers: kept until an operator decides, and decided once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.vocabulary import HeldKind, HeldStatus
from storage.models import HeldAnswer

# The largest id an integer column holds: a forged button with a larger one finds nothing.
MAX_ID = 2**31 - 1


class HeldRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, row: HeldAnswer) -> HeldAnswer:
        self.session.add(row)
        await self.session.flush()
        return row

    async def get(self, held_id: int) -> HeldAnswer | None:
        if not 0 < held_id <= MAX_ID:
            return None
        return await self.session.get(HeldAnswer, held_id)

    async def waiting(
        self, chat_id: int, message_id: int, kinds: Sequence[HeldKind]
    ) -> list[HeldAnswer]:
        """The held answers of one operator's message still waiting for a decision."""
        rows = await self.session.scalars(
            select(HeldAnswer)
            .where(
                HeldAnswer.chat_id == chat_id,
                HeldAnswer.message_id == message_id,
                HeldAnswer.status == HeldStatus.HELD,
                HeldAnswer.kind.in_(list(kinds)),
            )
            .order_by(HeldAnswer.id)
        )
        return list(rows.all())

    async def decide(
        self,
        row: HeldAnswer,
        status: HeldStatus,
        *,
        by: int | None,
        by_name: str | None,
        at: datetime,
    ) -> bool:
        """Held -> `status`, once: of two decisions on one held answer (two operators pressing
        at once, a second press) only the first changes the row."""
        result = await self.session.execute(
            update(HeldAnswer)
            .where(HeldAnswer.id == row.id, HeldAnswer.status == HeldStatus.HELD)
            .values(status=status, decided_by=by, decided_by_name=by_name, decided_at=at)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            await self.session.refresh(row)
            return False
        await self.session.refresh(row)
        return True
