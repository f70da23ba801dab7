"""Bot API methods on chats: getChat, members and administrators, chat actions, leaving, and
forum topics."""

from __future__ import annotations

from standin.errors import bad_request
from standin.methods.common import Handler, chat_of, check_present, topic_of, writable_chat
from standin.objects import JSON, TOPIC_COLORS, Chat, Topic
from standin.params import Params
from standin.world import World

_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)


def get_chat(world: World, p: Params) -> JSON:
    return chat_of(world, p).full_info()


def get_chat_member(world: World, p: Params) -> JSON:
    chat = chat_of(world, p)
    user_id = p.req_int("user_id", "user_id is empty")
    if user_id != world.bot_id and user_id not in world.users:
        raise bad_request("user not found")
    return world.member_object(chat, user_id)


def get_chat_administrators(world: World, p: Params) -> list[JSON]:
    chat = chat_of(world, p)
    if chat.private:
        raise bad_request("there are no administrators in the private chat")
    admins = [
        user_id
        for user_id, member in chat.members.items()
        if member.status in ("creator", "administrator")
    ]
    return [world.member_object(chat, user_id) for user_id in admins]


def get_chat_member_count(world: World, p: Params) -> int:
    chat = chat_of(world, p)
    if chat.private:
        return 2
    return sum(member.present for member in chat.members.values())


def leave_chat(world: World, p: Params) -> bool:
    chat = chat_of(world, p)
    if chat.private:
        raise bad_request("chat member status can't be changed in private chats")
    check_present(world, chat)
    world.set_member_status(chat.id, world.bot_id, "left")
    return True


def send_chat_action(world: World, p: Params) -> bool:
    chat = writable_chat(world, p)
    topic_of(world, chat, p, general_ok=True)
    if p.opt_str("action") not in _ACTIONS:
        raise bad_request("wrong parameter action in request")
    return True


# ------------------------------------------------------------------ forum topics


def _forum(world: World, p: Params) -> Chat:
    chat = chat_of(world, p)
    check_present(world, chat)
    if not chat.is_forum:
        raise bad_request("the chat is not a forum")
    return chat


def _topic(chat: Chat, p: Params) -> Topic:
    topic = chat.live_topic(p.req_int("message_thread_id", "message thread not found"))
    if topic is None:
        raise bad_request("message thread not found")
    return topic


def _managed_topic(world: World, p: Params) -> tuple[Chat, Topic]:
    """A topic the bot may edit/close: it manages topics or created this one."""
    chat = _forum(world, p)
    topic = _topic(chat, p)
    if topic.creator_id != world.bot_id and not world.bot_member(chat).can("can_manage_topics"):
        raise bad_request("not enough rights to manage the topic")
    return chat, topic


def create_forum_topic(world: World, p: Params) -> JSON:
    chat = _forum(world, p)
    if not world.bot_member(chat).can("can_manage_topics"):
        raise bad_request("not enough rights to create a topic")
    name = (p.opt_str("name") or "").strip()
    if not name:
        raise bad_request("TOPIC_TITLE_EMPTY")
    if len(name) > 128:
        raise bad_request("TOPIC_TITLE_INVALID")
    color = p.opt_int("icon_color") or TOPIC_COLORS[0]
    if color not in TOPIC_COLORS:
        raise bad_request("TOPIC_ICON_COLOR_INVALID")
    emoji = p.opt_str("icon_custom_emoji_id") or None
    stored = world.create_topic(chat, name, color, emoji, creator=world.bot_user)
    return chat.topics[stored.message_id].forum_topic()


def edit_forum_topic(world: World, p: Params) -> bool:
    chat, topic = _managed_topic(world, p)
    name = p.opt_str("name")
    emoji = p.opt_str("icon_custom_emoji_id")
    renamed = name is not None and name.strip() != "" and name != topic.name
    new_icon = emoji is not None and emoji != (topic.icon_custom_emoji_id or "")
    if not renamed and not new_icon:
        raise bad_request("TOPIC_NOT_MODIFIED")
    edited: JSON = {}
    if renamed and name is not None:
        if len(name) > 128:
            raise bad_request("TOPIC_TITLE_INVALID")
        topic.name = edited["name"] = name
    if new_icon:
        topic.icon_custom_emoji_id = emoji or None
        edited["icon_custom_emoji_id"] = emoji
    _service(world, chat, topic, {"forum_topic_edited": edited})
    return True


def close_forum_topic(world: World, p: Params) -> bool:
    return _set_closed(world, p, closed=True)


def reopen_forum_topic(world: World, p: Params) -> bool:
    return _set_closed(world, p, closed=False)


def _set_closed(world: World, p: Params, *, closed: bool) -> bool:
    chat, topic = _managed_topic(world, p)
    if topic.closed == closed:
        raise bad_request("TOPIC_NOT_MODIFIED")
    topic.closed = closed
    kind = "forum_topic_closed" if closed else "forum_topic_reopened"
    _service(world, chat, topic, {kind: {}})
    return True


def delete_forum_topic(world: World, p: Params) -> bool:
    chat = _forum(world, p)
    topic = _topic(chat, p)
    if not world.bot_member(chat).can("can_delete_messages"):
        raise bad_request("not enough rights to delete the topic")
    world.remove_topic(chat, topic)
    return True


def unpin_all_forum_topic_messages(world: World, p: Params) -> bool:
    _topic(_forum(world, p), p)
    return True


def get_forum_topic_icon_stickers(world: World, p: Params) -> list[JSON]:
    return []


def _service(world: World, chat: Chat, topic: Topic, content: JSON) -> None:
    world.post(chat, content, sender=world.bot_user, origin="service", topic=topic)


METHODS: dict[str, Handler] = {
    "getChat": get_chat,
    "getChatMember": get_chat_member,
    "getChatAdministrators": get_chat_administrators,
    "getChatMemberCount": get_chat_member_count,
    "leaveChat": leave_chat,
    "sendChatAction": send_chat_action,
    "createForumTopic": create_forum_topic,
    "editForumTopic": edit_forum_topic,
    "closeForumTopic": close_forum_topic,
    "reopenForumTopic": reopen_forum_topic,
    "deleteForumTopic": delete_forum_topic,
    "unpinAllForumTopicMessages": unpin_all_forum_topic_messages,
    "getForumTopicIconStickers": get_forum_topic_icon_stickers,
}
