"""The real bot, started by the production factory, against the local Bot API stand-in."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.clock import ShiftedClock
from standin import StandIn
from standin.local import LocalBot

TZ = ZoneInfo("Asia/Tashkent")
OPERATORS = -1001000000001
# Monday 23 November 2026, 11:00 in Tashkent: working time.
WORKING_MOMENT = datetime(2026, 11, 23, 11, 0, tzinfo=TZ)

JSON = dict[str, Any]


class Harness(LocalBot):
    """The real bot against the stand-in, with its database in the test's folder."""

    def __init__(self, standin: StandIn, tmp_path: Path, start: datetime, **settings: Any) -> None:
        settings.setdefault("operator_chat_id", OPERATORS)
        self.clock = ShiftedClock(start)
        super().__init__(
            standin,
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'desk.db'}",
            clock=self.clock,
            **settings,
        )


def buttons(message: JSON) -> Iterator[JSON]:
    markup = message.get("reply_markup") or {}
    for row in markup.get("inline_keyboard", []):
        yield from row


def find_button(messages: list[JSON], text_part: str) -> tuple[JSON, str]:
    """The newest bot message with a button whose text contains `text_part`."""
    for message in reversed(messages):
        for button in buttons(message):
            if text_part in button["text"] and "callback_data" in button:
                return message, button["callback_data"]
    raise AssertionError(f"no button {text_part!r} in {[m.get('text') for m in messages[-5:]]}")


class Person:
    """A Telegram user driving the bot in their private chat."""

    def __init__(
        self, h: Harness, user_id: int, first_name: str, language_code: str = "ru"
    ) -> None:
        self.h = h
        self.id = user_id
        h.standin.add_user(user_id, first_name, language_code=language_code)

    @property
    def inbox(self) -> list[JSON]:
        return self.h.standin.sent(self.id)

    def texts(self) -> list[str]:
        return [m.get("text") or m.get("caption") or "" for m in self.inbox]

    async def say(self, text: str | None = None, **kwargs: Any) -> list[JSON]:
        before = len(self.inbox)
        self.h.standin.send_message(self.id, text=text, **kwargs)
        await self.h.settle()
        return self.inbox[before:]

    async def press(self, text_part: str) -> list[JSON]:
        before = len(self.inbox)
        message, data = find_button(self.inbox, text_part)
        self.h.standin.press(self.id, message, data)
        await self.h.settle()
        return self.inbox[before:]


RU = {
    "kind": "Консультация",
    "topic": "Коды маркировки",
    "done": "Готово",
    "telegram": "В этом чате",
    "confirm": "Отправить",
}
UZ = {
    "kind": "Maslahat",
    "topic": "Markirovka kodlari",
    "done": "Tayyor",
    "telegram": "Ushbu Telegram",
    "confirm": "Yuborish",
}


async def identify(client: Person, name: str = "Иван Петров", tax_id: str = "301234567") -> None:
    await client.say("/start")
    await client.say(name)
    await client.say("ООО «Asia Trade»")
    await client.say(tax_id)


async def open_request(
    client: Person, text: str = "Не печатаются коды", labels: dict[str, str] = RU
) -> list[JSON]:
    """From an identified client's idle chat to a registered request; returns the last replies."""
    await client.say("/new")
    await client.press(labels["kind"])
    await client.press(labels["topic"])
    await client.say(text)
    await client.press(labels["done"])
    await client.press(labels["telegram"])
    return await client.press(labels["confirm"])


def joined(messages: list[JSON]) -> str:
    return "\n".join(m.get("text") or m.get("caption") or "" for m in messages)


class Operator:
    """A member of the operator group."""

    def __init__(self, h: Harness, user_id: int) -> None:
        self.h = h
        self.id = user_id

    @property
    def desk(self) -> list[JSON]:
        return self.h.standin.sent(OPERATORS)

    def card(self, number: int) -> JSON:
        """The newest state of the request's card (edits included)."""
        for message in reversed(self.desk):
            if (message.get("text") or "").startswith(f"Обращение №\u00a0{number}"):
                return message
        raise AssertionError(f"no card of request {number}")

    async def write(self, text: str | None = None, **kwargs: Any) -> JSON:
        message = self.h.standin.send_message(self.id, OPERATORS, text=text, **kwargs)
        await self.h.settle()
        return message

    async def press(self, message: JSON, text_part: str) -> str:
        _message, data = find_button([message], text_part)
        callback = self.h.standin.press(self.id, message, data)
        await self.h.settle()
        return callback

    def answers(self, callback: str) -> list[str]:
        return [a.get("text") or "" for a in self.h.standin.callback_answers(callback)]
