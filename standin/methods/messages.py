"""Bot API methods on messages: sending (text, media, albums, contacts), copying, forwarding,
editing, deleting, pinning and answering callback queries."""

from __future__ import annotations

from typing import Any

from standin.errors import bad_request
from standin.files import media_content
from standin.formatting import format_message_text
from standin.methods.common import (
    Handler,
    caption_content,
    caption_of,
    chat_of,
    markup_of,
    message_ids_of,
    reply_of,
    send,
    text_content,
    topic_of,
    writable_chat,
)
from standin.objects import JSON, Chat, Stored, api_message, content_of, now, origin_of
from standin.params import Params
from standin.world import World

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
_NO_CAPTION = frozenset({"sticker", "video_note"})
_ALBUM_KINDS = frozenset({"photo", "video", "document", "audio"})

# ------------------------------------------------------------------ sending


def send_message(world: World, p: Params) -> JSON:
    return api_message(send(world, p, text_content(p)).message)


def media_sender(kind: str) -> Handler:
    """sendPhoto, sendDocument, ...: the file (upload, file_id or URL) and a caption."""

    def handler(world: World, p: Params) -> JSON:
        reference = p.file(kind)
        if reference is None or reference == "":
            raise bad_request(f"there is no {kind} in the request")
        content = media_content(kind, world.files.resolve(kind, reference))
        if kind not in _NO_CAPTION:
            content |= caption_of(p)
        if p.flag("has_spoiler"):
            content["has_media_spoiler"] = True
        if kind == "audio":
            content["audio"] |= {k: p.get(k) for k in ("performer", "title") if k in p}
        return api_message(send(world, p, content).message)

    return handler


def send_contact(world: World, p: Params) -> JSON:
    contact: JSON = {
        "phone_number": p.req_str("phone_number"),
        "first_name": p.req_str("first_name"),
    }
    contact |= {k: p.get(k) for k in ("last_name", "vcard") if k in p}
    return api_message(send(world, p, {"contact": contact}).message)


def send_location(world: World, p: Params) -> JSON:
    try:
        location = {"latitude": float(p.get("latitude")), "longitude": float(p.get("longitude"))}
    except (TypeError, ValueError):
        raise bad_request("wrong latitude or longitude specified") from None
    return api_message(send(world, p, {"location": location}).message)


def send_media_group(world: World, p: Params) -> list[JSON]:
    items = p.opt_list("media") or []
    if not 2 <= len(items) <= 10:
        raise bad_request("media must include 2-10 items")
    contents = [_album_item(world, p, item) for item in items]
    chat = writable_chat(world, p)
    topic = topic_of(world, chat, p)
    reply, external = reply_of(world, chat, p)
    group_id = str(13_000_000_000_000_000 + world.new_id())
    posted = [
        world.post(
            chat,
            content | external | {"media_group_id": group_id},
            sender=world.bot_user,
            origin="bot",
            topic=topic,
            reply=reply,
        )
        for content in contents
    ]
    return [api_message(stored.message) for stored in posted]


def _album_item(world: World, p: Params, item: Any) -> JSON:
    if not isinstance(item, dict) or item.get("type") not in _ALBUM_KINDS:
        raise bad_request("can't parse InputMedia: unsupported media type")
    kind = item["type"]
    if "media" not in item:
        raise bad_request(f"there is no {kind} in the request")
    files = world.files.resolve(kind, p.attachment(item["media"]))
    caption = caption_content(
        item.get("caption"), item.get("parse_mode"), item.get("caption_entities")
    )
    return media_content(kind, files) | caption


# ------------------------------------------------------------------ copying and forwarding


def copy_message(world: World, p: Params) -> JSON:
    source = _source(world, p, "message to copy not found")
    content = _copied(source, p)
    if "caption" in p and source.has_media():
        content.pop("caption_entities", None)
        content |= caption_of(p)
    return {"message_id": send(world, p, content).message_id}


def copy_messages(world: World, p: Params) -> list[JSON]:
    return _transfer_many(world, p, forward=False)


def forward_message(world: World, p: Params) -> JSON:
    source = _source(world, p, "message to forward not found")
    if source.message.get("has_protected_content"):
        raise bad_request("message can't be forwarded")
    content = _copied(source, p) | {"forward_origin": origin_of(source.message)}
    return api_message(send(world, p, content, replies=False).message)


def forward_messages(world: World, p: Params) -> list[JSON]:
    return _transfer_many(world, p, forward=True)


def _source(world: World, p: Params, missing: str) -> Stored:
    chat = chat_of(world, p, "from_chat_id")
    stored = chat.find(p.opt_int("message_id"))
    if stored is None:
        raise bad_request(missing)
    return stored


def _copied(source: Stored, p: Params) -> JSON:
    if source.origin == "service" or source.message.get("has_protected_content"):
        raise bad_request("message can't be copied")
    content = content_of(source.message)
    if p.flag("remove_caption"):
        content.pop("caption", None)
        content.pop("caption_entities", None)
    return content


def _transfer_many(world: World, p: Params, *, forward: bool) -> list[JSON]:
    """copyMessages / forwardMessages: missing messages are skipped, albums stay albums."""
    source_chat = chat_of(world, p, "from_chat_id")
    found = (source_chat.find(i) for i in message_ids_of(p))
    sources = [s for s in found if s is not None and s.origin != "service"]
    if not sources:
        raise bad_request(f"message to {'forward' if forward else 'copy'} not found")
    chat = writable_chat(world, p)
    topic = topic_of(world, chat, p)
    albums: dict[str, str] = {}
    result = []
    for source in sources:
        content = _copied(source, p)
        if forward:
            content["forward_origin"] = origin_of(source.message)
        if album := source.message.get("media_group_id"):
            new_album = albums.setdefault(album, str(13_000_000_000_000_000 + world.new_id()))
            content["media_group_id"] = new_album
        stored = world.post(chat, content, sender=world.bot_user, origin="bot", topic=topic)
        result.append({"message_id": stored.message_id})
    return result


# ------------------------------------------------------------------ editing


def edit_message_text(world: World, p: Params) -> JSON:
    stored = _editable(world, p)
    if "text" not in stored.message:
        raise bad_request("there is no text in the message to edit")
    formatted = format_message_text(
        p.opt_str("text"), p.opt_str("parse_mode"), p.opt_list("entities")
    )
    changes = {"text": formatted.text, "entities": formatted.entities or None}
    return _apply_edit(stored, changes | _markup_change(stored, p))


def edit_message_caption(world: World, p: Params) -> JSON:
    stored = _editable(world, p)
    if not stored.has_media():
        raise bad_request("there is no caption in the message to edit")
    caption = caption_of(p)
    changes = {
        "caption": caption.get("caption"),
        "caption_entities": caption.get("caption_entities"),
    }
    return _apply_edit(stored, changes | _markup_change(stored, p))


def edit_message_reply_markup(world: World, p: Params) -> JSON:
    stored = _editable(world, p)
    return _apply_edit(stored, _markup_change(stored, p))


def _editable(world: World, p: Params) -> Stored:
    if "inline_message_id" in p:
        raise bad_request("MESSAGE_ID_INVALID")
    chat = chat_of(world, p)
    stored = chat.find(p.req_int("message_id", "message identifier is not specified"))
    if stored is None:
        raise bad_request("message to edit not found")
    if stored.origin != "bot":
        raise bad_request("message can't be edited")
    return stored


def _markup_change(stored: Stored, p: Params) -> JSON:
    """An edit sets the inline keyboard it is given and removes it when given none; a reply
    keyboard is not part of the message and stays."""
    current = stored.message.get("reply_markup")
    new = markup_of(p, inline_only=True)
    if new is None and current is not None and "inline_keyboard" not in current:
        return {}
    return {"reply_markup": new}


def _apply_edit(stored: Stored, changes: dict[str, Any]) -> JSON:
    message = stored.message
    if all(message.get(key) == value for key, value in changes.items()):
        raise bad_request(NOT_MODIFIED)
    for key, value in changes.items():
        if value is None:
            message.pop(key, None)
        else:
            message[key] = value
    message["edit_date"] = now()
    return api_message(message)


# ------------------------------------------------------------------ deleting and pinning


def delete_message(world: World, p: Params) -> bool:
    chat = chat_of(world, p)
    stored = chat.find(p.req_int("message_id", "message identifier is not specified"))
    if stored is None:
        raise bad_request("message to delete not found")
    if not _deletable(world, chat, stored):
        raise bad_request("message can't be deleted")
    stored.deleted = True
    return True


def delete_messages(world: World, p: Params) -> bool:
    chat = chat_of(world, p)
    for message_id in message_ids_of(p, increasing=False):
        stored = chat.find(message_id)
        if stored is not None and _deletable(world, chat, stored):
            stored.deleted = True
    return True


def _deletable(world: World, chat: Chat, stored: Stored) -> bool:
    if "forum_topic_created" in stored.message:
        return False
    if chat.private or stored.origin == "bot":
        return True
    return world.bot_member(chat).can("can_delete_messages")


def pin_chat_message(world: World, p: Params) -> bool:
    chat = _pinning_chat(world, p)
    stored = chat.find(p.req_int("message_id", "message identifier is not specified"))
    if stored is None:
        raise bad_request("message to pin not found")
    if stored.message_id in chat.pinned:
        chat.pinned.remove(stored.message_id)
    chat.pinned.append(stored.message_id)
    return True


def unpin_chat_message(world: World, p: Params) -> bool:
    chat = _pinning_chat(world, p)
    message_id = p.opt_int("message_id") or (chat.pinned[-1] if chat.pinned else None)
    if message_id not in chat.pinned:
        raise bad_request("message to unpin not found")
    chat.pinned.remove(message_id)
    return True


def unpin_all_chat_messages(world: World, p: Params) -> bool:
    _pinning_chat(world, p).pinned.clear()
    return True


def _pinning_chat(world: World, p: Params) -> Chat:
    chat = writable_chat(world, p)
    if not chat.private and not world.bot_member(chat).can("can_pin_messages"):
        raise bad_request("not enough rights to manage pinned messages in the chat")
    return chat


# ------------------------------------------------------------------ callback queries


def answer_callback_query(world: World, p: Params) -> bool:
    state = world.callbacks.get(p.opt_str("callback_query_id") or "")
    if state is None or state.answers:
        raise bad_request(QUERY_TOO_OLD)
    text = p.opt_str("text")
    if text is not None and len(text) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    state.answers.append(
        {
            "text": text,
            "show_alert": p.flag("show_alert"),
            "url": p.opt_str("url"),
            "cache_time": p.opt_int("cache_time") or 0,
        }
    )
    return True


METHODS: dict[str, Handler] = {
    "sendMessage": send_message,
    "sendPhoto": media_sender("photo"),
    "sendDocument": media_sender("document"),
    "sendVideo": media_sender("video"),
    "sendVoice": media_sender("voice"),
    "sendAudio": media_sender("audio"),
    "sendAnimation": media_sender("animation"),
    "sendSticker": media_sender("sticker"),
    "sendVideoNote": media_sender("video_note"),
    "sendContact": send_contact,
    "sendLocation": send_location,
    "sendMediaGroup": send_media_group,
    "copyMessage": copy_message,
    "copyMessages": copy_messages,
    "forwardMessage": forward_message,
    "forwardMessages": forward_messages,
    "editMessageText": edit_message_text,
    "editMessageCaption": edit_message_caption,
    "editMessageReplyMarkup": edit_message_reply_markup,
    "deleteMessage": delete_message,
    "deleteMessages": delete_messages,
    "pinChatMessage": pin_chat_message,
    "unpinChatMessage": unpin_chat_message,
    "unpinAllChatMessages": unpin_all_chat_messages,
    "answerCallbackQuery": answer_callback_query,
}
