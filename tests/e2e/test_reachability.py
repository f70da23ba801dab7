"""A client who blocks the bot is marked unreachable at once, from the `my_chat_member` update
Telegram sends, not at the next failed delivery; unblocking marks them reachable again. The bot
asks Telegram for those updates (its allowed_updates are computed from its handlers)."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Client, Ticket, TicketEvent
from tests.e2e.harness import OPERATORS, Harness, Person, identify, open_request


async def reachability(h: Harness, telegram_id: int) -> tuple[bool, bool, list[str]]:
    """(client blocked the bot, request №1001 unreachable, its reachability events)."""
    assert h.app is not None
    async with h.app.sessions() as session:
        client = await session.scalar(select(Client).where(Client.telegram_id == telegram_id))
        ticket = await session.scalar(select(Ticket).where(Ticket.number == 1001))
        assert client is not None and ticket is not None
        kinds = await session.scalars(
            select(TicketEvent.kind)
            .where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind.like("client_%blocked"))
            .order_by(TicketEvent.id)
        )
        return client.blocked_bot, ticket.client_unreachable, list(kinds.all())


def desk_notices(h: Harness, words: str) -> list[str]:
    return [m["text"] for m in h.standin.sent(OPERATORS) if words in (m.get("text") or "")]


async def test_blocking_and_unblocking_the_bot_is_known_at_once(harness: Harness) -> None:
    assert "my_chat_member" in (harness.standin.allowed_updates or [])
    client = Person(harness, 1001, "Иван")
    await identify(client)
    await open_request(client)
    calls = len(harness.standin.calls)

    harness.standin.block_bot(client.id)
    await harness.settle()
    assert await reachability(harness, client.id) == (True, True, ["client_blocked"])
    assert desk_notices(harness, "заблокировал бота") == [
        "Клиент по обращению №\u00a01001 заблокировал бота: сообщения ему не доставляются. "
        "Свяжитесь с ним другим способом."
    ]
    # Known from the update itself: nothing was sent to the client to find it out.
    tried = [c for c in harness.standin.calls[calls:] if c.params.get("chat_id") == client.id]
    assert tried == []

    harness.standin.block_bot(client.id, blocked=False)
    await harness.settle()
    assert await reachability(harness, client.id) == (
        False,
        False,
        ["client_blocked", "client_unblocked"],
    )
    assert desk_notices(harness, "разблокировал бота") == [
        "Клиент по обращению №\u00a01001 разблокировал бота: сообщения ему снова доставляются."
    ]
