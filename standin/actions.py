"""What users do in the world: write (text, media, contacts, albums, replies, topics), edit
their messages and press inline buttons. Each action stores what happened, enqueues the update
Telegram would send the bot and returns the Message / callback id. Misuse (an unknown user, a
chat the user is not in, a button that is not there) raises ValueError: it is a test's mistake,
not something Telegram would answer."""

from __future__ import annotations

import copy
from typing import Any

from standin.files import StoredFile, media_content
from standin.formatting import utf16_len
from standin.objects import JSON, Chat, Stored, Topic, api_message, now
from standin.world import CallbackState, World


class Actions(World):
    def send_message(
        self,
        user_id: int,
        chat_id: int | None = None,
        *,
        text: str | None = None,
        photo: bool = False,
        document: str | None = None,
        voice: bool = False,
        video: bool = False,
        sticker: bool = False,
        contact: JSON | None = None,
        caption: str | None = None,
        media_group_id: str | None = None,
        reply_to: int | None = None,
        thread_id: int | None = None,
        command: bool | None = None,
    ) -> JSON:
        """A user writes; chat_id None is their private chat with the bot. Give exactly one
        of text / photo / document (a file name) / voice / video / sticker / contact; a
        contact without user_id / first_name is the user's own. A text starting with "/" gets
        a bot_command entity unless command=False."""
        user = self.user(user_id)
        chat = self._writer_chat(user_id, chat_id)
        media = {"photo": photo, "document": document, "voice": voice, "video": video}
        media |= {"sticker": sticker}
        content = self._content(user, text, media, contact, caption, command)
        if media_group_id is not None:
            if not any(key in content for key in ("photo", "document", "video")):
                raise ValueError("an album (media_group_id) is made of photos, videos or documents")
            content["media_group_id"] = media_group_id
        topic = self._writer_topic(chat, user_id, thread_id)
        reply = self._reply_target(chat, reply_to)
        if chat.private:
            self._opens_chat(chat)
        stored = self.post(chat, content, sender=user, origin="user", topic=topic, reply=reply)
        self._deliver(chat, stored)
        return api_message(stored.message)

    def upgrade_group(self, user_id: int, chat_id: int, new_chat_id: int) -> JSON:
        """A user upgrades a basic group to a supergroup, as Telegram does when a group turns on
        topics or grows: the supergroup has a new id and the same members, the old group
        answers every call with 400 and parameters.migrate_to_chat_id, and both get a service
        message (the old one `migrate_to_chat_id`, the new one `migrate_from_chat_id`)."""
        user = self.user(user_id)
        old = self.chat(chat_id)
        if old.type != "group":
            raise ValueError("only a basic group is upgraded")
        self.add_group(new_chat_id, old.title or "", supergroup=True)
        new = self.chat(new_chat_id)
        new.members = dict(old.members)
        for chat, content in (
            (old, {"migrate_to_chat_id": new_chat_id}),
            (new, {"migrate_from_chat_id": chat_id}),
        ):
            stored = self.post(chat, content, sender=user, origin="user")
            self._deliver(chat, stored)
        old.migrated_to = new_chat_id
        return new.obj()

    def edit_message(self, user_id: int, chat_id: int, message_id: int, text: str) -> JSON:
        """A user edits the text of their message; enqueues `edited_message`."""
        chat = self.chat(chat_id)
        stored = chat.find(message_id)
        if stored is None or stored.origin != "user":
            raise ValueError(f"no message {message_id} from a user in chat {chat_id}")
        if stored.message["from"]["id"] != user_id:
            raise ValueError(f"message {message_id} was written by someone else")
        key = "text" if "text" in stored.message else "caption"
        stored.message[key] = text
        stored.message.pop("entities" if key == "text" else "caption_entities", None)
        if key == "text" and (entities := _command_entities(text, None)):
            stored.message["entities"] = entities
        stored.message["edit_date"] = now()
        self._deliver(chat, stored, "edited_message")
        return api_message(stored.message)

    def press(self, user_id: int, message: JSON, data: str) -> str:
        """A user presses the inline button with this callback_data on a bot message (the
        message as it is now must still show that button); returns the callback query id."""
        chat = self.chat(message["chat"]["id"])
        stored = self._bot_message(chat, message["message_id"])
        buttons = _callback_data(stored.message.get("reply_markup"))
        if data not in buttons:
            raise ValueError(
                f"message {stored.message_id} in chat {chat.id} has no button {data!r}; "
                f"its buttons: {buttons}"
            )
        return self._callback(self.user(user_id), chat, stored, data)

    def press_raw(self, user_id: int, chat_id: int, message_id: int, data: str) -> str:
        """A callback query with any data on any existing message (a forged or stale press)."""
        chat = self.chat(chat_id)
        stored = chat.find(message_id)
        if stored is None:
            raise ValueError(f"no message {message_id} in chat {chat_id}")
        return self._callback(self.user(user_id), chat, stored, data)

    # ------------------------------------------------------------ internals

    def _writer_chat(self, user_id: int, chat_id: int | None) -> Chat:
        if chat_id is None or chat_id == user_id:
            return self.chat(user_id)
        chat = self.chat(chat_id)
        if chat.private:
            raise ValueError(f"user {user_id} cannot write in the private chat of {chat_id}")
        if not self.member(chat, user_id).present:
            raise ValueError(f"user {user_id} is not a member of chat {chat_id}")
        return chat

    def _writer_topic(self, chat: Chat, user_id: int, thread_id: int | None) -> Topic | None:
        if thread_id is None:
            return None
        if not chat.is_forum:
            raise ValueError(f"chat {chat.id} is not a forum; thread_id needs one")
        topic = self._topic(chat, thread_id)
        if topic.closed and not self.member(chat, user_id).can("can_manage_topics"):
            raise ValueError(f"topic {thread_id} is closed for user {user_id}")
        return topic

    def _reply_target(self, chat: Chat, reply_to: int | None) -> Stored | None:
        if reply_to is None:
            return None
        stored = chat.find(reply_to)
        if stored is None:
            raise ValueError(f"no message {reply_to} to reply to in chat {chat.id}")
        return stored

    def _opens_chat(self, chat: Chat) -> None:
        """Writing to the bot starts the chat and, in the apps, unblocks the bot first."""
        chat.started = True
        if chat.blocked:
            self._set_blocked(chat, False)

    def _content(
        self,
        user: JSON,
        text: str | None,
        media: dict[str, Any],
        contact: JSON | None,
        caption: str | None,
        command: bool | None,
    ) -> JSON:
        chosen = [kind for kind, value in media.items() if value]
        count = len(chosen) + (text is not None) + (contact is not None)
        if count != 1:
            raise ValueError(
                "give exactly one of text, photo, document, voice, video, sticker, contact"
            )
        if caption is not None and not chosen:
            raise ValueError("a caption goes with a photo, document, voice or video")
        if text is not None:
            content: JSON = {"text": text}
            if entities := _command_entities(text, command):
                content["entities"] = entities
            return content
        if contact is not None:
            return {"contact": {"first_name": user["first_name"], "user_id": user["id"]} | contact}
        kind = chosen[0]
        content = media_content(kind, self._user_files(kind, media[kind]))
        if caption is not None:
            content["caption"] = caption
        return content

    def _user_files(self, kind: str, value: Any) -> list[StoredFile]:
        if kind == "photo":
            return self.files.new_photo(size=48_000)
        if kind == "document":
            return [self.files.new("document", size=24_000, file_name=str(value))]
        return [self.files.new(kind)]

    def _bot_message(self, chat: Chat, message_id: int) -> Stored:
        stored = chat.find(message_id)
        if stored is None or stored.origin != "bot":
            raise ValueError(f"no live bot message {message_id} in chat {chat.id}")
        return stored

    def _callback(self, user: JSON, chat: Chat, stored: Stored, data: str) -> str:
        callback_id = str(4_000_000_000_000_000_000 + self.new_id())
        query: JSON = {
            "id": callback_id,
            "from": copy.deepcopy(user),
            "message": api_message(stored.message),
            "chat_instance": str(abs(chat.id) * 7919 % 10**18),
            "data": data,
        }
        self.callbacks[callback_id] = CallbackState(query)
        self._enqueue("callback_query", query)
        return callback_id


def _command_entities(text: str, command: bool | None) -> list[JSON]:
    if command is None:
        command = text.startswith("/")
    if not command:
        return []
    word = text.split(maxsplit=1)[0] if text.strip() else text
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(word)}]


def _callback_data(markup: JSON | None) -> list[str]:
    rows = (markup or {}).get("inline_keyboard") or []
    return [b["callback_data"] for row in rows for b in row if "callback_data" in b]
