"""Client profiles."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Client

# Built once (its cache key too): it runs for every update from a private chat.
_BY_TELEGRAM_ID = select(Client).where(Client.telegram_id == bindparam("telegram_id"))


class ClientRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_telegram_id(self, telegram_id: int) -> Client | None:
        return await self.session.scalar(_BY_TELEGRAM_ID, {"telegram_id": telegram_id})

    async def get_or_create(
        self, telegram_id: int, *, language: str, telegram_name: str, now: datetime
    ) -> Client:
        client = await self.by_telegram_id(telegram_id)
        if client is None:
            client = Client(
                telegram_id=telegram_id,
                language=language,
                telegram_name=telegram_name,
                banned=False,
                blocked_bot=False,
                created_at=now,
                updated_at=now,
            )
            self.session.add(client)
            await self.session.flush()
        return client
