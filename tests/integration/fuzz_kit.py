"""The desk under fuzzed input: the real bot, built by the production factory, fed generated
updates as polling takes them (stored in the durable inbox, then handled from it by the real
dispatcher), its Bot API calls answered by the stand-in in the same process (standin.inprocess:
the same checks as over HTTP, without a socket).

A story is a list of steps, each an abstract thing someone does (a client writes, presses a
button of a keyboard, forges a button, blocks the bot; an operator or an outsider writes,
edits or presses in the group; a channel posts; Telegram fails a call ...). A step is made
concrete against the world as it is when it is played, so that hypothesis can shrink a story
without breaking it.

After every step `FuzzDesk.check` holds the desk to its promises:
- nothing failed: no error logged, every update taken in handled, no Bot API call the stand-in
  refused as malformed (a 400 other than "message is not modified"), no 403 but to a client
  who blocked the bot;
- an answer where one is owed, in the client's language: a client's message gets a reply (or
  reaches the operators with their open request), every button press is answered, an
  operator's command is answered in the group;
- nothing corrupted: every stored row loads (statuses and priorities are of the vocabulary),
  every request has its targets, its first message and its audit log, no stored text exceeds
  its column or carries U+0000 (PostgreSQL refuses both), a client's dialogue is one the
  client can finish (a state of the dialogue, a draft that loads, no request step without a
  profile), no invisible name or company, and whoever is not an operator changed nothing.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import unicodedata
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiogram.fsm.storage.base import DefaultKeyBuilder, StorageKey
from aiogram.types import Update
from babel.messages.pofile import read_po
from sqlalchemy import String, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import speech
from bot.clock import ShiftedClock
from bot.factory import App, build_app
from bot.i18n import BABEL_LOCALES, LANGUAGES, LOCALES_DIR
from bot.services.drafts import Part, RequestDraft
from bot.services.registration import register_request
from bot.services.tickets import TicketService
from bot.settings import load_settings
from bot.vocabulary import OPEN_STATUSES, InboxStatus, Kind, OutboxStatus, Priority, Status
from handlers.client.states import Identify, NewRequest, ProfileEdit
from handlers.client.tickets import Rating
from scheduler.pacing import Limits
from standin import TIMEOUT, StandIn
from standin.errors import default_description
from standin.files import media_content
from standin.formatting import utf16_len
from standin.inprocess import InProcessSession
from standin.objects import Chat, Member
from storage.fsm import SqlAlchemyStorage
from storage.models import (
    Base,
    Client,
    Counter,
    FsmRecord,
    InboxUpdate,
    MetaValue,
    OutboxItem,
    Ticket,
    TicketEvent,
    TicketMessage,
)

TZ = ZoneInfo("Asia/Tashkent")
# Monday 23 November 2026, 11:00 in Tashkent: working time.
WORKING_MOMENT = datetime(2026, 11, 23, 11, 0, tzinfo=TZ)

OPERATORS = -1001000000001
OTHER_GROUP = -1002000000002  # a group the bot was added to that is not the desk
CHANNEL = -1003000000003
OPERATOR = 9001
COLLEAGUE = 9002
OUTSIDER = 6666  # in the group's chat history, but not (any more) a member

NEWBIE = 700_001  # never wrote before; their Telegram language varies by story
REGULAR = 700_002  # identified, with an open request (№1001)
UZBEK = 700_003  # identified, writes in Uzbek, describing a new request
NEIGHBOUR = 700_004  # identified, with an open request (№1002): someone else's to forge
CLIENTS = (NEWBIE, REGULAR, UZBEK, NEIGHBOUR)

JSON = dict[str, Any]


# ---------------------------------------------------------------- what is said and done


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Media:
    """A file message: photo, document, voice, video, audio, animation, video_note, sticker."""

    kind: str
    caption: str | None = None
    file_name: str | None = None
    album: str | None = None


@dataclass(frozen=True)
class Thing:
    """What is neither text nor a file: contact, location, venue, poll, dice."""

    kind: str
    value: str = ""


Content = Text | Media | Thing


@dataclass(frozen=True)
class Say:
    """A client writes in their private chat with the bot."""

    who: int
    content: Content


@dataclass(frozen=True)
class Edit:
    """A client edits their newest message (an operator or outsider: theirs in the group)."""

    who: int
    text: str


@dataclass(frozen=True)
class Press:
    """A client presses a button of a keyboard the bot showed them: the newest (age 0), or an
    older one, stale by now."""

    who: int
    index: int
    age: int = 0


@dataclass(frozen=True)
class Forge:
    """A client sends callback data of their own making, on the bot's newest message."""

    who: int
    data: str


@dataclass(frozen=True)
class Block:
    who: int
    blocked: bool


@dataclass(frozen=True)
class DeskSay:
    """Someone writes in the operator group, in reply to a request's card or not."""

    who: int
    content: Content
    on_card: int | None = None  # the request's number


@dataclass(frozen=True)
class DeskPress:
    """Someone presses a button of a request's card in the operator group."""

    who: int
    number: int
    index: int


@dataclass(frozen=True)
class DeskForge:
    who: int
    data: str


@dataclass(frozen=True)
class Elsewhere:
    """Something in a chat that is neither a client's nor the desk's."""

    kind: str  # group_message, group_command, channel_post, edited_channel_post, bot_added,
    # bot_removed, desk_bot_demoted
    text: str = ""


@dataclass(frozen=True)
class Outage:
    """Telegram fails the next call of a method: an error status, or no answer at all
    (standin.TIMEOUT). What the bot could not say at once it says later, through the outbox."""

    method: str
    status: int


Step = Say | Edit | Press | Forge | Block | DeskSay | DeskPress | DeskForge | Elsewhere | Outage

INJECTED = "(injected)"


# ---------------------------------------------------------------- what went wrong


class Problems(logging.Handler):
    """Error records (and a handler's failure) logged while a step is played."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR and not _expected(record):
            self.records.append(record)

    def take(self) -> list[str]:
        found = [_describe(r) for r in self.records]
        self.records.clear()
        return found


def _expected(record: logging.LogRecord) -> bool:
    # A reply to a client who blocked the bot becomes a dead letter: that is the rule, and the
    # reachability service takes it from there.
    message = record.getMessage()
    return "dead letter" in message and "Forbidden" in message


def _describe(record: logging.LogRecord) -> str:
    text = f"{record.name}: {record.getMessage()}"
    if record.exc_info and record.exc_info[1] is not None:
        exc = record.exc_info[1]
        text += f" [{type(exc).__name__}: {exc}]"
    return text


@contextlib.contextmanager
def watching_logs() -> Iterator[Problems]:
    problems = Problems()
    root = logging.getLogger()
    root.addHandler(problems)
    try:
        yield problems
    finally:
        root.removeHandler(problems)


# ---------------------------------------------------------------- the languages of replies


def _signatures() -> dict[str, set[str]]:
    """For each language, the openings of its texts (before any placeholder) that the other
    language's texts do not share: a reply starting with one is in that language."""
    openings: dict[str, set[str]] = {}
    for lang in LANGUAGES:
        po = LOCALES_DIR / lang / "LC_MESSAGES" / "messages.po"
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=BABEL_LOCALES[lang])
        found: set[str] = set()
        for message in catalog:
            if not message.id or not message.string:
                continue
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            for text in strings:
                opening = _opening(text)
                if opening is not None:
                    found.add(opening)
        openings[lang] = found
    ru, uz = openings["ru"], openings["uz"]
    return {"ru": ru - uz, "uz": uz - ru}


def _opening(text: str) -> str | None:
    head = text.split("{", 1)[0].split("<", 1)[0].split("%", 1)[0].strip()
    letters = sum(ch.isalpha() for ch in head)
    return head[:24] if letters >= 6 else None


SIGNATURES = _signatures()


def language_of(text: str) -> str | None:
    for lang, openings in SIGNATURES.items():
        if any(text.startswith(o) for o in openings):
            return lang
    return None


# ---------------------------------------------------------------- invisible text

# Letters that show nothing: Hangul fillers, the Khmer inherent vowels, the braille blank.
BLANK_LETTERS = frozenset("\u3164\u115f\u1160\uffa0\u17b4\u17b5\u2800")


def visible_letters(text: str) -> int:
    return sum(
        1
        for ch in text
        if unicodedata.category(ch)[0] == "L" and ch not in BLANK_LETTERS and not ch.isspace()
    )


# ---------------------------------------------------------------- the desk


@dataclass(frozen=True)
class Footprint:
    """What a request's history holds: nothing of it may change at an outsider's word."""

    events: int
    messages: int
    versions: tuple[tuple[int, int], ...]


@dataclass
class Mark:
    """What the world and the database held before a step."""

    sent: dict[int, int]
    calls: int
    footprint: Footprint | None  # before an outsider's step


class FuzzDesk:
    """One bot for many stories: `reset` empties the database and the world between them."""

    def __init__(self, app: App, clock: ShiftedClock) -> None:
        self.app = app
        self.clock = clock
        self.token = app.bot.token
        inner = getattr(app.dispatcher.storage, "inner", None)
        self.redis_prefix = f"fuzz-{uuid.uuid4().hex[:10]}"
        if inner is not None and hasattr(inner, "key_builder"):
            # Keys of its own in a Redis that other tests share (production's have no bot id).
            inner.key_builder = DefaultKeyBuilder(prefix=self.redis_prefix)
        self.standin = StandIn(token=self.token)
        self.session = InProcessSession(self.standin)
        app.bot.session = self.session
        speech.install(app.bot)
        self.offset = 0
        self.stories = self.updates = 0  # how much was fed, for the record
        self._snapshot: tuple[dict[str, list[JSON]], JSON] | None = None
        self.last_callback: str | None = None
        self.albums: set[str] = set()
        self.newbie_language: str | None = "ru"

    @classmethod
    @contextlib.asynccontextmanager
    async def running(cls, database_url: str, **settings: Any) -> AsyncIterator[FuzzDesk]:
        clock = ShiftedClock(WORKING_MOMENT)
        config = load_settings(
            _env_file=None,
            bot_token=StandIn().token,
            telegram_api_url="http://stand-in.invalid",
            database_url=database_url,
            operator_chat_id=OPERATORS,
            **settings,
        )
        app = await build_app(config, clock=clock, limits=Limits.unlimited())
        desk = cls(app, clock)
        try:
            yield desk
        finally:
            await desk._empty_fsm()  # nothing of it left in a shared Redis
            await app.close()

    # ---- a fresh desk

    async def reset(self, newbie_language: str | None = "ru") -> None:
        """The desk as `_seed` leaves it: built once, then put back from a copy (the rows of
        every table, the stand-in's world) before each story."""
        self.stories += 1
        self.offset = 0
        self.albums = set()
        self.last_callback = None
        self.app.dispatcher.workflow_data["access"]._cache.clear()
        self.clock.advance(WORKING_MOMENT - self.clock.now())  # every story at the same moment
        await self._empty_fsm()
        if self._snapshot is None:
            await self._empty_database()
            self.standin = StandIn(token=self.token)
            self.session.standin = self.standin
            self._build_world()
            self.standin.allowed_updates = self.app.dispatcher.resolve_used_update_types()
            await self._seed()
            self._snapshot = await self._take_snapshot()
            assert await self._card(1001) and await self._card(1002), "the seeded cards are posted"
        else:
            await self._restore(self._snapshot)
        await self._uzbek_mid_request()
        user = self.standin.users[NEWBIE]
        user.pop("language_code", None)
        if newbie_language is not None:
            user["language_code"] = newbie_language

    async def _take_snapshot(self) -> tuple[dict[str, list[JSON]], JSON]:
        rows = {}
        async with self.app.sessions() as session:
            for table in Base.metadata.sorted_tables:
                result = await session.execute(select(table))
                rows[table.name] = [dict(r) for r in result.mappings().all()]
        world = copy.deepcopy({name: getattr(self.standin, name) for name in WORLD})
        return rows, world

    async def _restore(self, snapshot: tuple[dict[str, list[JSON]], JSON]) -> None:
        rows, world = snapshot
        async with self.app.sessions() as session:
            tables = Base.metadata.sorted_tables
            for table in reversed(tables):
                await session.execute(delete(table))
            for table in tables:
                if rows[table.name]:
                    await session.execute(insert(table), rows[table.name])
            await session.commit()
        self.standin = StandIn(token=self.token)
        self.session.standin = self.standin
        for name, value in copy.deepcopy(world).items():
            setattr(self.standin, name, value)

    async def _empty_database(self) -> None:
        keep = {MetaValue.__tablename__, "alembic_version"}
        async with self.app.sessions() as session:
            for table in reversed(Base.metadata.sorted_tables):
                if table.name not in keep:
                    await session.execute(delete(table))
            session.add(Counter(name="ticket_number", value=1000))  # as the migrations leave it
            await session.commit()

    async def _empty_fsm(self) -> None:
        """Dialogues kept outside the database (Redis) are under this desk's own prefix."""
        inner = getattr(self.app.dispatcher.storage, "inner", None)
        redis = getattr(inner, "redis", None)
        if redis is not None:
            keys = [key async for key in redis.scan_iter(match=f"{self.redis_prefix}:*")]
            if keys:
                await redis.delete(*keys)

    def _build_world(self) -> None:
        s = self.standin
        s.add_user(OPERATOR, "Dilnoza", last_name="Operator")
        s.add_user(COLLEAGUE, "Sardor", last_name="Operator")
        s.add_user(OUTSIDER, "Stranger")
        s.add_user(NEWBIE, "Newbie")
        s.add_user(REGULAR, "Иван", last_name="Петров", language_code="ru")
        s.add_user(UZBEK, "Aziza", language_code="uz")
        s.add_user(NEIGHBOUR, "Bobur", language_code="ru")
        s.add_group(OPERATORS, "CRPT-Turon operators", members=[OPERATOR, COLLEAGUE])
        s.chat(OPERATORS).members[OUTSIDER] = Member("left")
        s.add_group(OTHER_GROUP, "Someone else's group", members=[OUTSIDER])
        s.chats[CHANNEL] = Chat(id=CHANNEL, type="channel", title="A channel")

    async def _seed(self) -> None:
        """Three identified clients; two open requests (№1001, №1002) with their cards in the
        group; the Uzbek client halfway through describing a new one."""
        now = self.clock.now()
        async with self.app.sessions() as session:
            for telegram_id, lang, name in (
                (REGULAR, "ru", "Иван Петров"),
                (UZBEK, "uz", "Aziza Karimova"),
                (NEIGHBOUR, "ru", "Bobur Aliev"),
            ):
                session.add(
                    Client(
                        telegram_id=telegram_id,
                        language=lang,
                        telegram_name=name,
                        name=name,
                        company="OOO Asia Trade",
                        tax_id="301234567",
                        tax_id_kind="legal_entity",
                        banned=False,
                        blocked_bot=False,
                        created_at=now,
                        updated_at=now,
                    )
                )
            await session.flush()
            tickets = TicketService(session, self.app.desk, now)
            for telegram_id in (REGULAR, NEIGHBOUR):
                client = await session.scalar(
                    select(Client).where(Client.telegram_id == telegram_id)
                )
                assert client is not None
                stored = self.standin.send_message(telegram_id, text="Коды не печатаются")
                draft = RequestDraft(
                    kind=Kind.CONSULTATION,
                    topic="marking_codes",
                    parts=[Part(telegram_id, stored["message_id"], "text", stored["text"])],
                    feedback="telegram",
                )
                await register_request(tickets, client, draft)
            await session.commit()
        self.standin.drop_pending_updates()
        await self.app.worker.drain()
        self.standin.calls.clear()

    async def _uzbek_mid_request(self) -> None:
        key = self.key(UZBEK)
        storage = self.app.dispatcher.storage
        await storage.set_state(key, NewRequest.description)
        await storage.set_data(
            key,
            {"draft": RequestDraft(kind=Kind.ACTION, topic="catalog").to_data()},
        )

    def key(self, telegram_id: int) -> StorageKey:
        return StorageKey(bot_id=self.app.bot.id, chat_id=telegram_id, user_id=telegram_id)

    # ---- playing a step

    async def play(self, step: Step) -> Mark:
        mark = await self._mark(step)
        self.last_callback = None
        await self._act(step)
        await self.feed()
        await self.app.worker.drain()
        # People take a moment between steps: an album stops waiting for its other parts, and
        # what Telegram refused a moment ago (flood control, a server error) is tried again.
        for _ in range(4):
            due = await self._next_due()
            if due is None or due - self.clock.now() > PAUSE * 4:
                break
            self.clock.advance(max(due - self.clock.now(), timedelta(0)) + PAUSE / 4)
            await self.app.worker.drain()
        return mark

    async def _next_due(self) -> datetime | None:
        """When the outbox's next pending item may go."""
        async with self.app.sessions() as session:
            return await session.scalar(
                select(func.min(OutboxItem.not_before)).where(
                    OutboxItem.status == OutboxStatus.PENDING
                )
            )

    async def _act(self, step: Step) -> None:
        s = self.standin
        if isinstance(step, Say):
            chat = s.chat(step.who)
            s._opens_chat(chat)
            self._post(chat, step.who, step.content)
        elif isinstance(step, Edit):
            chat_id = step.who if step.who in CLIENTS else OPERATORS
            mine = [m for m in s.history(chat_id) if (m.get("from") or {}).get("id") == step.who]
            editable = [m for m in mine if "text" in m or "caption" in m]
            if editable:
                s.edit_message(step.who, chat_id, editable[-1]["message_id"], step.text)
        elif isinstance(step, Press):
            self._press(step.who, step.who, step.index, step.age)
        elif isinstance(step, Forge):
            self._forge(step.who, step.who, step.data)
        elif isinstance(step, Block):
            s.block_bot(step.who, step.blocked)
        elif isinstance(step, DeskSay):
            reply = await self._card(step.on_card) if step.on_card is not None else None
            self._post(s.chat(OPERATORS), step.who, step.content, reply=reply)
        elif isinstance(step, DeskPress):
            card = await self._card(step.number)
            if card is not None:
                buttons = _callback_data(card.get("reply_markup"))
                if buttons:
                    data = buttons[step.index % len(buttons)]
                    self._callback(step.who, OPERATORS, card["message_id"], data)
        elif isinstance(step, DeskForge):
            self._forge(step.who, OPERATORS, step.data)
        elif isinstance(step, Outage):
            description = f"{default_description(step.status, 1)} {INJECTED}"
            s.fail(step.method, status=step.status, retry_after=1, description=description)
        else:
            self._elsewhere(step)

    def _post(self, chat: Chat, who: int, content: Content, reply: JSON | None = None) -> None:
        s = self.standin
        stored = s.post(
            chat,
            self._content(content),
            sender=s.user(who),
            origin="user",
            reply=chat.find(reply["message_id"]) if reply is not None else None,
        )
        s._enqueue("message", stored.message)

    def _content(self, content: Content) -> JSON:
        files = self.standin.files
        if isinstance(content, Text):
            body: JSON = {"text": content.text}
            if content.text.startswith("/"):
                word = content.text.split(maxsplit=1)[0] if content.text.strip() else "/"
                body["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(word)}]
            return body
        if isinstance(content, Media):
            if content.kind == "photo":
                stored = files.new_photo(size=48_000)
            else:
                stored = [files.new(content.kind, size=2_000, file_name=content.file_name)]
            body = media_content(content.kind, stored)
            if content.caption is not None and content.kind not in ("sticker", "video_note"):
                body["caption"] = content.caption
            if content.album is not None and content.kind in ("photo", "video", "document"):
                body["media_group_id"] = content.album
            return body
        if content.kind == "contact":
            return {
                "contact": {"phone_number": content.value or "+998901234567", "first_name": "A"}
            }
        if content.kind == "location":
            return {"location": {"latitude": 41.3, "longitude": 69.2}}
        if content.kind == "venue":
            return {
                "venue": {
                    "location": {"latitude": 41.3, "longitude": 69.2},
                    "title": content.value or "Office",
                    "address": "Tashkent",
                }
            }
        if content.kind == "poll":
            return {
                "poll": {
                    "id": "1",
                    "question": content.value or "?",
                    "options": [
                        {"text": "a", "voter_count": 0, "persistent_id": "a"},
                        {"text": "b", "voter_count": 0, "persistent_id": "b"},
                    ],
                    "allows_revoting": False,
                    "members_only": False,
                    "total_voter_count": 0,
                    "is_closed": False,
                    "is_anonymous": True,
                    "type": "regular",
                    "allows_multiple_answers": False,
                }
            }
        return {"dice": {"emoji": "🎲", "value": 3}}

    def _press(self, who: int, chat_id: int, index: int, age: int = 0) -> None:
        keyboards = [
            (message, buttons)
            for message in reversed(self.standin.sent(chat_id))
            if (buttons := _callback_data(message.get("reply_markup")))
        ]
        if keyboards:
            message, buttons = keyboards[min(age, len(keyboards) - 1)]
            self._callback(who, chat_id, message["message_id"], buttons[index % len(buttons)])

    def _forge(self, who: int, chat_id: int, data: str) -> None:
        sent = self.standin.sent(chat_id)
        if sent:
            self._callback(who, chat_id, sent[-1]["message_id"], data)

    def _callback(self, who: int, chat_id: int, message_id: int, data: str) -> None:
        self.last_callback = self.standin.press_raw(who, chat_id, message_id, data)

    async def _card(self, number: int) -> JSON | None:
        """The request's card in the group as it is now (the database knows which it is)."""
        async with self.app.sessions() as session:
            message_id = await session.scalar(
                select(Ticket.card_message_id).where(Ticket.number == number)
            )
        return self.standin.message(OPERATORS, message_id) if message_id is not None else None

    def _elsewhere(self, step: Elsewhere) -> None:
        s = self.standin
        if step.kind in ("group_message", "group_command"):
            text = step.text if step.kind == "group_message" else f"/{step.text or 'start'}"
            self._post(s.chat(OTHER_GROUP), OUTSIDER, Text(text))
        elif step.kind in ("channel_post", "edited_channel_post"):
            channel = s.chat(CHANNEL)
            message = {
                "message_id": channel.take_message_id(),
                "sender_chat": channel.obj(),
                "chat": channel.obj(),
                "date": 1_790_000_000,
                "text": step.text or "·",
            }
            if step.kind == "edited_channel_post":
                message["edit_date"] = 1_790_000_100
            s._enqueue(step.kind, message)
        elif step.kind == "bot_added":
            s.set_member_status(OTHER_GROUP, s.bot_id, "member")
        elif step.kind == "bot_removed":
            s.set_member_status(OTHER_GROUP, s.bot_id, "left")
        elif step.kind == "desk_bot_demoted":
            s.set_member_status(OPERATORS, s.bot_id, "member")

    async def feed(self) -> None:
        """Hand every queued update to the bot as polling does: stored in the inbox, then
        handled from it by the real dispatcher (per chat in order)."""
        bot, inbox = self.app.bot, self.app.inbox
        while True:
            batch = self.standin.take_updates(self.offset or None, 100)
            if not batch:
                return
            self.offset = batch[-1]["update_id"] + 1
            self.updates += len(batch)
            await inbox.receive([Update.model_validate(u, context={"bot": bot}) for u in batch])
            assert await inbox.wait_idle(30), "the inbox did not handle the updates in 30 s"

    # ---- the checks

    async def _mark(self, step: Step) -> Mark:
        footprint = None
        if _outsider(step):
            async with self.app.sessions() as session:
                footprint = await _footprint(session)
        return Mark(
            sent={chat: len(self.standin.sent(chat)) for chat in (*CLIENTS, OPERATORS)},
            calls=len(self.standin.calls),
            footprint=footprint,
        )

    async def check(self, step: Step, mark: Mark, problems: Problems) -> None:
        """After a step: what went wrong, what was owed and not given, what is not sound."""
        found = problems.take()
        found += self._refused_calls(mark)
        found += self._answered(step, mark)
        async with self.app.sessions() as session:
            clients = {c.telegram_id: c for c in (await session.scalars(select(Client))).all()}
            if isinstance(step, Say | Edit | Press | Forge):
                found += self._replies_in_language(step, mark, clients.get(step.who))
            found += await self._dialogues_sound(session, clients)
            if isinstance(step, Block) and step.who in clients:
                found += await _reachability(session, clients[step.who], step.blocked)
            if mark.footprint is not None and await _footprint(session) != mark.footprint:
                found.append("someone who is not an operator changed a request")
            found += await _inbox_handled(session)
        assert not found, f"after {step!r}:\n  " + "\n  ".join(found)

    async def check_story(self) -> None:
        """At the end of a story: every request whole, every stored text fits its column."""
        async with self.app.sessions() as session:
            found = await _requests_whole(session) + await _rows_fit(session)
        assert not found, "after the story:\n  " + "\n  ".join(found)

    def _refused_calls(self, mark: Mark) -> list[str]:
        found = []
        for call in self.standin.calls[mark.calls :]:
            if call.ok:
                continue
            description = call.description or ""
            chat_id = call.params.get("chat_id")
            chat = self.standin.chats.get(chat_id) if isinstance(chat_id, int) else None
            if call.status == 400 and "message is not modified" in description:
                continue
            if INJECTED in description or call.status == TIMEOUT:
                continue
            if call.status == 403 and chat is not None and chat.private and chat.blocked:
                continue
            found.append(f"the stand-in refused {call}")
        return found

    def _answered(self, step: Step, mark: Mark) -> list[str]:
        found: list[str] = []
        if self.last_callback is not None and not self._tried_to_answer(self.last_callback, mark):
            found.append(f"the button press {self.last_callback} was never answered")
        if isinstance(step, Say) and not self.standin.chat(step.who).blocked:
            replies = len(self.standin.sent(step.who)) > mark.sent[step.who]
            to_desk = len(self.standin.sent(OPERATORS)) > mark.sent[OPERATORS]
            if not (replies or to_desk or self._album_goes_on(step.content)):
                found.append(f"client {step.who} got no answer")
        if (
            isinstance(step, DeskSay)
            and step.who in (OPERATOR, COLLEAGUE)
            and isinstance(step.content, Text)
            and _operator_command(step.content.text)
            and len(self.standin.sent(OPERATORS)) == mark.sent[OPERATORS]
        ):
            found.append("the operator's command got no answer in the group")
        return found

    def _tried_to_answer(self, callback_id: str, mark: Mark) -> bool:
        """A pop-up was shown, or tried (Telegram may fail it; the press then times out)."""
        return any(
            call.method.lower() == "answercallbackquery"
            and call.params.get("callback_query_id") == callback_id
            for call in self.standin.calls[mark.calls :]
        )

    def _album_goes_on(self, content: Content) -> bool:
        """A further message of an album the client is sending is answered once, for all."""
        if not isinstance(content, Media) or content.album is None:
            return False
        seen = content.album in self.albums
        self.albums.add(content.album)
        return seen

    def _replies_in_language(
        self, step: Say | Edit | Press | Forge, mark: Mark, client: Client | None
    ) -> list[str]:
        """What the bot said to the client (messages, pop-ups) is in the client's language."""
        if client is None:
            return [f"client {step.who} was not stored"] if isinstance(step, Say) else []
        said = [m.get("text") or m.get("caption") or "" for m in self.standin.sent(step.who)]
        said = said[mark.sent[step.who] :]
        if self.last_callback is not None:
            said += [a.get("text") or "" for a in self.standin.callback_answers(self.last_callback)]
        found = []
        for text in said:
            lang = language_of(text)
            if lang is not None and lang != client.language:
                found.append(f"a reply in {lang} to a client who reads {client.language}: {text!r}")
        return found

    async def _dialogues_sound(
        self, session: AsyncSession, clients: dict[int, Client]
    ) -> list[str]:
        found = []
        for client in clients.values():
            for value, what in ((client.name, "name"), (client.company, "company")):
                if value is not None and visible_letters(value) < 2:
                    found.append(f"client {client.telegram_id} has an invisible {what}")
        storage = self.app.dispatcher.storage
        if isinstance(storage, SqlAlchemyStorage):  # read in this session: one query for all
            records = (await session.scalars(select(FsmRecord))).all()
            dialogues = {r.key: (r.state, dict(r.data or {})) for r in records}
        else:
            dialogues = {}
            for telegram_id in clients:
                key = self.key(telegram_id)
                state, data = await storage.get_state(key), await storage.get_data(key)
                dialogues[str(telegram_id)] = (state, data)
        for telegram_id, client in clients.items():
            state, data = _dialogue_of(dialogues, telegram_id)
            found += _dialogue_sound(client, state, data)
        return found


def _dialogue_of(
    dialogues: dict[str, tuple[str | None, JSON]], telegram_id: int
) -> tuple[str | None, JSON]:
    """A client's dialogue, by the key aiogram builds for their private chat."""
    for key, value in dialogues.items():
        parts = key.split(":")
        if key == str(telegram_id) or (len(parts) >= 3 and parts[-2:] == [str(telegram_id)] * 2):
            return value
        if len(parts) >= 4 and parts[-3:-1] == [str(telegram_id)] * 2:  # with the destiny
            return value
    return None, {}


def _dialogue_sound(client: Client, state: str | None, data: JSON) -> list[str]:
    who = f"client {client.telegram_id}"
    if state is not None and state not in KNOWN_STATES:
        return [f"{who} is in an unknown dialogue state {state!r}"]
    try:
        RequestDraft.from_data(data.get("draft"))
    except (TypeError, ValueError, AttributeError) as exc:
        return [f"{who} has a draft that does not load: {exc!r}"]
    needs: dict[str | None, tuple[str, ...]] = {
        Identify.company.state: ("name",),
        Identify.tax_id.state: ("name", "company"),
    }
    if state is not None and state.startswith("NewRequest:"):
        needs[state] = ("name", "company", "tax_id")
    missing = [f for f in needs.get(state, ()) if not getattr(client, f)]
    if missing:
        return [f"{who} is at {state} without {', '.join(missing)}"]
    return []


PAUSE = timedelta(seconds=2)

# What the stand-in's world is made of (copied whole between stories).
WORLD = (
    "files",
    "users",
    "chats",
    "callbacks",
    "commands",
    "settings",
    "allowed_updates",
    "_updates",
    "_next_update_id",
    "_fetched_upto",
    "_counter",
)

KNOWN_STATES = frozenset(
    s.state for group in (Identify, NewRequest, ProfileEdit, Rating) for s in group.__all_states__
)


def _callback_data(markup: JSON | None) -> list[str]:
    rows = (markup or {}).get("inline_keyboard") or []
    return [b["callback_data"] for row in rows for b in row if "callback_data" in b]


OPERATOR_COMMANDS = frozenset(
    {
        "queue",
        "mine",
        "t",
        "claim",
        "priority",
        "wait",
        "resolve",
        "reopen",
        "release",
        "assign",
        "ban",
        "unban",
    }
)


def _operator_command(text: str) -> bool:
    if not text.startswith("/"):
        return False
    word = text[1:].split(maxsplit=1)[0] if len(text) > 1 and not text[1].isspace() else ""
    return word.split("@", 1)[0].lower() in OPERATOR_COMMANDS


def _outsider(step: Step) -> bool:
    if isinstance(step, DeskSay | DeskPress | DeskForge | Edit):
        return step.who == OUTSIDER
    return isinstance(step, Elsewhere)


async def _inbox_handled(session: AsyncSession) -> list[str]:
    """Every update taken in was handled (its effects committed with the mark)."""
    rows = await session.execute(
        select(InboxUpdate.update_id, InboxUpdate.status, InboxUpdate.last_error).where(
            InboxUpdate.status != InboxStatus.HANDLED
        )
    )
    return [f"update {i} is {status} in the inbox: {error}" for i, status, error in rows.all()]


async def _count(session: AsyncSession, model: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _client(session: AsyncSession, telegram_id: int) -> Client | None:
    return await session.scalar(select(Client).where(Client.telegram_id == telegram_id))


async def _rows_fit(session: AsyncSession) -> list[str]:
    """Every stored text fits its column and carries no U+0000 (as PostgreSQL demands)."""
    found = []
    for table in Base.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, String)]
        if not columns:
            continue
        for row in (await session.execute(select(*columns))).all():
            for column, value in zip(columns, row, strict=True):
                if not isinstance(value, str):
                    continue
                length = getattr(column.type, "length", None)
                if length is not None and len(value) > length:
                    found.append(f"{table.name}.{column.name} holds {len(value)} > {length}")
                if "\x00" in value:
                    found.append(f"{table.name}.{column.name} holds U+0000")
    return found


async def _requests_whole(session: AsyncSession) -> list[str]:
    found = []
    tickets = (await session.scalars(select(Ticket))).all()  # statuses load: of the vocabulary
    messages = await _per_ticket(session, TicketMessage)
    events = await _per_ticket(session, TicketEvent)
    for ticket in tickets:
        where = f"request №{ticket.number}"
        if ticket.status not in set(Status) or ticket.priority not in set(Priority):
            found.append(f"{where} has status {ticket.status!r}, priority {ticket.priority!r}")
        if sorted(t.kind for t in ticket.targets) != ["first_response", "resolution"]:
            found.append(f"{where} has targets {[t.kind for t in ticket.targets]}")
        if not messages.get(ticket.id) or not events.get(ticket.id):
            found.append(
                f"{where} has {messages.get(ticket.id)} messages, {events.get(ticket.id)} events"
            )
    return found


async def _per_ticket(session: AsyncSession, model: Any) -> dict[int, int]:
    rows = await session.execute(select(model.ticket_id, func.count()).group_by(model.ticket_id))
    return {int(ticket_id): int(n) for ticket_id, n in rows.all()}


async def _footprint(session: AsyncSession) -> Footprint:
    versions = (await session.execute(select(Ticket.id, Ticket.version).order_by(Ticket.id))).all()
    return Footprint(
        events=await _count(session, TicketEvent),
        messages=await _count(session, TicketMessage),
        versions=tuple((int(i), int(v)) for i, v in versions),
    )


async def _reachability(session: AsyncSession, client: Client, blocked: bool) -> list[str]:
    found = []
    if client.blocked_bot != blocked:
        found.append(f"client {client.telegram_id}: blocked_bot={client.blocked_bot}")
    if blocked:
        open_ones = (
            await session.scalars(
                select(Ticket).where(
                    Ticket.client_id == client.id, Ticket.status.in_(list(OPEN_STATUSES))
                )
            )
        ).all()
        for ticket in open_ones:
            if not ticket.client_unreachable:
                found.append(f"request №{ticket.number} is not marked unreachable")
    return found
