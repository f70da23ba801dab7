"""What many Bot API methods share: finding the chat and checking the bot may write there, the
topic, the message replied to, the reply markup, texts and captions, and posting."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from typing import Any

from standin.errors import ApiError, bad_request, forbidden
from standin.formatting import format_caption, format_message_text
from standin.objects import EXTERNAL_KEYS, JSON, Chat, Stored, Topic, content_of, origin_of
from standin.params import Params
from standin.world import World

Handler = Callable[[World, Params], Any]

_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_URL = re.compile(r"^(?:(?:https?|tg)://\S+|[\w-]+(?:\.[\w-]+)+(?:/\S*)?)$")


def find_chat(world: World, ref: Any) -> Chat | None:
    """A chat by id or "@username" (never a user's private chat by username, as Telegram)."""
    if isinstance(ref, int) and not isinstance(ref, bool):
        return world.chats.get(ref)
    text = str(ref)
    if text.lstrip("-").isdigit():
        return world.chats.get(int(text))
    if text.startswith("@"):
        name = text[1:].lower()
        groups = (c for c in world.chats.values() if not c.private and c.username)
        return next((c for c in groups if (c.username or "").lower() == name), None)
    return None


def chat_of(world: World, p: Params, key: str = "chat_id") -> Chat:
    if key not in p:
        raise bad_request(f"{key} is empty")
    chat = find_chat(world, p.get(key))
    if chat is None:
        raise bad_request("chat not found")
    if chat.migrated_to is not None:
        raise ApiError(
            400,
            "Bad Request: group chat was upgraded to a supergroup chat",
            {"migrate_to_chat_id": chat.migrated_to},
        )
    return chat


def check_present(world: World, chat: Chat) -> None:
    """403 when the bot cannot act in the chat at all."""
    if chat.private:
        if chat.blocked:
            raise forbidden("bot was blocked by the user")
        if not chat.started:
            raise forbidden("bot can't initiate conversation with a user")
        return
    where = f"{chat.type} chat"
    status = world.bot_member(chat).status
    if status == "kicked":
        raise forbidden(f"bot was kicked from the {where}")
    if status == "left":
        raise forbidden(f"bot is not a member of the {where}")


def writable_chat(world: World, p: Params) -> Chat:
    chat = chat_of(world, p)
    check_present(world, chat)
    bot = world.bot_member(chat)
    if bot.status == "restricted" and not bot.rights.get("can_send_messages"):
        raise bad_request("not enough rights to send text messages to the chat")
    return chat


def topic_of(world: World, chat: Chat, p: Params, *, general_ok: bool = False) -> Topic | None:
    """The forum topic of message_thread_id (ignored outside forums, as for reply threads)."""
    thread_id = p.opt_int("message_thread_id")
    if thread_id is None or not chat.is_forum or (general_ok and thread_id == 1):
        return None
    topic = chat.live_topic(thread_id)
    if topic is None:
        raise bad_request("message thread not found")
    if topic.closed and not world.bot_member(chat).can("can_manage_topics"):
        raise bad_request("TOPIC_CLOSED")
    return topic


def reply_of(world: World, chat: Chat, p: Params) -> tuple[Stored | None, JSON]:
    """The message replied to (reply_parameters or the older reply_to_message_id): a message
    of this chat, or for one in another chat the `external_reply` field to add."""
    params = p.opt_dict("reply_parameters") or {}
    message_id = params.get("message_id", p.opt_int("reply_to_message_id"))
    if message_id is None:
        return None, {}
    source = chat
    if params.get("chat_id") is not None:
        source = find_chat(world, params["chat_id"]) or chat
    stored = source.find(int(message_id))
    if stored is None:
        allow = params.get("allow_sending_without_reply", p.flag("allow_sending_without_reply"))
        if not allow:
            raise bad_request("message to be replied not found")
        return None, {}
    if source is chat:
        return stored, {}
    return None, {"external_reply": external_reply(source, stored)}


def external_reply(source: Chat, stored: Stored) -> JSON:
    """ExternalReplyInfo: where the message is and its media (its text would be a quote)."""
    info: JSON = {"origin": origin_of(stored.message), "chat": source.obj()}
    info["message_id"] = stored.message_id
    return info | {k: v for k, v in content_of(stored.message).items() if k in EXTERNAL_KEYS}


def markup_of(p: Params, *, inline_only: bool = False) -> JSON | None:
    markup = p.opt_dict("reply_markup")
    if markup is None:
        return None
    if "inline_keyboard" in markup:
        check_inline_keyboard(markup["inline_keyboard"])
    elif inline_only:
        raise bad_request("inline keyboard expected")
    elif not any(key in markup for key in ("keyboard", "remove_keyboard", "force_reply")):
        raise bad_request("can't parse reply keyboard markup JSON object")
    return markup


def check_inline_keyboard(rows: Any) -> None:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
    for button in (button for row in rows for button in row):
        check_button(button)


def check_button(button: Any) -> None:
    if not isinstance(button, dict) or not button.get("text"):
        raise bad_request("can't parse inline keyboard button: Text must be non-empty")
    if not any(key in button for key in _BUTTON_ACTIONS):
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    data = button.get("callback_data")
    if data is not None and not 1 <= len(str(data).encode()) <= 64:
        raise bad_request("BUTTON_DATA_INVALID")
    url = button.get("url")
    if url is not None and not _URL.match(str(url)):
        raise bad_request("BUTTON_URL_INVALID")


def text_content(p: Params) -> JSON:
    formatted = format_message_text(
        p.opt_str("text"), p.opt_str("parse_mode"), p.opt_list("entities")
    )
    content: JSON = {"text": formatted.text}
    if formatted.entities:
        content["entities"] = formatted.entities
    return content


def caption_content(
    caption: str | None, parse_mode: str | None, entities: list[Any] | None
) -> JSON:
    """{"caption", "caption_entities"} or {} for no caption."""
    formatted = format_caption(caption, parse_mode, entities)
    if formatted is None:
        return {}
    content: JSON = {"caption": formatted.text}
    if formatted.entities:
        content["caption_entities"] = formatted.entities
    return content


def caption_of(p: Params) -> JSON:
    return caption_content(
        p.opt_str("caption"), p.opt_str("parse_mode"), p.opt_list("caption_entities")
    )


def send(world: World, p: Params, content: JSON, *, replies: bool = True) -> Stored:
    """Post a bot message where the parameters say: chat, topic, reply, markup."""
    chat = writable_chat(world, p)
    topic = topic_of(world, chat, p)
    reply, external = reply_of(world, chat, p) if replies else (None, {})
    markup = markup_of(p)
    content = content | external
    if p.flag("protect_content"):
        content |= {"has_protected_content": True}
    return world.post(
        chat,
        content,
        sender=world.bot_user,
        origin="bot",
        topic=topic,
        reply=reply,
        markup=markup,
    )


def message_ids_of(p: Params, *, increasing: bool = True) -> list[int]:
    """message_ids of copyMessages & co: 1-100 identifiers (copy and forward: in strictly
    increasing order)."""
    ids = p.opt_list("message_ids")
    if not ids:
        raise bad_request("message_ids is empty")
    if len(ids) > 100 or not all(isinstance(i, int) for i in ids):
        raise bad_request("message_ids must be a list of 1-100 message identifiers")
    if increasing and any(a >= b for a, b in itertools.pairwise(ids)):
        raise bad_request("message identifiers must be in strictly increasing order")
    return ids
