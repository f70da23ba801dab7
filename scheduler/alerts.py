"""The due-work pass of SLA alerts: what is due now is found by the index on (status, fire_at),
checked against each request's current state, claimed once and said, in one transaction.

- **Found by the due moment**: `status = pending AND fire_at <= now`, so a pass costs what is
  due, not what is open.
- **No stale alert**: each due row is planned again from the request as it is now; a request
  answered, resolved, paused or re-prioritised since gets no alert for the old state (the row
  is cancelled or moved by the re-plan).
- **Once only**: each row is claimed with `UPDATE ... SET status = 'sent' WHERE id = ? AND
  status = 'pending'`; only the transaction whose update counts one row says it, and the same
  transaction queues the messages in the outbox. Two processes, a retry or a restart find it
  sent. Rows are claimed in id order, so two passes never wait on each other in a circle.
- **Within Telegram's limits**: every alert of the pass goes to the operator group in as few
  messages as 4096 characters allow (bot.alert_text); breaches also to the managers. The cards
  and topic titles of the requests concerned show the new state, unless so many fired at once
  that refreshing them would hold up the group's queue (REFRESH_BUDGET): then the combined
  message alone says it, and each card catches up at its request's next change.
- After a breach, the next repeat is planned in the same transaction; when the promised first
  response passes unanswered the client is told once, with an apology and when to expect one.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.alert_text import AlertItem, alert_messages, request_link
from bot.clock import Clock
from bot.services.alert_plans import clocks_of, plan_of, write_plan
from bot.services.deadlines import FIRST_RESPONSE
from bot.services.desk import Desk
from bot.services.outgoing import Outgoing
from bot.services.tickets import TicketService
from bot.settings import Settings
from bot.sla.alerts import PlannedAlert, overdue, time_left
from bot.vocabulary import AlertKind, Purpose
from storage.alerts import AlertRepo
from storage.models import SlaAlert, Ticket
from storage.outbox import OutboxRepo

log = logging.getLogger(__name__)

# Due alerts taken in one transaction; more are taken by the next round of the same pass.
BATCH = 1000
# Requests whose card and topic title a pass refreshes; beyond it none (see the module doc).
REFRESH_BUDGET = 10


def manager_chats(settings: Settings) -> tuple[int, ...]:
    """Where breach alerts also go: the managers' chat and each manager in private."""
    chats = [settings.manager_chat_id] if settings.manager_chat_id is not None else []
    chats += sorted(settings.manager_ids - set(chats))
    return tuple(chats)


@dataclass(frozen=True)
class Fired:
    alert: SlaAlert
    ticket: Ticket


async def run_alerts_once(
    sessions: async_sessionmaker[AsyncSession],
    desk: Desk,
    clock: Clock,
    *,
    managers: Sequence[int] = (),
    batch: int = BATCH,
) -> int:
    """One due-work pass at the clock's now: returns how many alerts it claimed and queued.
    Safe to run in several processes at once, and again at the same moment (it sends nothing
    already sent)."""
    now = clock.now()
    total = 0
    while True:
        fired, full = await _one_batch(sessions, desk, now, managers, batch)
        total += fired
        if not full:
            return total


async def _one_batch(
    sessions: async_sessionmaker[AsyncSession],
    desk: Desk,
    now: datetime,
    managers: Sequence[int],
    batch: int,
) -> tuple[int, bool]:
    async with sessions() as session:
        repo = AlertRepo(session)
        due = await repo.due(now, batch)
        if not due:
            return 0, False
        ticket_ids = sorted({row.ticket_id for row in due})
        tickets = await _tickets(session, ticket_ids)
        fired = await _claim(repo, desk, due, tickets, now)
        # Planned anew with what was just claimed: the next repeat, stale rows cancelled.
        rows = await repo.of_tickets(ticket_ids)
        for ticket in tickets.values():
            plan = plan_of(ticket, rows.get(ticket.id, []), desk.policy, now)
            await write_plan(repo, ticket.id, rows.get(ticket.id, []), plan, now)
        if fired:
            _say(session, desk, fired, now, managers)
        await session.commit()
    if fired:
        kinds = Counter(f.alert.kind.value for f in fired)
        log.info(
            "SLA alerts sent: %d (%s) for %d requests",
            len(fired),
            ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items())),
            len({f.ticket.id for f in fired}),
        )
    return len(fired), len(due) == batch


async def _tickets(session: AsyncSession, ids: Sequence[int]) -> dict[int, Ticket]:
    rows = await session.scalars(
        select(Ticket).where(Ticket.id.in_(ids)).execution_options(populate_existing=True)
    )
    return {ticket.id: ticket for ticket in rows}


async def _claim(
    repo: AlertRepo,
    desk: Desk,
    due: Sequence[SlaAlert],
    tickets: dict[int, Ticket],
    now: datetime,
) -> list[Fired]:
    """The due rows the current plan still holds, each claimed once (in id order)."""
    plans: dict[int, dict[tuple[str, AlertKind, int], PlannedAlert]] = {}
    rows = await repo.of_tickets(tickets.keys())
    for ticket_id, ticket in tickets.items():
        plan = plan_of(ticket, rows.get(ticket_id, []), desk.policy, now)
        plans[ticket_id] = {alert.key: alert for alert in plan}
    fired = []
    for row in sorted(due, key=lambda r: r.id):
        planned = plans.get(row.ticket_id, {}).get((row.target, row.kind, row.round))
        if planned is None or planned.fire_at > now:
            continue  # stale: the re-plan cancels or moves it
        if await repo.claim(row.id, now, due_at=planned.due_at):
            fired.append(Fired(row, tickets[row.ticket_id]))
    return fired


def _item(desk: Desk, fired: Fired, now: datetime) -> AlertItem:
    ticket, alert = fired.ticket, fired.alert
    clock = next(c for c in clocks_of(ticket, desk.policy) if c.name == alert.target)
    if alert.kind is AlertKind.WARNING:
        amount = time_left(clock, desk.policy.calendar, now)
    else:
        amount = overdue(clock, now)
    return AlertItem(
        kind=alert.kind,
        target=alert.target,
        number=ticket.number,
        company=ticket.client_company,
        topic=ticket.topic,
        priority=ticket.priority,
        assignee_id=ticket.assignee_id,
        assignee_name=ticket.assignee_name,
        link=request_link(desk.operator_chat_id, ticket.thread_id, ticket.card_message_id),
        amount=amount,
    )


def _say(
    session: AsyncSession,
    desk: Desk,
    fired: Sequence[Fired],
    now: datetime,
    managers: Sequence[int],
) -> None:
    out = Outgoing(OutboxRepo(session), desk.operator_chat_id, now)
    renderer, lang = desk.renderer, desk.renderer.desk_language
    items = [_item(desk, f, now) for f in fired]
    if desk.operator_chat_id is not None:
        for text in alert_messages(renderer, items, lang):
            out.to_chat(desk.operator_chat_id, text, purpose=Purpose.ALERT, html=True)
    breaches = [item for item in items if item.kind is AlertKind.BREACH]
    for chat_id in managers if breaches else ():
        for text in alert_messages(renderer, breaches, lang):
            out.to_chat(chat_id, text, purpose=Purpose.ALERT, html=True)
    service = TicketService(session, desk, now)
    concerned = {f.ticket.id: f.ticket for f in fired}
    if len(concerned) <= REFRESH_BUDGET:
        for ticket in concerned.values():
            service.show(ticket)
    for f in fired:
        if f.alert.kind is AlertKind.BREACH and f.alert.target == FIRST_RESPONSE:
            _apologise(out, desk, f.ticket, now)


def _apologise(out: Outgoing, desk: Desk, ticket: Ticket, now: datetime) -> None:
    """The promised first response has passed unanswered: the client is told, once (the
    breach row is claimed once), in their language, with an apology and a new time: the
    first-response time of the policy counted again from now (from the next opening when the
    desk is closed)."""
    client = ticket.client
    if ticket.first_response_at is not None or client.banned or client.blocked_bot:
        return
    policy = desk.policy
    expected = policy.calendar.add_working_time(now, policy.first_response_working)
    text = desk.renderer.t(
        "client.sla_apology",
        ticket.language,
        number=ticket.number,
        when=desk.renderer.by(expected, ticket.language),
    )
    out.to_chat(client.telegram_id, text, purpose=Purpose.NOTICE, ticket_id=ticket.id)
