"""A desk for the SLA alert tests: requests opened through registration, operators acting
through the ticket service, due-work passes at chosen moments (the clock injected), and what
the passes left in the database (the alert rows, the outbox)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import lifecycle as lc
from bot.lifecycle import Actor
from bot.services.desk import Desk
from bot.services.drafts import Part, RequestDraft
from bot.services.registration import register_request
from bot.services.tickets import TicketService
from bot.sla import Priority
from bot.vocabulary import AlertKind, AlertStatus, Feedback, Kind, Purpose
from scheduler.alerts import run_alerts_once
from storage.models import Client, OutboxItem, SlaAlert, Ticket

TZ = ZoneInfo("Asia/Tashkent")
DILNOZA = Actor.operator(9001, "Dilnoza")
SARDOR = Actor.operator(9002, "Sardor")
MANAGER_CHAT = -100777
MANAGER = 5001


def at(text: str) -> datetime:
    """A moment in the desk's zone; the week of 6 April 2026 has no holiday."""
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


class FixedClock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


def numbers_in(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"№\u00a0(\d+)", text)]


@dataclass
class AlertDesk:
    sessions: async_sessionmaker[AsyncSession]
    desk: Desk
    managers: tuple[int, ...] = (MANAGER_CHAT, MANAGER)
    _clients: itertools.count[int] = field(default_factory=lambda: itertools.count(700_100_001))

    async def open_many(self, count: int, moment: datetime) -> list[int]:
        """`count` requests registered at one moment, in one transaction (an outage morning)."""
        async with self.sessions() as session:
            tickets = TicketService(session, self.desk, moment)
            ids = []
            for index in range(count):
                telegram_id = next(self._clients)
                client = Client(
                    telegram_id=telegram_id,
                    language="ru" if index % 2 else "uz",
                    telegram_name="Test Client",
                    name="Aziz",
                    company=f"OOO Company {index:03}",
                    tax_id="123456789",
                    tax_id_kind="inn",
                    created_at=moment,
                    updated_at=moment,
                )
                session.add(client)
                await session.flush()
                part = Part(chat_id=telegram_id, message_id=1, content_type="text", text="Коды")
                draft = RequestDraft(Kind.CONSULTATION, "marking_codes", [part], Feedback.TELEGRAM)
                ids.append((await register_request(tickets, client, draft)).id)
            await session.commit()
            return ids

    async def open(
        self,
        moment: datetime,
        *,
        priority: Priority | None = None,
        topic: str = "marking_codes",
        company: str = "OOO Test",
        language: str = "ru",
    ) -> int:
        """A request registered at `moment` (and given a priority then); returns its id."""
        async with self.sessions() as session:
            telegram_id = next(self._clients)
            client = Client(
                telegram_id=telegram_id,
                language=language,
                telegram_name="Test Client",
                name="Aziz",
                company=company,
                tax_id="123456789",
                tax_id_kind="inn",
                created_at=moment,
                updated_at=moment,
            )
            session.add(client)
            await session.flush()
            tickets = TicketService(session, self.desk, moment)
            part = Part(chat_id=telegram_id, message_id=1, content_type="text", text="Коды")
            draft = RequestDraft(Kind.CONSULTATION, topic, [part], Feedback.TELEGRAM)
            ticket = await register_request(tickets, client, draft)
            if priority is not None:
                await tickets.execute(ticket, lc.SetPriority(DILNOZA, priority))
            await session.commit()
            return ticket.id

    async def act(self, ticket_id: int, moment: datetime, *commands: lc.Command) -> None:
        async with self.sessions() as session:
            ticket = await session.get(Ticket, ticket_id)
            assert ticket is not None
            tickets = TicketService(session, self.desk, moment)
            for command in commands:
                outcome = await tickets.execute(ticket, command)
                assert isinstance(outcome, lc.Decision), outcome
            await session.commit()

    async def run(self, moment: datetime) -> int:
        return await run_alerts_once(
            self.sessions, self.desk, FixedClock(moment), managers=self.managers
        )

    async def rows(
        self, ticket_id: int, status: AlertStatus | None = None
    ) -> list[tuple[str, AlertKind, int, str]]:
        """(target, kind, round, fire_at as 'Mon 12:08' in the desk's zone)."""
        async with self.sessions() as session:
            query = select(SlaAlert).where(SlaAlert.ticket_id == ticket_id)
            if status is not None:
                query = query.where(SlaAlert.status == status)
            rows = (await session.scalars(query.order_by(SlaAlert.fire_at, SlaAlert.id))).all()
        return [
            (r.target, r.kind, r.round, r.fire_at.astimezone(TZ).strftime("%a %H:%M")) for r in rows
        ]

    async def pending(self, ticket_id: int) -> list[tuple[str, AlertKind, int, str]]:
        return await self.rows(ticket_id, AlertStatus.PENDING)

    async def outbox(self, after: int = 0) -> list[OutboxItem]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(OutboxItem).where(OutboxItem.id > after).order_by(OutboxItem.id)
            )
            return list(rows.all())

    async def last_id(self) -> int:
        rows = await self.outbox()
        return rows[-1].id if rows else 0

    async def alerts_to(self, chat_id: int, after: int = 0) -> list[str]:
        return [
            item.payload["text"]
            for item in await self.outbox(after)
            if item.purpose == Purpose.ALERT and item.chat_id == chat_id
        ]

    async def to_client(self, ticket_id: int, after: int = 0) -> list[str]:
        async with self.sessions() as session:
            ticket = await session.get(Ticket, ticket_id)
            assert ticket is not None
            chat_id = ticket.client.telegram_id
        return [
            item.payload["text"] for item in await self.outbox(after) if item.chat_id == chat_id
        ]

    async def number(self, ticket_id: int) -> int:
        async with self.sessions() as session:
            ticket = await session.get(Ticket, ticket_id)
            assert ticket is not None
            return ticket.number


def texts_of(items: Sequence[OutboxItem], method: str) -> list[str]:
    return [
        item.payload.get("text") or item.payload.get("name") or ""
        for item in items
        if item.method == method
    ]
