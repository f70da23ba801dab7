"""storage.clients: a client's profile read as one row and made the session's persistent
object, as the ORM's query would have made it (on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.clients import ClientRepo
from storage.models import Client

Sessions = async_sessionmaker[AsyncSession]


async def test_a_client_read_is_the_sessions_own_as_if_loaded(
    sessions: Sessions, now: datetime
) -> None:
    async with sessions() as session:
        created = await ClientRepo(session).get_or_create(
            501, language="uz", telegram_name="Dilnoza", now=now
        )
        created.name, created.tax_id, created.banned = "Dilnoza Karimova", "123456789", True
        await session.commit()
        client_id = created.id
    async with sessions() as session:
        repo = ClientRepo(session)
        assert await repo.by_telegram_id(404) is None
        client = await repo.by_telegram_id(501)
        assert client is not None
        assert (client.id, client.language, client.name, client.tax_id) == (
            client_id,
            "uz",
            "Dilnoza Karimova",
            "123456789",
        )
        assert client.banned is True and client.blocked_bot is False
        assert client.created_at == now and client.created_at.tzinfo is not None
        state = inspect(client)
        assert state.persistent and not state.expired_attributes
        assert not session.dirty and not session.new  # nothing to write
        # The same object again, as a query in the same session returns it.
        assert await repo.by_telegram_id(501) is client
        assert await repo.get_or_create(501, language="ru", telegram_name="x", now=now) is client
        # It is tracked: a change is written by the commit.
        client.company = "Turon Savdo"
        client.updated_at = now + timedelta(minutes=1)
        await session.commit()
    async with sessions() as session:
        stored = await session.scalar(select(Client).where(Client.telegram_id == 501))
        assert stored is not None and stored.company == "Turon Savdo"
        assert stored.updated_at == now + timedelta(minutes=1)


async def test_a_client_expired_by_a_rollback_is_read_again(
    sessions: Sessions, now: datetime
) -> None:
    async with sessions() as session:
        await ClientRepo(session).get_or_create(502, language="ru", telegram_name="A", now=now)
        await session.commit()
    async with sessions() as session, sessions() as other:
        client = await ClientRepo(session).by_telegram_id(502)
        assert client is not None
        await session.rollback()  # the session's objects are expired
        changed = await ClientRepo(other).by_telegram_id(502)
        assert changed is not None
        changed.name = "Anvar"
        await other.commit()
        again = await ClientRepo(session).by_telegram_id(502)
        assert again is client and again.name == "Anvar"
