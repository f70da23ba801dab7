"""Erasing a client and the retention of closed requests on SQLite and PostgreSQL: the profile
and the requests' personal data go, the open request is closed through the life cycle, the
statistics stay; the raw updates keep their ids without their bodies; retention acts once."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.desk import Desk
from bot.services.privacy import expire_closed, forget_client, my_data
from bot.vocabulary import Direction, InboxStatus, Status
from storage.inbox import InboxRepo, Received
from storage.models import Client, InboxUpdate, Ticket, TicketMessage
from tests.integration.service_kit import event_kinds

Sessions = async_sessionmaker[AsyncSession]


def message(ticket: Ticket, direction: Direction, text: str, now: datetime) -> TicketMessage:
    return TicketMessage(
        ticket_id=ticket.id,
        direction=direction,
        author_id=1,
        author_name="Aziz",
        chat_id=700_000_001,
        message_id=1,
        content_type="text",
        text=text,
        created_at=now,
    )


async def test_forgetting_a_client(
    sessions: Sessions, desk: Desk, now: datetime, new_ticket: Any
) -> None:
    ticket = await new_ticket()
    async with sessions() as session:
        session.add(message(ticket, Direction.CLIENT, "Коды не печатаются", now))
        session.add(message(ticket, Direction.OPERATOR, "Aziz, проверьте принтер", now))
        body = {"update_id": 5, "message": {"text": "Aziz 123456789"}}
        await InboxRepo(session).store([Received(5, 700_000_001, body)], now=now)
        await InboxRepo(session).mark_handled(5, now=now)
        await session.commit()
    async with sessions() as session:
        client = await session.scalar(select(Client))
        assert client is not None
        data = await my_data(session, client)
        assert data.total == 1 and data.requests[0].from_client == 1
        assert data.requests[0].to_client == 1
        numbers = await forget_client(session, desk, client, now, keep_update=None)
        await session.commit()
    assert numbers == [1001]
    async with sessions() as session:
        client = await session.scalar(select(Client))
        assert client is not None and not client.identified
        assert (client.name, client.tax_id, client.telegram_name) == (None, None, "")
        kept = await session.scalar(select(Ticket))
        assert kept is not None and kept.status == Status.CLOSED
        assert (kept.client_name, kept.client_tax_id, kept.description) == ("", "", "")
        texts = (await session.scalars(select(TicketMessage.text))).all()
        assert len(texts) == 2 and set(texts) == {None}
        row = await session.scalar(select(InboxUpdate))
        assert row is not None and row.body == {} and row.status == InboxStatus.HANDLED
        assert {"withdrawn", "client_forgotten"} <= set(await event_kinds(session, kept.id))


async def test_retention_once_and_only_for_requests_closed_long_ago(
    sessions: Sessions, desk: Desk, now: datetime, new_ticket: Any
) -> None:
    old = await new_ticket(700_000_001)
    recent = await new_ticket(700_000_002)
    async with sessions() as session:
        for ticket, days in ((old, 40), (recent, 5)):
            row = await session.get(Ticket, ticket.id)
            assert row is not None
            row.status, row.closed_at = Status.CLOSED, now - timedelta(days=days)
        await session.commit()
    for expected in (1, 0):
        async with sessions() as session:
            assert await expire_closed(session, desk, now, timedelta(days=30)) == expected
            await session.commit()
    async with sessions() as session:
        rows = {t.number: t for t in (await session.scalars(select(Ticket))).all()}
        assert rows[old.number].client_tax_id == "" and rows[old.number].status == Status.CLOSED
        assert rows[recent.number].client_tax_id == "123456789"
