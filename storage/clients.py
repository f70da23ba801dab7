"""Client profiles."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.util import identity_key

from storage import direct
from storage.models import Client, table_of

# Built once: it runs for every update from a private chat. The row is read as plain columns
# (on SQLite on the driver, storage.direct) and made the session's persistent Client as if
# the ORM had loaded it, without the ORM's query and loading machinery around one row.
_TABLE = table_of(Client)
_BY_TELEGRAM_ID = direct.Prepared(
    select(*_TABLE.c).where(_TABLE.c.telegram_id == bindparam("telegram_id"))
)
_ATTRIBUTES = [inspect(Client).get_property_by_column(column).key for column in _TABLE.c]


class ClientRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_telegram_id(self, telegram_id: int) -> Client | None:
        row = await direct.first(self.session, _BY_TELEGRAM_ID, {"telegram_id": telegram_id})
        if row is None:
            return None
        values = dict(zip(_ATTRIBUTES, row, strict=True))
        # Already in the session: that object, as a query would return it (refreshed by the
        # ORM's query if a rollback expired it).
        known = self.session.identity_map.get(identity_key(Client, values["id"]))
        if known is not None:
            if inspect(known).expired_attributes:
                return await self.session.scalar(select(Client).where(Client.id == values["id"]))
            return known
        client = Client(**values)
        make_transient_to_detached(client)  # its values as loaded, nothing to write
        self.session.add(client)
        return client

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
