"""The in-memory world: users, chats and their members, forum topics, messages with a per-chat
message_id, callback queries, the bot's settings and the queue of updates for the bot.

This layer is synchronous and knows nothing about HTTP; `methods` reads and changes it on the
bot's behalf, `actions` on the users' behalf, `server` puts it on the network."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from standin.files import FileStore
from standin.objects import (
    ADMIN_RIGHTS,
    JSON,
    STATUSES,
    TOPIC_COLORS,
    Chat,
    Member,
    Stored,
    Topic,
    api_message,
    bot_obj,
    member_obj,
    now,
    snapshot,
    user_obj,
)

# Sent only when asked for by name in allowed_updates, as Telegram does.
_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
ANY_THREAD: Any = ...


@dataclass
class CallbackState:
    query: JSON
    answers: list[JSON] = field(default_factory=list)


class World:
    def __init__(
        self,
        *,
        token: str = "123456789:STANDIN-token",
        bot_username: str = "CRPT_Turon_Bot",
        privacy_mode: bool = True,
    ) -> None:
        bot_id, sep, _ = token.partition(":")
        if not sep or not bot_id.isdigit():
            raise ValueError(f"a bot token looks like '123456:secret', not {token!r}")
        self.token = token
        self.bot_id = int(bot_id)
        self.bot_user = bot_obj(self.bot_id, bot_username)
        self.privacy_mode = privacy_mode
        self.files = FileStore()
        self.users: dict[int, JSON] = {}
        self.chats: dict[int, Chat] = {}
        self.callbacks: dict[str, CallbackState] = {}
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.settings: dict[str, Any] = {"webhook": None, "menu_button": {}, "texts": {}}
        self.allowed_updates: list[str] | None = None
        self._updates: list[JSON] = []
        self._next_update_id = 1
        self._fetched_upto = 0
        self._counter = 0

    # ------------------------------------------------------------ building the world

    def add_user(
        self,
        user_id: int,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "ru",
        started: bool = True,
    ) -> JSON:
        """A Telegram user and their private chat with the bot (chat id = user id).
        `started=False`: the user never wrote to the bot, so the bot cannot write first."""
        if user_id <= 0 or user_id == self.bot_id:
            raise ValueError(f"a user id is a positive number other than the bot's: {user_id}")
        user = user_obj(
            user_id,
            first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
        )
        self.users[user_id] = user
        self.chats[user_id] = Chat(id=user_id, type="private", user=user, started=started)
        return copy.deepcopy(user)

    def add_group(
        self,
        chat_id: int,
        title: str,
        *,
        forum: bool = False,
        members: Iterable[int] = (),
        admins: Iterable[int] = (),
        creator: int | None = None,
        supergroup: bool | None = None,
        username: str | None = None,
        bot_status: str = "administrator",
        bot_rights: Mapping[str, bool] | None = None,
    ) -> JSON:
        """A group; a forum is a supergroup, and so is any id starting with -100 unless
        `supergroup` says otherwise. The bot is an administrator with every right an admin
        bot usually has (can_manage_topics included) unless `bot_status` / `bot_rights` say
        otherwise."""
        if chat_id >= 0:
            raise ValueError(f"group ids are negative: {chat_id}")
        if supergroup is None:
            supergroup = forum or str(chat_id).startswith("-100")
        if forum and not supergroup:
            raise ValueError("a forum is always a supergroup")
        chat = Chat(
            id=chat_id,
            type="supergroup" if supergroup else "group",
            title=title,
            is_forum=forum,
            username=username,
            next_message_id=2 if forum else 1,  # 1 is the General topic
        )
        self.chats[chat_id] = chat
        for user_id in members:
            chat.members[self.user(user_id)["id"]] = Member("member")
        for user_id in admins:
            chat.members[self.user(user_id)["id"]] = Member("administrator", dict(ADMIN_RIGHTS))
        if creator is not None:
            chat.members[self.user(creator)["id"]] = Member("creator")
        chat.members[self.bot_id] = self._member(bot_status, bot_rights)
        return chat.obj()

    def set_member_status(
        self,
        chat_id: int,
        user_id: int,
        status: str,
        *,
        rights: Mapping[str, bool] | None = None,
    ) -> None:
        """Change a member (the bot included: pass `bot_id`); enqueues the `chat_member`
        update (or `my_chat_member` for the bot) Telegram would send."""
        chat = self.chat(chat_id)
        if chat.private:
            raise ValueError("private chats have no members to change; see block_bot()")
        user = self.bot_user if user_id == self.bot_id else self.user(user_id)
        old = self.member(chat, user_id)
        new = self._member(status, rights)
        chat.members[user_id] = new
        kind = "my_chat_member" if user_id == self.bot_id else "chat_member"
        actor = self.users.get(user_id, self._some_admin(chat))
        self._enqueue(kind, self._member_update(chat, actor, user, old, new))

    def block_bot(self, user_id: int, blocked: bool = True) -> None:
        """The user blocks (or unblocks) the bot: sends to them answer 403 and the bot gets
        the `my_chat_member` update Telegram sends."""
        chat = self.chat(self.user(user_id)["id"])
        if chat.blocked == blocked:
            return
        self._set_blocked(chat, blocked)

    def add_topic(
        self, chat_id: int, name: str, *, by: int, icon_color: int = TOPIC_COLORS[0]
    ) -> JSON:
        """A user creates a topic in a forum; the bot gets the service message."""
        chat = self.chat(chat_id)
        if not chat.is_forum:
            raise ValueError(f"chat {chat_id} is not a forum")
        stored = self.create_topic(chat, name, icon_color, None, creator=self.user(by))
        self._deliver(chat, stored)
        return chat.topics[stored.message_id].forum_topic()

    def close_topic(self, chat_id: int, thread_id: int, *, by: int, closed: bool = True) -> None:
        """A user closes (or reopens) a topic; the bot gets the service message."""
        chat = self.chat(chat_id)
        topic = self._topic(chat, thread_id)
        topic.closed = closed
        kind = "forum_topic_closed" if closed else "forum_topic_reopened"
        stored = self.post(chat, {kind: {}}, sender=self.user(by), origin="service", topic=topic)
        self._deliver(chat, stored)

    def delete_topic(self, chat_id: int, thread_id: int) -> None:
        """A user deletes a topic with its messages; later sends to it answer 400
        "message thread not found". Telegram sends the bot no update for this."""
        self.remove_topic(self.chat(chat_id), self._topic(self.chat(chat_id), thread_id))

    # ------------------------------------------------------------ looking at the world

    def user(self, user_id: int) -> JSON:
        try:
            return self.users[user_id]
        except KeyError:
            raise ValueError(f"unknown user {user_id}: add_user() first") from None

    def chat(self, chat_id: int) -> Chat:
        try:
            return self.chats[chat_id]
        except KeyError:
            raise ValueError(f"unknown chat {chat_id}: add_user()/add_group() first") from None

    def sent(
        self, chat_id: int, *, thread_id: int | None = ANY_THREAD, include_deleted: bool = False
    ) -> list[JSON]:
        """Messages the bot posted in a chat, oldest first, as stored (any reply_markup kept).
        thread_id: ... any topic, None only outside topics, a number only in that topic."""
        return [
            copy.deepcopy(stored.message)
            for stored in self._messages(chat_id, include_deleted)
            if stored.origin == "bot" and (thread_id is ANY_THREAD or stored.thread_id == thread_id)
        ]

    def last(self, chat_id: int, *, thread_id: int | None = ANY_THREAD) -> JSON:
        posted = self.sent(chat_id, thread_id=thread_id)
        if not posted:
            raise LookupError(f"the bot has posted nothing in chat {chat_id}{self._trail()}")
        return posted[-1]

    def message(self, chat_id: int, message_id: int) -> JSON | None:
        """A message in its current state; None if it never existed or was deleted."""
        stored = self.chat(chat_id).find(message_id)
        return copy.deepcopy(stored.message) if stored else None

    def history(self, chat_id: int) -> list[JSON]:
        """Every live message in the chat (users', the bot's and service ones), oldest first."""
        return [copy.deepcopy(s.message) for s in self._messages(chat_id, False)]

    def callback_answers(self, callback_id: str) -> list[JSON]:
        state = self.callbacks.get(callback_id)
        return copy.deepcopy(state.answers) if state else []

    def topics(self, chat_id: int) -> list[JSON]:
        """Every topic of a forum with is_closed / is_deleted."""
        return [topic.summary() for topic in self.chat(chat_id).topics.values()]

    def my_commands(self, scope: JSON | None = None, language_code: str = "") -> list[JSON]:
        return copy.deepcopy(self.commands.get((scope_key(scope), language_code), []))

    def pending_updates(self) -> list[JSON]:
        """Updates not yet fetched by the bot."""
        return [u for u in self._updates if u["update_id"] > self._fetched_upto]

    def _trail(self) -> str:
        """More context for an assertion message; the server adds the last API calls."""
        return ""

    # ------------------------------------------------------------ shared by methods and actions

    def member(self, chat: Chat, user_id: int) -> Member:
        if chat.private:
            present = user_id in (chat.id, self.bot_id)
            return Member("member" if present else "left")
        return chat.members.get(user_id) or Member("left")

    def bot_member(self, chat: Chat) -> Member:
        return self.member(chat, self.bot_id)

    def member_object(self, chat: Chat, user_id: int) -> JSON:
        user = self.bot_user if user_id == self.bot_id else self.users[user_id]
        return member_obj(user, self.member(chat, user_id))

    def post(
        self,
        chat: Chat,
        content: JSON,
        *,
        sender: JSON,
        origin: str,
        topic: Topic | None = None,
        reply: Stored | None = None,
        markup: JSON | None = None,
    ) -> Stored:
        """Store a new message; in a topic it is a reply to the topic's first message unless
        it replies to another one (as Telegram does)."""
        message: JSON = {"message_id": chat.take_message_id(), "from": sender}
        message |= {"chat": chat.obj(), "date": now()}
        if topic is not None:
            message |= {"message_thread_id": topic.thread_id, "is_topic_message": True}
            reply = reply or chat.find(topic.thread_id)
        if reply is not None:
            message["reply_to_message"] = snapshot(reply.message)
        message |= content
        if markup is not None:
            message["reply_markup"] = markup
        stored = Stored(message, origin)
        chat.messages[stored.message_id] = stored
        return stored

    def create_topic(
        self,
        chat: Chat,
        name: str,
        icon_color: int,
        icon_custom_emoji_id: str | None,
        *,
        creator: JSON,
    ) -> Stored:
        """A topic and its forum_topic_created service message (whose id is the thread id)."""
        thread_id = chat.next_message_id
        topic = Topic(thread_id, name, icon_color, creator["id"], icon_custom_emoji_id)
        chat.topics[thread_id] = topic
        created: JSON = {"name": name, "icon_color": icon_color}
        if icon_custom_emoji_id:
            created["icon_custom_emoji_id"] = icon_custom_emoji_id
        content = {"forum_topic_created": created}
        return self.post(chat, content, sender=creator, origin="service", topic=topic)

    def remove_topic(self, chat: Chat, topic: Topic) -> None:
        topic.deleted = True
        for stored in chat.messages.values():
            if stored.thread_id == topic.thread_id:
                stored.deleted = True

    def new_id(self) -> int:
        self._counter += 1
        return self._counter

    # ------------------------------------------------------------ updates

    def take_updates(self, offset: int | None, limit: int) -> list[JSON]:
        """getUpdates: confirm by offset, drop kinds not allowed, return up to `limit`."""
        if offset is not None and offset < 0:
            self._updates = self._updates[offset:]
        elif offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        self._updates = [u for u in self._updates if self._allowed(u)]
        batch = copy.deepcopy(self._updates[: max(1, min(limit, 100))])
        if batch:
            self._fetched_upto = max(self._fetched_upto, batch[-1]["update_id"])
        if not self._updates and self._next_update_id > 1:
            self._fetched_upto = self._next_update_id - 1
        return batch

    def undelivered(self) -> list[JSON]:
        """Webhook mode: the updates not yet confirmed by the bot's 2xx, oldest first."""
        self._updates = [u for u in self._updates if self._allowed(u)]
        return list(self._updates)

    def confirm_delivered(self, update_id: int) -> None:
        """Webhook mode: the bot answered 2xx for this update; it is not sent again."""
        self._updates = [u for u in self._updates if u["update_id"] != update_id]

    def drop_pending_updates(self) -> None:
        self._updates.clear()
        self._fetched_upto = self._next_update_id - 1

    def _allowed(self, update: JSON) -> bool:
        kind = next(k for k in update if k != "update_id")
        if self.allowed_updates:
            return kind in self.allowed_updates
        return kind not in _OPT_IN_UPDATES

    def _enqueue(self, kind: str, payload: JSON) -> JSON:
        update = {"update_id": self._next_update_id, kind: api_message(payload)}
        self._next_update_id += 1
        self._updates.append(update)
        self._on_update()
        return update

    def _on_update(self) -> None:
        """Called after an update is queued; the server wakes long polls."""

    def _deliver(self, chat: Chat, stored: Stored, kind: str = "message") -> None:
        if self._bot_sees(chat, stored):
            self._enqueue(kind, stored.message)

    def _bot_sees(self, chat: Chat, stored: Stored) -> bool:
        """Whether Telegram gives the bot this message (membership, privacy mode)."""
        if chat.private:
            return True
        bot = self.bot_member(chat)
        if not bot.present:
            return False
        if bot.status in ("administrator", "creator") or not self.privacy_mode:
            return True
        message = stored.message
        text = message.get("text") or message.get("caption") or ""
        replied = message.get("reply_to_message") or {}
        return (
            stored.origin == "service"
            or text.startswith("/")
            or f"@{self.bot_user['username']}".lower() in text.lower()
            or (replied.get("from") or {}).get("id") == self.bot_id
        )

    # ------------------------------------------------------------ internals

    def _messages(self, chat_id: int, include_deleted: bool) -> list[Stored]:
        chat = self.chat(chat_id)
        return [s for _, s in sorted(chat.messages.items()) if include_deleted or not s.deleted]

    def _member(self, status: str, rights: Mapping[str, bool] | None) -> Member:
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, not {status!r}")
        base = dict(ADMIN_RIGHTS) if status == "administrator" else {}
        return Member(status, base | dict(rights or {}))

    def _some_admin(self, chat: Chat) -> JSON:
        for user_id, member in chat.members.items():
            if member.status in ("creator", "administrator") and user_id in self.users:
                return self.users[user_id]
        return self.bot_user

    def _member_update(self, chat: Chat, actor: JSON, user: JSON, old: Member, new: Member) -> JSON:
        return {
            "chat": chat.obj(),
            "from": actor,
            "date": now(),
            "old_chat_member": member_obj(user, old),
            "new_chat_member": member_obj(user, new),
        }

    def _set_blocked(self, chat: Chat, blocked: bool) -> None:
        chat.blocked = blocked
        old, new = Member("member"), Member("kicked")
        if not blocked:
            old, new = new, old
        assert chat.user is not None
        update = self._member_update(chat, chat.user, self.bot_user, old, new)
        self._enqueue("my_chat_member", update)

    def _topic(self, chat: Chat, thread_id: int) -> Topic:
        topic = chat.live_topic(thread_id)
        if topic is None:
            raise ValueError(f"chat {chat.id} has no topic {thread_id}")
        return topic


def scope_key(scope: JSON | None) -> str:
    return json.dumps(scope or {"type": "default"}, sort_keys=True)
