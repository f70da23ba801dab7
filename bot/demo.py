"""`python -m bot demo`: the real bot, built by the production factory, against the local Bot API
stand-in (`standin`), with no token and no network. It plays a short story and prints a
transcript of what each side writes and sees:

1. Friday evening, in working time: a client writes in Russian and opens request №1001 (with a
   wrong INN first, to show the polite error);
2. two minutes later an operator takes the request from its card in the operator group, answers
   the client by replying to the card and marks it solved; the client confirms and rates it;
3. at 21:00, outside working time, a client writes in Uzbek, asks to be called back and shares
   a phone number; request №1002 is promised an answer by 10:00 on the next working day;
4. on Monday at 09:00 the scheduler sends the managers' morning digest with its chart (saved to
   a file whose path is printed); the operator takes №1002 but does not answer yet;
5. at 09:40 the operators are warned that №1002's first-response time is running out, and at
   10:00 the breach alert names the assignee (and goes to the manager); the client gets an
   apology with a new promise;
6. the operator keeps a saved answer in Russian and in Uzbek (/macro add, /macros) and sends it
   to №1002 with /m: the Uzbek client gets the Uzbek text with their name, the request's number
   and their company filled in.

The operator part comes before the Uzbek client so that №1001 is answered within the 10 working
minutes the bot promises (the demo's clock only moves forward).

The transcript labels are developer output; everything the bot says is printed exactly as the
bot sent it. A step the bot does not answer, a missing button or a failed handler stops the demo
with a report (return code 1)."""

from __future__ import annotations

import contextlib
import logging
import sys
import tempfile
import traceback
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.clock import ShiftedClock
from bot.factory import App
from bot.i18n import NBSP
from standin import Call, StandIn
from standin.local import BotStopped, LocalBot

JSON = dict[str, Any]

TZ = ZoneInfo("Asia/Tashkent")
OPERATORS = -1001000000001
# The desk works Monday to Friday, 08:00-20:00 in Tashkent (the default SLA policy).
FRIDAY_EVENING = datetime(2026, 11, 27, 19, 30, tzinfo=TZ)  # working time
OPERATOR_MOMENT = datetime(2026, 11, 27, 19, 33, tzinfo=TZ)
AFTER_HOURS = datetime(2026, 11, 27, 21, 0, tzinfo=TZ)  # the next opening: Monday 08:00

MONDAY_DIGEST = datetime(2026, 11, 30, 9, 0, tzinfo=TZ)
MONDAY_CLAIM = datetime(2026, 11, 30, 9, 5, tzinfo=TZ)
MONDAY_WARNING = datetime(2026, 11, 30, 9, 40, tzinfo=TZ)  # 80 % of 08:00-10:00 is used
MONDAY_BREACH = datetime(2026, 11, 30, 10, 0, tzinfo=TZ)
MONDAY_SAVED_ANSWER = datetime(2026, 11, 30, 10, 5, tzinfo=TZ)
CHART_FILE = Path(tempfile.gettempdir()) / "crpt-desk-demo-digest.png"

OPERATOR_ID = 9001
MANAGER_ID = 7001
RU_CLIENT_ID = 1001
UZ_CLIENT_ID = 1002
# How the bot writes the two requests' numbers ("№" and a non-breaking space).
FIRST = f"№{NBSP}1001"
SECOND = f"№{NBSP}1002"

# Methods that show nothing to anyone.
_QUIET_METHODS = frozenset(
    {
        "getupdates",
        "getme",
        "getchat",
        "getchatmember",
        "getchatadministrators",
        "setmycommands",
        "deletemycommands",
        "setchatmenubutton",
        "deletewebhook",
        "sendchataction",
        "getfile",
        "downloadfile",
    }
)
_SETTLE_TIMEOUT = 10.0


class DemoFailure(Exception):
    """The bot did not do what the story needs; the message says what is missing."""


# ---------------------------------------------------------------------- logging


class _LogWatch(logging.Handler):
    """Prints warnings and errors to stderr (the transcript stays on stdout) and keeps the
    errors: a failed handler fails the demo."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.errors: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR:
            self.errors.append(record)  # the traceback comes with the failure report
        with contextlib.suppress(Exception):
            line = f"{record.levelname} {record.name}: {record.getMessage()}"
            print(line, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------- the transcript


def _out(line: str = "") -> None:
    print(line, flush=True)


def _content(message: JSON) -> str:
    """The text of a message as its reader sees it; media as a short mark."""
    if message.get("text") is not None:
        return str(message["text"])
    parts = []
    for kind in ("photo", "document", "video", "voice", "audio", "sticker", "animation"):
        if kind in message:
            name = message[kind].get("file_name") if isinstance(message[kind], dict) else None
            parts.append(f"[{kind}{': ' + name if name else ''}]")
    if "contact" in message:
        parts.append(f"[contact: +{message['contact'].get('phone_number', '')}]")
    if message.get("caption"):
        parts.append(str(message["caption"]))
    return " ".join(parts) or "[message]"


def _keyboard_lines(markup: Any) -> list[str]:
    if not isinstance(markup, dict):
        return []
    if markup.get("inline_keyboard"):
        labels = [b.get("text", "") for row in markup["inline_keyboard"] for b in row]
        return [f"   [buttons: {' | '.join(labels)}]"]
    if markup.get("keyboard"):
        labels = [
            b if isinstance(b, str) else b.get("text", "")
            for row in markup["keyboard"]
            for b in row
        ]
        return [f"   [keyboard: {' | '.join(labels)}]"]
    if markup.get("remove_keyboard"):
        return ["   [keyboard removed]"]
    return []


def _block(head: str, text: str) -> list[str]:
    lines = text.splitlines() or [""]
    return [f"{head} {lines[0]}".rstrip()] + [f"   {line}".rstrip() for line in lines[1:]]


class Transcript:
    """Prints what the bot did, from the stand-in's record of API calls, in order."""

    def __init__(self, standin: StandIn) -> None:
        self.standin = standin
        self.names: dict[int, str] = {OPERATORS: "operators group"}
        self.seen = 0
        self.texts: dict[
            tuple[Any, Any], tuple[str, bool]
        ] = {}  # the bot's messages as last sent or edited

    def where(self, chat_id: Any) -> str:
        try:
            return self.names.get(int(chat_id), str(chat_id))
        except (TypeError, ValueError):
            return str(chat_id)

    def flush(self) -> list[Call]:
        """Print the calls made since the last flush; returns those that touched a chat."""
        calls = self.standin.calls[self.seen :]
        self.seen += len(calls)
        shown = []
        for call in calls:
            if call.method.lower() in _QUIET_METHODS and call.ok:
                continue
            for line in self._render(call):
                _out(line)
            shown.append(call)
        return shown

    def _render(self, call: Call) -> list[str]:
        method, params = call.method, call.params
        to = self.where(params.get("chat_id"))
        if not call.ok:
            return [
                f"   [!] the Bot API refused {method} in {to}: {call.status} {call.description}"
            ]
        name = method.lower()
        if name == "answercallbackquery":
            return self._callback_answer(params)
        if name in ("copymessage", "forwardmessage"):
            copied = self._stored(params.get("chat_id"), call.result)
            return _block(f"[bot → {to}]", _content(copied)) + _keyboard_lines(
                params.get("reply_markup")
            )
        if name in ("sendmediagroup", "copymessages", "forwardmessages"):
            items = call.result if isinstance(call.result, list) else []
            texts = [_content(self._stored(params.get("chat_id"), item)) for item in items]
            return _block(f"[bot → {to}]", " ".join(texts) or "[album]")
        if name.startswith("send") and isinstance(call.result, dict):
            self._remember(call.result)
            return _block(f"[bot → {to}]", _content(call.result)) + _keyboard_lines(
                params.get("reply_markup")
            )
        if name in ("editmessagetext", "editmessagecaption") and isinstance(call.result, dict):
            return self._edit(call.result, to, params.get("reply_markup"))
        if name == "editmessagereplymarkup":
            if isinstance(call.result, dict):
                self._remember(call.result)
            head = f"[bot changes the buttons of its message {params.get('message_id')} → {to}]"
            buttons = _keyboard_lines(params.get("reply_markup"))
            return [head, *(buttons or ["   [buttons removed]"])]
        if name.startswith("delete") and "message" in name:
            return [f"[bot deletes message(s) {params.get('message_id', '')} in {to}]"]
        args = ", ".join(f"{k}={v!r}" for k, v in params.items() if k != "chat_id")
        return [f"[bot: {method} in {to}] {args}"]

    def _remember(self, message: JSON) -> None:
        key = (message.get("chat", {}).get("id"), message.get("message_id"))
        self.texts[key] = (_content(message), bool(_buttons(message)))

    def _edit(self, message: JSON, to: str, markup: Any) -> list[str]:
        """An edited text: its first line and the lines that changed."""
        key = (message.get("chat", {}).get("id"), message.get("message_id"))
        before, had_buttons = self.texts.get(key, (None, False))
        text = _content(message)
        self._remember(message)
        head = f"[bot edits its message {message.get('message_id')} → {to}]"
        buttons = _keyboard_lines(markup)
        if not buttons and had_buttons:
            buttons = ["   [buttons removed]"]
        if before is None:
            return _block(head, text) + buttons
        old_lines = set(before.splitlines())
        lines = text.splitlines() or [""]
        changed = [line for line in lines[1:] if line.strip() and line not in old_lines]
        return [f"{head} {lines[0]}", *(f"   … {line}" for line in changed), *buttons]

    def _callback_answer(self, params: JSON) -> list[str]:
        text = params.get("text")
        if not text:
            return []
        state = self.standin.callbacks.get(str(params.get("callback_query_id")))
        who = self.where(state.query["from"]["id"]) if state else "?"
        kind = "alert" if params.get("show_alert") else "pop-up"
        return _block(f"[bot → {who}, {kind}]", str(text))

    def _stored(self, chat_id: Any, result: Any) -> JSON:
        if isinstance(result, dict) and "message_id" in result:
            with contextlib.suppress(TypeError, ValueError):
                found = self.standin.message(int(chat_id), int(result["message_id"]))
                if found is not None:
                    return found
        return {}


# ---------------------------------------------------------------------- the desk


def _buttons(message: JSON) -> list[JSON]:
    markup = message.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


def find_button(messages: list[JSON], text_part: str, *, where: str) -> tuple[JSON, JSON]:
    """The newest message (as it is now) with a button whose text contains `text_part`."""
    for message in reversed(messages):
        for button in _buttons(message):
            if text_part in button.get("text", "") and "callback_data" in button:
                return message, button
    recent = [b.get("text") for m in messages[-5:] for b in _buttons(m)]
    raise DemoFailure(
        f"no button containing {text_part!r} in {where}; buttons on the last messages: {recent}"
    )


@dataclass
class Desk:
    """The stand-in, the real bot polling it, the clock and the transcript."""

    standin: StandIn
    bot: LocalBot
    clock: ShiftedClock
    transcript: Transcript
    log: _LogWatch
    step: str = "starting the bot"
    errors_seen: int = 0

    @property
    def app(self) -> App:
        assert self.bot.app is not None
        return self.bot.app

    async def settle(self) -> None:
        try:
            await self.bot.settle(_SETTLE_TIMEOUT)
        except (TimeoutError, BotStopped) as exc:
            raise DemoFailure(str(exc)) from exc

    def check_errors(self) -> None:
        new = self.log.errors[self.errors_seen :]
        self.errors_seen = len(self.log.errors)
        if new:
            lines = []
            for record in new:
                lines.append(f"{record.name}: {record.getMessage()}")
                if record.exc_info:
                    lines.append("".join(traceback.format_exception(*record.exc_info)).rstrip())
            raise DemoFailure("the bot logged an error:\n" + "\n".join(lines))

    async def after(self, step: str, *, expect_reaction: bool = True) -> list[Call]:
        """Wait until the bot is done with the user's action, print what it did."""
        await self.settle()
        shown = self.transcript.flush()
        self.check_errors()
        if expect_reaction and not any(call.ok for call in shown):
            raise DemoFailure(f"the bot did not react to: {step}")
        return shown

    def scene(self, title: str, moment: datetime | None = None) -> None:
        if moment is not None and moment > self.clock.now():
            self.clock.advance(moment - self.clock.now())
        now = self.clock.now().astimezone(TZ)
        _out()
        _out(f"=== {title} — {now:%A %d.%m.%Y %H:%M} Tashkent ===")
        _out()

    def texts_to(self, chat_id: int, calls: list[Call]) -> str:
        """Everything the bot sent or showed in this chat in these calls."""
        texts = []
        for call in calls:
            if not call.ok or str(call.params.get("chat_id")) != str(chat_id):
                continue
            result = call.result
            if isinstance(result, dict) and "message_id" in result and "text" not in result:
                result = self.standin.message(chat_id, int(result["message_id"])) or {}
            if isinstance(result, dict):
                texts.append(_content(result))
        return "\n".join(texts)


class Person:
    """A Telegram user of the demo: writes, shares a contact, presses buttons."""

    def __init__(self, desk: Desk, user_id: int, role: str, chat_id: int | None = None) -> None:
        self.desk = desk
        self.id = user_id
        self.name = str(desk.standin.user(user_id)["first_name"])
        self.role = role
        self.chat_id = chat_id if chat_id is not None else user_id  # where they act
        desk.transcript.names.setdefault(user_id, self.name)

    @property
    def place(self) -> str:
        return "bot" if self.chat_id == self.id else self.desk.transcript.where(self.chat_id)

    async def say(
        self, text: str, *, reply_to: JSON | None = None, expect_reaction: bool = True
    ) -> list[Call]:
        step = f"{self.role} {self.name} writes {text!r}"
        self.desk.step = step
        note = f" (reply to message {reply_to['message_id']})" if reply_to else ""
        _out(f"[{self.role} {self.name} → {self.place}{note}] {text}")
        self.desk.standin.send_message(
            self.id,
            None if self.chat_id == self.id else self.chat_id,
            text=text,
            reply_to=reply_to["message_id"] if reply_to else None,
        )
        return await self.desk.after(step, expect_reaction=expect_reaction)

    async def share_contact(self, phone: str) -> list[Call]:
        step = f"{self.role} {self.name} shares the contact +{phone}"
        self.desk.step = step
        _out(f"[{self.role} {self.name} → {self.place}] [shares contact: +{phone}]")
        self.desk.standin.send_message(self.id, contact={"phone_number": phone})
        return await self.desk.after(step)

    async def press(self, text_part: str, *, on: list[JSON] | None = None) -> list[Call]:
        step = f"{self.name} presses the button {text_part!r}"
        self.desk.step = step
        messages = on if on is not None else self.desk.standin.sent(self.chat_id)
        message, button = find_button(messages, text_part, where=self.place)
        _out(f"[{self.name} presses] «{button['text']}»")
        self.desk.standin.press(self.id, message, button["callback_data"])
        return await self.desk.after(step)


def require(condition: bool, what: str) -> None:
    if not condition:
        raise DemoFailure(what)


# ---------------------------------------------------------------------- the story


async def _russian_client(desk: Desk) -> None:
    desk.scene("1. A client writes in Russian, in working time", FRIDAY_EVENING)
    ivan = Person(desk, RU_CLIENT_ID, "client")
    await ivan.say("/start")
    await ivan.say("Иван Петров")
    await ivan.say("ООО «Asia Trade»")
    await ivan.say("12345")  # a wrong INN: too short
    await ivan.say("301 234 567")
    await ivan.press("Консультация")
    await ivan.press("Коды маркировки")
    await ivan.say("Не печатаются коды маркировки на принтере Zebra, ошибка при загрузке кодов.")
    await ivan.press("Готово")
    await ivan.press("В этом чате")
    calls = await ivan.press("Отправить")
    answer = desk.texts_to(ivan.id, calls)
    require(FIRST in answer, f"the client got no message with №1001; the bot sent: {answer!r}")
    card = desk.texts_to(OPERATORS, calls)
    require(FIRST in card, "no card of №1001 was posted in the operator group")


async def _operator(desk: Desk) -> None:
    desk.scene("2. The operator answers request №1001", OPERATOR_MOMENT)
    dilnoza = Person(desk, OPERATOR_ID, "operator", chat_id=OPERATORS)
    ivan = Person(desk, RU_CLIENT_ID, "client")

    def card() -> list[JSON]:
        cards = [m for m in desk.standin.sent(OPERATORS) if FIRST in _content(m) and _buttons(m)]
        require(bool(cards), "no card of №1001 with buttons in the operator group")
        return cards[-1:]

    await dilnoza.press("Взять в работу", on=card())
    text = (
        "Иван, здравствуйте! Обновите, пожалуйста, драйвер принтера до версии 8.2 и "
        "загрузите коды повторно. Если ошибка останется, пришлите снимок экрана."
    )
    calls = await dilnoza.say(text, reply_to=card()[0])
    require(
        "драйвер принтера" in desk.texts_to(ivan.id, calls),
        "the operator's answer did not reach the client",
    )
    await dilnoza.press("Решено", on=card())
    await ivan.press("Да, решён")
    await ivan.press("⭐⭐⭐⭐⭐")
    await ivan.press("Пропустить")


async def _uzbek_client(desk: Desk) -> None:
    desk.scene("3. A client writes in Uzbek, outside working time", AFTER_HOURS)
    aziz = Person(desk, UZ_CLIENT_ID, "client")
    await aziz.say("/start")
    await aziz.say("Aziz Karimov")
    await aziz.say("«Samarqand Non» MChJ")
    await aziz.say("123456789")  # a wrong STIR: starts with 1
    await aziz.say("305 678 901")
    await aziz.press("Maslahat")
    await aziz.press("Markirovka kodlari")
    await aziz.say("Markirovka kodlarini buyurtma qilib bo'lmayapti, tizim xato beryapti.")
    await aziz.press("Tayyor")
    await aziz.press("Telefon orqali")
    await aziz.share_contact("998901234567")
    calls = await aziz.press("Yuborish")
    answer = desk.texts_to(aziz.id, calls)
    require(SECOND in answer, f"the client got no message with №1002; the bot sent: {answer!r}")
    require("10:00" in answer, f"the after-hours promise has no 10:00: {answer!r}")


async def _monday(desk: Desk) -> None:
    desk.scene("4. Monday morning: the managers' digest", MONDAY_DIGEST)
    await desk.after("the digest at 09:00")
    charts = [m for m in desk.standin.sent(MANAGER_ID) if "photo" in m]
    require(bool(charts), "no digest with its chart reached the manager")
    stored = desk.standin.files.get(charts[-1]["photo"][-1]["file_id"])
    require(stored is not None, "the chart's file is not in the stand-in")
    assert stored is not None
    CHART_FILE.write_bytes(stored.content())
    _out(f"[the digest's chart is saved to {CHART_FILE}]")

    desk.scene("5. The operator takes №1002 without answering yet", MONDAY_CLAIM)
    dilnoza = Person(desk, OPERATOR_ID, "operator", chat_id=OPERATORS)
    cards = [m for m in desk.standin.sent(OPERATORS) if SECOND in _content(m) and _buttons(m)]
    require(bool(cards), "no card of №1002 with buttons in the operator group")
    await dilnoza.press("Взять в работу", on=cards[-1:])

    desk.scene("6. 80 % of №1002's first-response time is used: a warning", MONDAY_WARNING)
    calls = await desk.after("the warning")
    warned = desk.texts_to(OPERATORS, calls)
    require(SECOND in warned, f"no warning about №1002 in the group: {warned!r}")

    desk.scene("7. №1002's first-response time has passed: the breach alert", MONDAY_BREACH)
    calls = await desk.after("the breach alert")
    alert = desk.texts_to(OPERATORS, calls)
    require("Dilnoza" in alert, f"the breach alert does not name the assignee: {alert!r}")


SAVED_RU = (
    "{name}, здравствуйте! Спасибо за ожидание. По обращению №\u00a0{number} ({company}) "
    "заказ кодов маркировки снова работает: сбой устранён. Если ошибка повторится, пришлите, "
    "пожалуйста, снимок экрана."
)
SAVED_UZ = (
    "{name}, assalomu alaykum! Kutganingiz uchun rahmat. №\u00a0{number} murojaat ({company}) "
    "boʻyicha markirovka kodlarini buyurtma qilish yana ishlayapti: nosozlik bartaraf etildi. "
    "Xato takrorlansa, iltimos, ekran rasmini yuboring."
)


async def _saved_answer(desk: Desk) -> None:
    desk.scene("8. The operator answers №1002 with a saved answer", MONDAY_SAVED_ANSWER)
    dilnoza = Person(desk, OPERATOR_ID, "operator", chat_id=OPERATORS)
    aziz = Person(desk, UZ_CLIENT_ID, "client")
    # Written in the group outside any request, each text is saved by replying to it.
    await dilnoza.say(SAVED_RU, expect_reaction=False)
    text = desk.standin.history(OPERATORS)[-1]
    await dilnoza.say("/macro add codes", reply_to=text)
    await dilnoza.say(SAVED_UZ, expect_reaction=False)
    text = desk.standin.history(OPERATORS)[-1]
    await dilnoza.say("/macro add codes uz", reply_to=text)
    listed = desk.texts_to(OPERATORS, await dilnoza.say("/macros"))
    require("codes" in listed, f"/macros does not list the saved answer: {listed!r}")
    cards = [
        m
        for m in desk.standin.sent(OPERATORS)
        if "№1002" in _content(m).replace("\u00a0", "") and _buttons(m)
    ]
    require(bool(cards), "no card of №1002 with buttons in the operator group")
    calls = await dilnoza.say("/m codes", reply_to=cards[-1])
    got = desk.texts_to(aziz.id, calls)
    require(
        got.startswith("Aziz Karimov, assalomu alaykum!") and "1002" in got,
        f"the Uzbek client did not get the saved answer in Uzbek: {got!r}",
    )


async def _play(desk: Desk) -> None:
    await _russian_client(desk)
    await _operator(desk)
    await _uzbek_client(desk)
    await _monday(desk)
    await _saved_answer(desk)
    desk.step = "the end"
    unknown = desk.standin.unknown_methods
    require(not unknown, f"the bot called methods the stand-in does not know: {unknown}")


# ---------------------------------------------------------------------- running it


def _world() -> StandIn:
    standin = StandIn()
    standin.add_user(RU_CLIENT_ID, "Иван", last_name="Петров", language_code="ru")
    standin.add_user(UZ_CLIENT_ID, "Aziz", last_name="Karimov", language_code="uz")
    standin.add_user(OPERATOR_ID, "Dilnoza", last_name="Operator", language_code="ru")
    standin.add_user(MANAGER_ID, "Malika", last_name="Manager", language_code="ru")
    standin.add_group(OPERATORS, "CRPT-Turon operators", members=[OPERATOR_ID])
    return standin


async def _start(standin: StandIn, tmp: Path, log: _LogWatch) -> Desk:
    await standin.start()
    clock = ShiftedClock(FRIDAY_EVENING)
    bot = LocalBot(
        standin,
        database_url=f"sqlite+aiosqlite:///{tmp / 'desk.db'}",
        clock=clock,
        operator_chat_id=OPERATORS,
        manager_ids=str(MANAGER_ID),
    )
    desk = Desk(standin, bot, clock, Transcript(standin), log)
    await bot.start()
    await desk.after("start", expect_reaction=False)
    return desk


async def _stop(desk: Desk | None, standin: StandIn) -> str | None:
    """Stop the bot and the stand-in; returns what went wrong, if anything."""
    problem = None
    if desk is not None:
        try:
            await desk.bot.stop()
        except Exception as exc:
            problem = f"stopping the bot failed: {exc!r}"
    await standin.stop()
    return problem


def _report(exc: BaseException, desk: Desk | None, standin: StandIn) -> None:
    err = sys.stderr
    print(file=err)
    print(f"DEMO FAILED during: {desk.step if desk else 'starting the bot'}", file=err)
    print(f"{type(exc).__name__}: {exc}", file=err)
    if not isinstance(exc, DemoFailure):
        print("".join(traceback.format_exception(exc)).rstrip(), file=err)
    calls = [c for c in standin.calls if not (c.method == "getUpdates" and c.ok and not c.result)]
    print("last Bot API calls (without empty getUpdates):", file=err)
    for call in calls[-10:]:
        print(f"  {call}", file=err)
    if not calls:
        print("  (none)", file=err)
    print(f"updates not yet fetched by the bot: {len(standin.pending_updates())}", file=err)
    err.flush()


async def run_demo() -> int:
    """Play the story; 0 when every step went as the story needs, 1 otherwise."""
    log = _LogWatch()
    root = logging.getLogger()
    root.addHandler(log)
    standin = _world()
    desk: Desk | None = None
    ok = True
    try:
        with tempfile.TemporaryDirectory(prefix="crpt-desk-demo-") as tmp:
            try:
                desk = await _start(standin, Path(tmp), log)
                _out(
                    "CRPT-Turon support desk — demo: the real bot against a local Bot API stand-in"
                )
                await _play(desk)
            except Exception as exc:
                sys.stdout.flush()
                if desk is not None:
                    with contextlib.suppress(Exception):
                        desk.transcript.flush()
                _report(exc, desk, standin)
                ok = False
            finally:
                problem = await _stop(desk, standin)
                if problem is not None:
                    print(f"stopping the demo: {problem}", file=sys.stderr)
                    ok = False
    finally:
        root.removeHandler(log)
    if ok:
        _out()
        _out(
            "Demo finished: requests №1001 and №1002 registered, №1001 answered and rated, "
            "the morning digest sent, №1002 warned of and alerted as overdue, then answered "
            "with a saved answer in Uzbek."
        )
    return 0 if ok else 1
