"""The operators' saved answers (macros), found by name whatever its case."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Macro


def macro_key(name: str) -> str:
    return name.casefold()


class MacroRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, name: str) -> Macro | None:
        return await self.session.scalar(select(Macro).where(Macro.key == macro_key(name)))

    async def all(self) -> list[Macro]:
        return list((await self.session.scalars(select(Macro).order_by(Macro.key))).all())

    def add(self, macro: Macro) -> None:
        self.session.add(macro)

    async def remove(self, name: str) -> bool:
        result = await self.session.execute(delete(Macro).where(Macro.key == macro_key(name)))
        return bool(result.rowcount)  # type: ignore[attr-defined]
