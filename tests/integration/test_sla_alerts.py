"""SLA alerts on a real database, the clock injected: planned at registration and re-planned by
every change of a request (answer, resolve, wait, priority, a new policy at start), claimed
once by due-work passes at chosen moments, in and outside working time, with the card, the
topic title, the managers and the client told what they should be."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import lifecycle as lc
from bot.services.desk import Desk
from bot.services.maintenance import recompute_if_policy_changed
from bot.services.outgoing import Outgoing
from bot.sla import Priority, SlaPolicy, Target
from bot.vocabulary import AlertKind, AlertStatus
from storage.models import SlaTarget, Ticket
from tests.integration.alert_kit import (
    DILNOZA,
    MANAGER,
    MANAGER_CHAT,
    AlertDesk,
    at,
    numbers_in,
    texts_of,
)
from tests.integration.conftest import OPERATOR_CHAT_ID
from tests.integration.service_kit import desk_like

W, B, R = AlertKind.WARNING, AlertKind.BREACH, AlertKind.REPEAT
FR, RES = "first_response", "resolution"
MENTION = '<a href="tg://user?id=9001">Dilnoza</a>'


@pytest.fixture
def kit(sessions: async_sessionmaker[AsyncSession], desk: Desk) -> AlertDesk:
    return AlertDesk(sessions, desk)


async def test_registration_plans_the_warning_and_the_breach_of_each_target(
    kit: AlertDesk,
) -> None:
    ticket = await kit.open(at("2026-04-06 12:00"))
    assert await kit.pending(ticket) == [
        (FR, W, 0, "Mon 12:08"),
        (FR, B, 0, "Mon 12:10"),
        (RES, W, 0, "Tue 19:12"),
        (RES, B, 0, "Wed 12:00"),
    ]


async def test_a_warning_then_the_breach_then_repeats_on_one_request(kit: AlertDesk) -> None:
    ticket = await kit.open(at("2026-04-06 12:00"))
    await kit.act(ticket, at("2026-04-06 12:01"), lc.Claim(DILNOZA))
    assert await kit.run(at("2026-04-06 12:07:59")) == 0

    mark = await kit.last_id()
    assert await kit.run(at("2026-04-06 12:08")) == 1
    [warning] = await kit.alerts_to(OPERATOR_CHAT_ID, mark)
    assert "Скоро срок: первый ответ" in warning
    assert '<a href="https://t.me/c/123/' not in warning  # no card posted yet: no link
    for part in (
        "№\u00a01001",
        "OOO Test",
        "Коды маркировки",
        "средний",
        "осталось 2\u00a0мин",
        MENTION,
    ):
        assert part in warning
    assert await kit.alerts_to(MANAGER_CHAT, mark) == []  # managers hear of breaches only
    queued = await kit.outbox(mark)
    [card] = texts_of(queued, "editMessageText")
    assert "Первый ответ до: 06.04.2026 12:10 · ⚠️ 2\u00a0мин до срока" in card
    assert texts_of(queued, "editForumTopic") == [
        "№\u00a01001 · OOO Test · в работе · ⚠️ 2\u00a0мин до срока"
    ]

    assert await kit.run(at("2026-04-06 12:08:30")) == 0  # once

    mark = await kit.last_id()
    assert await kit.run(at("2026-04-06 12:10")) == 1
    [breach] = await kit.alerts_to(OPERATOR_CHAT_ID, mark)
    assert "Срок пропущен: первый ответ" in breach
    assert "срок истёк только что" in breach
    assert MENTION in breach
    assert await kit.alerts_to(MANAGER_CHAT, mark) == [breach]
    assert await kit.alerts_to(MANAGER, mark) == [breach]
    assert "🔴 срок истёк" in texts_of(await kit.outbox(mark), "editMessageText")[0]

    assert await kit.run(at("2026-04-06 14:09")) == 0
    mark = await kit.last_id()
    assert await kit.run(at("2026-04-06 14:10")) == 1
    [repeat] = await kit.alerts_to(OPERATOR_CHAT_ID, mark)
    assert "Всё ещё просрочено: первый ответ" in repeat
    assert "просрочено на 2\u00a0ч" in repeat
    assert await kit.alerts_to(MANAGER_CHAT, mark) == []
    assert "🔴 просрочено на 2\u00a0ч" in texts_of(await kit.outbox(mark), "editMessageText")[0]

    assert await kit.run(at("2026-04-06 16:10")) == 1
    assert await kit.rows(ticket, AlertStatus.SENT) == [
        (FR, W, 0, "Mon 12:08"),
        (FR, B, 0, "Mon 12:10"),
        (FR, R, 1, "Mon 14:10"),
        (FR, R, 2, "Mon 16:10"),
    ]
    assert (FR, R, 3, "Mon 18:10") in await kit.pending(ticket)
    apologies = [t for t in await kit.to_client(ticket) if "Приносим извинения" in t]
    assert len(apologies) == 1


async def test_no_alert_after_an_answer(kit: AlertDesk) -> None:
    ticket = await kit.open(at("2026-04-06 12:00"))
    await kit.act(ticket, at("2026-04-06 12:05"), lc.Answer(DILNOZA))
    assert await kit.pending(ticket) == [(RES, W, 0, "Tue 19:12"), (RES, B, 0, "Wed 12:00")]
    assert await kit.run(at("2026-04-06 12:08")) == 0
    assert await kit.run(at("2026-04-06 12:10")) == 0
    assert [t for t in await kit.to_client(ticket) if "извинения" in t] == []


async def test_no_alert_after_a_resolve(kit: AlertDesk) -> None:
    ticket = await kit.open(at("2026-04-06 12:00"))
    await kit.act(ticket, at("2026-04-06 12:05"), lc.Resolve(DILNOZA))
    assert await kit.pending(ticket) == []
    for moment in ("2026-04-06 12:10", "2026-04-08 12:00", "2026-04-09 12:00"):
        assert await kit.run(at(moment)) == 0
    assert await kit.rows(ticket, AlertStatus.SENT) == []
    assert len(await kit.rows(ticket, AlertStatus.CANCELLED)) == 4


async def test_a_pass_checks_the_request_as_it_is_now(
    kit: AlertDesk, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """An answer recorded without a re-plan (by another version of the bot, say) still stops
    the alerts: the pass plans each due request anew before it claims anything."""
    ticket = await kit.open(at("2026-04-06 12:00"))
    answered = at("2026-04-06 12:05")
    async with sessions() as session:
        await session.execute(
            update(SlaTarget)
            .where(SlaTarget.ticket_id == ticket, SlaTarget.kind == FR)
            .values(met_at=answered)
        )
        await session.execute(
            update(Ticket).where(Ticket.id == ticket).values(first_response_at=answered)
        )
        await session.commit()
    assert await kit.run(at("2026-04-06 12:10")) == 0
    assert await kit.pending(ticket) == [(RES, W, 0, "Tue 19:12"), (RES, B, 0, "Wed 12:00")]
    assert await kit.alerts_to(OPERATOR_CHAT_ID) == []


async def test_waiting_pauses_the_resolution_alerts_and_resuming_plans_them_again(
    kit: AlertDesk,
) -> None:
    ticket = await kit.open(at("2026-04-06 12:00"))
    await kit.act(ticket, at("2026-04-06 12:05"), lc.Answer(DILNOZA))
    await kit.act(ticket, at("2026-04-06 13:00"), lc.Wait(DILNOZA))
    assert await kit.pending(ticket) == []
    assert await kit.run(at("2026-04-07 19:12")) == 0
    # 12 working hours stood still: everything moves by them.
    await kit.act(ticket, at("2026-04-07 13:00"), lc.Resume(DILNOZA))
    assert await kit.pending(ticket) == [(RES, W, 0, "Wed 19:12"), (RES, B, 0, "Thu 12:00")]
    assert await kit.run(at("2026-04-08 12:00")) == 0  # the old breach moment
    assert await kit.run(at("2026-04-08 19:12")) == 1


async def test_a_priority_change_plans_for_the_new_deadline(kit: AlertDesk) -> None:
    ticket = await kit.open(at("2026-04-06 12:00"))
    await kit.act(ticket, at("2026-04-06 12:05"), lc.Answer(DILNOZA))
    await kit.act(ticket, at("2026-04-06 12:30"), lc.SetPriority(DILNOZA, Priority.HIGH))
    # 8 working hours from Monday 12:00 end at its closing: the breach waits for Tuesday.
    assert await kit.pending(ticket) == [(RES, W, 0, "Mon 18:24"), (RES, B, 0, "Tue 08:00")]
    assert await kit.run(at("2026-04-06 18:24")) == 1
    # Lowered after the warning went out: no second warning, the breach for the new deadline
    # (the closing of Wednesday, so the opening of Thursday).
    await kit.act(ticket, at("2026-04-06 18:30"), lc.SetPriority(DILNOZA, Priority.LOW))
    assert await kit.pending(ticket) == [(RES, B, 0, "Thu 08:00")]
    assert await kit.run(at("2026-04-07 08:00")) == 0  # the old breach moment
    assert await kit.run(at("2026-04-09 08:00")) == 1


async def test_a_new_policy_at_start_plans_for_the_new_deadlines(
    kit: AlertDesk, sessions: async_sessionmaker[AsyncSession], desk: Desk
) -> None:
    await recompute_if_policy_changed(sessions, desk, at("2026-04-06 11:00"))  # remembered
    ticket = await kit.open(at("2026-04-06 12:00"))
    await kit.act(ticket, at("2026-04-06 12:05"), lc.Answer(DILNOZA))
    resolution = dict(desk.policy.resolution)
    resolution[Priority.MEDIUM] = Target.working_time(timedelta(hours=12))
    stricter = desk_like(
        desk, policy=SlaPolicy(calendar=desk.policy.calendar, resolution=resolution)
    )
    assert await recompute_if_policy_changed(sessions, stricter, at("2026-04-06 12:30")) == 1
    assert await kit.pending(ticket) == [(RES, W, 0, "Tue 09:36"), (RES, B, 0, "Tue 12:00")]
    kit.desk = stricter
    assert await kit.run(at("2026-04-07 09:36")) == 1
    assert await kit.run(at("2026-04-07 12:00")) == 1
    assert await kit.rows(ticket, AlertStatus.SENT) == [
        (RES, W, 0, "Tue 09:36"),
        (RES, B, 0, "Tue 12:00"),
    ]


async def test_alerts_outside_working_time_wait_for_the_opening_and_go_out_together(
    kit: AlertDesk,
) -> None:
    # Two low-priority requests: both due at Wednesday's closing, 20:00 (outside working time).
    first = await kit.open(at("2026-04-06 15:00"), priority=Priority.LOW)
    second = await kit.open(at("2026-04-06 16:00"), priority=Priority.LOW, company="OOO Two")
    for ticket in (first, second):
        await kit.act(ticket, at("2026-04-06 16:05"), lc.Answer(DILNOZA))
    assert await kit.run(at("2026-04-08 15:00")) == 2  # the warnings, in working time
    assert await kit.run(at("2026-04-08 20:00")) == 0
    assert await kit.run(at("2026-04-09 03:00")) == 0
    mark = await kit.last_id()
    assert await kit.run(at("2026-04-09 08:00")) == 2
    [together] = await kit.alerts_to(OPERATOR_CHAT_ID, mark)
    assert sorted(numbers_in(together)) == [1001, 1002]
    assert "Срок пропущен: решение" in together
    assert "просрочено на 12\u00a0ч" in together  # how long the clients have waited


async def test_a_repeat_that_falls_at_the_closing_waits_for_the_morning(kit: AlertDesk) -> None:
    ticket = await kit.open(at("2026-04-06 17:50"))  # first response due 18:00
    assert await kit.run(at("2026-04-06 18:00")) == 1
    assert (FR, R, 1, "Tue 08:00") in await kit.pending(ticket)  # 20:00 is closed
    assert await kit.run(at("2026-04-06 20:00")) == 0
    mark = await kit.last_id()
    assert await kit.run(at("2026-04-07 08:00")) == 1
    [repeat] = await kit.alerts_to(OPERATOR_CHAT_ID, mark)
    assert "Всё ещё просрочено: первый ответ" in repeat
    assert "просрочено на 14\u00a0ч" in repeat
    assert (FR, R, 2, "Tue 10:00") in await kit.pending(ticket)


async def test_a_warning_on_a_sunday_waits_for_monday(kit: AlertDesk) -> None:
    # The catalogue's 5 calendar days: 80 % are used on Sunday at 10:00.
    ticket = await kit.open(at("2026-04-08 10:00"), topic="catalog")
    await kit.act(ticket, at("2026-04-08 10:05"), lc.Answer(DILNOZA))
    assert await kit.run(at("2026-04-12 10:00")) == 0
    mark = await kit.last_id()
    assert await kit.run(at("2026-04-13 08:00")) == 1
    [warning] = await kit.alerts_to(OPERATOR_CHAT_ID, mark)
    assert "Скоро срок: решение" in warning
    assert "осталось 2\u00a0ч" in warning  # calendar time to Monday 10:00


async def test_a_critical_request_is_alerted_at_night(kit: AlertDesk) -> None:
    ticket = await kit.open(at("2026-04-11 23:00"), priority=Priority.CRITICAL)
    assert await kit.pending(ticket) == [
        (RES, W, 0, "Sun 02:12"),
        (RES, B, 0, "Sun 03:00"),
        (FR, W, 0, "Mon 09:36"),
        (FR, B, 0, "Mon 10:00"),
    ]
    mark = await kit.last_id()
    assert await kit.run(at("2026-04-12 02:12")) == 1
    [warning] = await kit.alerts_to(OPERATOR_CHAT_ID, mark)
    assert "Скоро срок: решение" in warning
    assert "критический" in warning
    assert "осталось 48\u00a0мин" in warning
    mark = await kit.last_id()
    assert await kit.run(at("2026-04-12 03:00")) == 1
    assert await kit.alerts_to(MANAGER, mark)
    assert await kit.run(at("2026-04-12 05:00")) == 1  # repeats round the clock
    assert (RES, R, 2, "Sun 07:00") in await kit.pending(ticket)


async def test_the_client_is_told_once_in_their_language(kit: AlertDesk) -> None:
    ticket = await kit.open(at("2026-04-06 12:00"), language="uz")
    for moment in ("2026-04-06 12:10", "2026-04-06 12:10", "2026-04-06 14:10", "2026-04-06 16:10"):
        await kit.run(at(moment))
    told = [t for t in await kit.to_client(ticket) if "Uzr soʻraymiz" in t]
    assert len(told) == 1
    assert "№\u00a01001" in told[0]
    # ... and by when: the first-response time again, from the moment it was missed.
    assert "operator Sizga dushanba, 6-aprel kuni soat 12:20 gacha javob beradi" in told[0]


async def test_at_night_the_client_is_told_when_the_desk_opens(kit: AlertDesk) -> None:
    # A critical request registered at 19:50 owes its first answer at the closing, 20:00;
    # its alerts are not held, so the client hears of the delay at night.
    ticket = await kit.open(at("2026-04-06 19:50"), priority=Priority.CRITICAL)
    assert await kit.run(at("2026-04-06 20:00")) == 1
    [apology] = [t for t in await kit.to_client(ticket) if "извинения" in t]
    assert "оператор ответит Вам до 08:10 во вторник, 7 апреля" in apology


async def test_after_a_long_outage_one_breach_and_no_stale_warning(kit: AlertDesk) -> None:
    """The bot was down from before the warning until after the breach: at restart, the
    breach goes once, the warning not at all, and the first repeat comes one interval later."""
    ticket = await kit.open(at("2026-04-06 12:00"))
    mark = await kit.last_id()
    assert await kit.run(at("2026-04-06 13:30")) == 1
    assert await kit.run(at("2026-04-06 13:30")) == 0
    [breach] = await kit.alerts_to(OPERATOR_CHAT_ID, mark)
    assert "Срок пропущен: первый ответ" in breach
    assert "просрочено на 1\u00a0ч 20\u00a0мин" in breach
    assert await kit.rows(ticket, AlertStatus.CANCELLED) == [(FR, W, 0, "Mon 12:08")]
    assert (FR, R, 1, "Mon 15:30") in await kit.pending(ticket)


async def test_a_pass_that_fails_leaves_everything_for_the_next(
    kit: AlertDesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash between claiming and committing (the process dies, the database refuses):
    the claims roll back with the messages, and the next pass sends every alert once."""
    tickets = [await kit.open(at("2026-04-06 12:00")) for _ in range(3)]
    original = Outgoing.to_chat

    def broken(self: Outgoing, chat_id: int, *args: object, **kwargs: object) -> object:
        if chat_id == OPERATOR_CHAT_ID:
            raise ConnectionError("the database went away")
        return original(self, chat_id, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Outgoing, "to_chat", broken)
    with pytest.raises(ConnectionError):
        await kit.run(at("2026-04-06 12:10"))
    monkeypatch.setattr(Outgoing, "to_chat", original)
    assert await kit.alerts_to(OPERATOR_CHAT_ID) == []
    assert await kit.run(at("2026-04-06 12:11")) == 3
    assert await kit.run(at("2026-04-06 12:11")) == 0
    [message] = await kit.alerts_to(OPERATOR_CHAT_ID)
    assert sorted(numbers_in(message)) == [await kit.number(t) for t in tickets]
