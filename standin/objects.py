"""The state objects of the world (chats, members, topics, stored messages) and the Bot API
dicts built from them. Nothing here knows about HTTP."""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]

STATUSES = ("creator", "administrator", "member", "restricted", "left", "kicked")
PRESENT = ("creator", "administrator", "member", "restricted")
TOPIC_COLORS = (7322096, 16766590, 13338331, 9367192, 16749490, 16478047)

ADMIN_RIGHTS: dict[str, bool] = {
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": True,
    "can_restrict_members": True,
    "can_promote_members": False,
    "can_change_info": True,
    "can_invite_users": True,
    "can_post_stories": False,
    "can_edit_stories": False,
    "can_delete_stories": False,
    "can_send_welcome_messages": False,
    "can_pin_messages": True,
    "can_manage_topics": True,
}
_RESTRICTED_FIELDS = (
    "can_send_messages",
    "can_send_audios",
    "can_send_documents",
    "can_send_photos",
    "can_send_videos",
    "can_send_video_notes",
    "can_send_voice_notes",
    "can_send_polls",
    "can_send_other_messages",
    "can_add_web_page_previews",
    "can_react_to_messages",
    "can_edit_tag",
    "can_change_info",
    "can_invite_users",
    "can_pin_messages",
    "can_manage_topics",
)
# Message fields that carry content (copied by copyMessage, compared by edits).
CONTENT_KEYS = (
    "text",
    "entities",
    "link_preview_options",
    "photo",
    "document",
    "video",
    "voice",
    "audio",
    "animation",
    "sticker",
    "video_note",
    "contact",
    "location",
    "caption",
    "caption_entities",
    "has_media_spoiler",
)
# Content an ExternalReplyInfo carries.
EXTERNAL_KEYS = frozenset(
    {"photo", "document", "video", "voice", "audio", "animation", "sticker", "video_note"}
) | {"contact", "location"}
MEDIA_KEYS = ("photo", "document", "video", "voice", "audio", "animation", "video_note")


def now() -> int:
    return int(time.time())


@dataclass
class Member:
    status: str
    rights: dict[str, bool] = field(default_factory=dict)

    @property
    def present(self) -> bool:
        return self.status in PRESENT

    def can(self, right: str) -> bool:
        if self.status == "creator":
            return True
        return self.status == "administrator" and self.rights.get(right, False)


@dataclass
class Topic:
    thread_id: int
    name: str
    icon_color: int
    creator_id: int
    icon_custom_emoji_id: str | None = None
    closed: bool = False
    deleted: bool = False

    def forum_topic(self) -> JSON:
        topic: JSON = {
            "message_thread_id": self.thread_id,
            "name": self.name,
            "icon_color": self.icon_color,
        }
        if self.icon_custom_emoji_id:
            topic["icon_custom_emoji_id"] = self.icon_custom_emoji_id
        return topic

    def summary(self) -> JSON:
        return self.forum_topic() | {"is_closed": self.closed, "is_deleted": self.deleted}


@dataclass
class Stored:
    """A message in the world; `message` is the Bot API Message (with any reply_markup)."""

    message: JSON
    origin: str  # "user", "bot" or "service"
    deleted: bool = False

    @property
    def message_id(self) -> int:
        return int(self.message["message_id"])

    @property
    def thread_id(self) -> int | None:
        return (
            self.message.get("message_thread_id") if self.message.get("is_topic_message") else None
        )

    def has_media(self) -> bool:
        return any(key in self.message for key in MEDIA_KEYS)


@dataclass
class Chat:
    id: int
    type: str  # "private", "group" or "supergroup"
    title: str | None = None
    is_forum: bool = False
    username: str | None = None
    user: JSON | None = None  # the other side of a private chat
    members: dict[int, Member] = field(default_factory=dict)
    messages: dict[int, Stored] = field(default_factory=dict)
    topics: dict[int, Topic] = field(default_factory=dict)
    next_message_id: int = 1
    blocked: bool = False  # private: the user blocked the bot
    started: bool = True  # private: the user has written to the bot
    pinned: list[int] = field(default_factory=list)
    migrated_to: int | None = None  # a group upgraded to this supergroup

    @property
    def private(self) -> bool:
        return self.type == "private"

    def obj(self) -> JSON:
        """The Bot API Chat."""
        if self.user is not None:
            keys = ("first_name", "last_name", "username")
            return {"id": self.id, "type": "private"} | {
                k: self.user[k] for k in keys if self.user.get(k)
            }
        chat: JSON = {"id": self.id, "type": self.type, "title": self.title}
        if self.username:
            chat["username"] = self.username
        if self.is_forum:
            chat["is_forum"] = True
        return chat

    def full_info(self) -> JSON:
        """The Bot API ChatFullInfo (getChat)."""
        gifts = ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription")
        info = self.obj() | {
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": dict.fromkeys((*gifts, "gifts_from_channels"), False),
        }
        if self.pinned and (pinned := self.find(self.pinned[-1])):
            info["pinned_message"] = api_message(pinned.message)
        return info

    def find(self, message_id: int | None) -> Stored | None:
        stored = self.messages.get(message_id) if message_id is not None else None
        return stored if stored is not None and not stored.deleted else None

    def take_message_id(self) -> int:
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id

    def live_topic(self, thread_id: int) -> Topic | None:
        topic = self.topics.get(thread_id)
        return topic if topic is not None and not topic.deleted else None


def user_obj(
    user_id: int,
    first_name: str,
    *,
    last_name: str | None = None,
    username: str | None = None,
    language_code: str | None = None,
) -> JSON:
    user: JSON = {"id": user_id, "is_bot": False, "first_name": first_name}
    for key, value in (
        ("last_name", last_name),
        ("username", username),
        ("language_code", language_code),
    ):
        if value:
            user[key] = value
    return user


def bot_obj(bot_id: int, username: str) -> JSON:
    return {
        "id": bot_id,
        "is_bot": True,
        "first_name": username.removesuffix("_bot").removesuffix("_Bot").replace("_", " "),
        "username": username,
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


def member_obj(user: JSON, member: Member) -> JSON:
    """The Bot API ChatMember for a status."""
    obj: JSON = {"status": member.status, "user": user}
    if member.status == "creator":
        return obj | {"is_anonymous": False}
    if member.status == "administrator":
        return obj | {"can_be_edited": False, "is_anonymous": False} | ADMIN_RIGHTS | member.rights
    if member.status == "restricted":
        rights = dict.fromkeys(_RESTRICTED_FIELDS, False) | member.rights
        return obj | {"is_member": True, "until_date": 0} | rights
    if member.status == "kicked":
        return obj | {"until_date": 0}
    return obj


def api_message(message: JSON) -> JSON:
    """A stored message as the Bot API returns it: a deep copy; reply_markup only when inline
    (Message.reply_markup is an InlineKeyboardMarkup), also in the replied-to message."""
    view = copy.deepcopy(message)
    for msg in (view, view.get("reply_to_message"), view.get("pinned_message")):
        if isinstance(msg, dict):
            markup = msg.get("reply_markup")
            if markup is not None and "inline_keyboard" not in markup:
                del msg["reply_markup"]
    return view


def snapshot(message: JSON) -> JSON:
    """A message as embedded in another (reply_to_message): no further reply_to_message."""
    return {k: copy.deepcopy(v) for k, v in message.items() if k != "reply_to_message"}


def content_of(message: JSON) -> JSON:
    return {k: copy.deepcopy(message[k]) for k in CONTENT_KEYS if k in message}


def origin_of(message: JSON) -> JSON:
    """The MessageOrigin of a message (kept when it was itself forwarded)."""
    if "forward_origin" in message:
        return copy.deepcopy(message["forward_origin"])
    return {"type": "user", "date": message["date"], "sender_user": copy.deepcopy(message["from"])}
