"""Many requests written straight into the bot's database (their cards are not posted: a
flood of cards is another test's business), already answered, with their alerts planned the
way the ticket service plans them."""

from __future__ import annotations

from datetime import timedelta

from bot.factory import App
from bot.services import alert_plans
from bot.services.deadlines import FIRST_RESPONSE, RESOLUTION
from bot.sla import Priority
from bot.vocabulary import Feedback, Kind, Status
from storage.models import Client, SlaTarget, Ticket
from storage.tickets import TicketRepo


async def add_requests(app: App, count: int, *, due_in: timedelta) -> list[int]:
    """`count` critical requests registered now, answered at once, their resolution due
    `due_in` later (4 calendar hours for the default policy); returns their numbers."""
    now = app.clock.now()
    numbers = []
    async with app.sessions() as session:
        repo = TicketRepo(session)
        for index in range(count):
            client = Client(
                telegram_id=800_000_000 + index,
                language="ru",
                telegram_name="Client",
                name="Client",
                company=f"OOO Company {index:03}",
                tax_id="301234567",
                tax_id_kind="inn",
                created_at=now,
                updated_at=now,
            )
            session.add(client)
            await session.flush()
            ticket = Ticket(
                number=await repo.next_number(),
                client_id=client.id,
                kind=Kind.CONSULTATION,
                topic="marking_codes",
                status=Status.IN_PROGRESS,
                priority=Priority.CRITICAL,
                feedback=Feedback.TELEGRAM,
                description="Коды",
                language="ru",
                client_name="Client",
                client_company=client.company or "",
                client_tax_id="301234567",
                assignee_id=9001,
                assignee_name="Dilnoza Operator",
                registered_at=now,
                first_response_at=now,
                last_activity_at=now,
                client_unreachable=False,
                version=0,
                next_due_at=now + due_in,
                targets=[
                    SlaTarget(kind=FIRST_RESPONSE, due_at=now, met_at=now),
                    SlaTarget(kind=RESOLUTION, due_at=now + due_in),
                ],
                pauses=[],
            )
            session.add(ticket)
            await session.flush()
            await alert_plans.replan(session, ticket, app.desk.policy, now)
            numbers.append(ticket.number)
        await session.commit()
    return sorted(numbers)
