"""A hand-built desk for the statistics, digest and export tests, with every figure worked out
by hand (see EXPECTED below). Times are Tashkent wall-clock times (UTC+5).

The digest of Tuesday 17 March 2026 at 09:00 covers [Mon 16 March 09:00, Tue 09:00):

| №    | registered | first response          | resolved        | priority | who         | rating |
|------|------------|-------------------------|-----------------|----------|-------------|--------|
| 1001 | Mon 10:00  | 10:05 (due 10:10)       | Mon 12:00       | medium   | A           | 5      |
| 1002 | Mon 11:00  | 11:30 (due 11:10) late  | Mon 15:00       | high     | B from 11:20| 3      |
| 1003 | Mon 14:00  | 14:08                   | open, due 18:00 | critical | B, A Tue    | -      |
| 1004 | Sun 12:00  | Mon 09:20 (due 10:00)   | Mon 16:00       | low      | B           | 4      |
| 1005 | Mon 19:00  | none yet (due Tue 10:00)| open            | medium   | nobody      | -      |
| 1006 | Fri 10:00  | Fri 10:03               | open, due Fri 18:00 | high | B          | -      |
| 1007 | Mon 09:30  | 09:31                   | Tue 08:50       | medium   | A           | -      |
| 1008 | 2 Feb      | late (recorded 2 Feb)   | 2 Feb           | medium   | A           | 1      |

A is operator 9001 "Dilnoza Operator", B is 9002 "Sardor Operator". №1003's resolution was
missed at Mon 18:00 while B had it (A took it over on Tuesday at 08:00): the breach is B's.
№1006's breach was recorded (breached_at) on Friday; №1002's when it was met late."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.vocabulary import ActorKind, Feedback, Kind, Priority, Status
from storage.models import Client, Digest, SlaTarget, Ticket, TicketEvent

TZ = ZoneInfo("Asia/Tashkent")
A = (9001, "Dilnoza Operator")
B = (9002, "Sardor Operator")

DAYS = {"Fri": 13, "Sun": 15, "Mon": 16, "Tue": 17}


def at(day: str | int, hh: int, mm: int = 0, month: int = 3) -> datetime:
    """A Tashkent wall-clock moment in March 2026 (day as 'Mon' or a number), in UTC."""
    number = DAYS[day] if isinstance(day, str) else day
    return datetime(2026, month, number, hh, mm, tzinfo=TZ).astimezone(UTC)


DIGEST_NOW = at("Tue", 9)
PERIOD_START = at("Mon", 9)


@dataclass
class Spec:
    number: int
    registered: datetime
    priority: Priority
    status: Status
    first_due: datetime | None
    first_at: datetime | None
    resolution_due: datetime | None
    resolved_at: datetime | None = None
    assignee: tuple[int, str] | None = None
    rating: int | None = None
    first_breached: datetime | None = None
    resolution_breached: datetime | None = None
    events: tuple[tuple[str, datetime, dict[str, Any]], ...] = ()
    description: str = "Коды маркировки не проходят проверку"


def claimed(who: tuple[int, str], moment: datetime) -> tuple[str, datetime, dict[str, Any]]:
    return ("claimed", moment, {"assignee_id": who[0]})


def assigned(who: tuple[int, str], moment: datetime) -> tuple[str, datetime, dict[str, Any]]:
    return ("assigned", moment, {"assignee_id": who[0]})


SPECS = (
    Spec(
        1001,
        at("Mon", 10),
        Priority.MEDIUM,
        Status.CLOSED,
        at("Mon", 10, 10),
        at("Mon", 10, 5),
        at("Tue", 10),
        resolved_at=at("Mon", 12),
        assignee=A,
        rating=5,
        events=(claimed(A, at("Mon", 10, 2)),),
    ),
    Spec(
        1002,
        at("Mon", 11),
        Priority.HIGH,
        Status.RESOLVED,
        at("Mon", 11, 10),
        at("Mon", 11, 30),
        at("Mon", 19),
        resolved_at=at("Mon", 15),
        assignee=B,
        rating=3,
        first_breached=at("Mon", 11, 10),
        events=(claimed(B, at("Mon", 11, 20)),),
        description='=HYPERLINK("http://example.com")',  # a formula must stay text
    ),
    Spec(
        1003,
        at("Mon", 14),
        Priority.CRITICAL,
        Status.IN_PROGRESS,
        at("Mon", 14, 10),
        at("Mon", 14, 8),
        at("Mon", 18),
        assignee=A,
        events=(claimed(B, at("Mon", 14, 5)), assigned(A, at("Tue", 8))),
    ),
    Spec(
        1004,
        at("Sun", 12),
        Priority.LOW,
        Status.CLOSED,
        at("Mon", 10),
        at("Mon", 9, 20),
        at(18, 20),
        resolved_at=at("Mon", 16),
        assignee=B,
        rating=4,
        events=(claimed(B, at("Mon", 9, 19)),),
    ),
    Spec(
        1005,
        at("Mon", 19),
        Priority.MEDIUM,
        Status.NEW,
        at("Tue", 10),
        None,
        at(18, 20),
    ),
    Spec(
        1006,
        at("Fri", 10),
        Priority.HIGH,
        Status.IN_PROGRESS,
        at("Fri", 10, 10),
        at("Fri", 10, 3),
        at("Fri", 18),
        assignee=B,
        resolution_breached=at("Fri", 18),
        events=(claimed(B, at("Fri", 10, 1)),),
    ),
    Spec(
        1007,
        at("Mon", 9, 30),
        Priority.MEDIUM,
        Status.RESOLVED,
        at("Mon", 9, 40),
        at("Mon", 9, 31),
        at("Tue", 9, 30),
        resolved_at=at("Tue", 8, 50),
        assignee=A,
        events=(claimed(A, at("Mon", 9, 31)),),
    ),
    Spec(
        1008,
        at(2, 10, month=2),
        Priority.MEDIUM,
        Status.CLOSED,
        at(2, 10, 10, month=2),
        at(2, 11, month=2),
        at(3, 10, month=2),
        resolved_at=at(2, 12, month=2),
        assignee=A,
        rating=1,
        first_breached=at(2, 10, 10, month=2),
    ),
)


async def build_desk(sessions: async_sessionmaker[AsyncSession], *, digest: bool = True) -> None:
    """Write the requests above (and, with `digest`, Monday's digest ending at Mon 09:00)."""
    async with sessions() as session:
        client = Client(
            telegram_id=700_000_001,
            language="ru",
            telegram_name="Test Client",
            name="Aziz",
            company="OOO Test",
            tax_id="123456789",
            tax_id_kind="inn",
            created_at=at(1, 9),
            updated_at=at(1, 9),
        )
        session.add(client)
        await session.flush()
        for spec in SPECS:
            ticket = _ticket(spec, client)
            session.add(ticket)
            await session.flush()
            for kind, moment, data in spec.events:
                session.add(
                    TicketEvent(
                        ticket_id=ticket.id,
                        actor_kind=ActorKind.OPERATOR,
                        actor_id=data["assignee_id"],
                        kind=kind,
                        at=moment,
                        data=data,
                    )
                )
        if digest:
            session.add(
                Digest(
                    day=PERIOD_START.astimezone(TZ).date(),
                    period_start=PERIOD_START - timedelta(days=3),
                    period_end=PERIOD_START,
                    created_at=PERIOD_START,
                )
            )
        await session.commit()


def _ticket(spec: Spec, client: Client) -> Ticket:
    closed = spec.status == Status.CLOSED
    first_met = spec.first_at
    resolution_met = spec.resolved_at
    return Ticket(
        number=spec.number,
        client_id=client.id,
        kind=Kind.CONSULTATION,
        topic="marking_codes",
        status=spec.status,
        priority=spec.priority,
        feedback=Feedback.TELEGRAM,
        description=spec.description,
        language="ru",
        client_name="Aziz",
        client_company=f"OOO Company {spec.number}",
        client_tax_id="123456789",
        assignee_id=spec.assignee[0] if spec.assignee else None,
        assignee_name=spec.assignee[1] if spec.assignee else None,
        registered_at=spec.registered,
        first_response_at=spec.first_at,
        resolved_at=spec.resolved_at,
        closed_at=spec.resolved_at + timedelta(hours=1) if closed and spec.resolved_at else None,
        last_activity_at=spec.resolved_at or spec.first_at or spec.registered,
        rating=spec.rating,
        targets=[
            SlaTarget(
                kind="first_response",
                due_at=spec.first_due,
                met_at=first_met,
                breached_at=spec.first_breached,
            ),
            SlaTarget(
                kind="resolution",
                due_at=spec.resolution_due,
                met_at=resolution_met,
                breached_at=spec.resolution_breached,
            ),
        ],
    )
