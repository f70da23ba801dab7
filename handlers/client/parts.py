"""A snapshot of a client's message: what is needed to store it and relay it later."""

from __future__ import annotations

from aiogram.types import Message

from bot.services.drafts import Part

# What a request may carry; stickers, locations, polls and the like are politely refused.
ACCEPTED = ("text", "photo", "document", "video", "voice", "audio", "video_note", "animation")
# What a person can write that a request cannot carry (as opposed to service messages, such as
# a pin or a closed topic, which are no one's words and get no answer).
REFUSED = frozenset(
    {"sticker", "location", "venue", "contact", "poll", "dice", "game", "story", "paid_media"}
)


def is_service(message: Message) -> bool:
    kind = str(getattr(message.content_type, "value", message.content_type))
    return kind not in ACCEPTED and kind not in REFUSED


def snapshot(message: Message) -> Part | None:
    kind = str(getattr(message.content_type, "value", message.content_type))
    if kind not in ACCEPTED:
        return None
    file_id = file_name = None
    if message.photo:
        file_id = message.photo[-1].file_id
    elif message.document:
        file_id, file_name = message.document.file_id, message.document.file_name
    else:
        for media in (
            message.video,
            message.voice,
            message.audio,
            message.video_note,
            message.animation,
        ):
            if media is not None:
                file_id = media.file_id
                break
    return Part(
        chat_id=message.chat.id,
        message_id=message.message_id,
        content_type=kind,
        text=message.text or message.caption,
        file_id=file_id,
        file_name=file_name,
        media_group_id=message.media_group_id,
    )
