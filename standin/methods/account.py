"""Bot API methods on the bot itself: getMe, webhooks, commands, menu button, name and
descriptions, and files. getUpdates lives in the server (it waits)."""

from __future__ import annotations

import copy
import re

from standin.errors import bad_request
from standin.files import file_object
from standin.methods.common import Handler, chat_of
from standin.objects import ADMIN_RIGHTS, JSON
from standin.params import Params
from standin.world import World, scope_key

_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")
_DOWNLOAD_LIMIT = 20 * 1024 * 1024
# setMyName & co: (parameter, maximum length)
_TEXTS = {"Name": ("name", 64), "Description": ("description", 512)}
_TEXTS["ShortDescription"] = ("short_description", 120)


def get_me(world: World, p: Params) -> JSON:
    return copy.deepcopy(world.bot_user)


def ok(world: World, p: Params) -> bool:
    return True


_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")


def set_webhook(world: World, p: Params) -> bool:
    url = p.opt_str("url") or ""
    if url and not url.startswith("https://"):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    secret = p.opt_str("secret_token")
    if secret is not None and not _SECRET_TOKEN.fullmatch(secret):
        raise bad_request("bad webhook: secret token contains unallowed characters")
    max_connections = p.opt_int("max_connections") or 40
    if not 1 <= max_connections <= 100:
        raise bad_request("bad webhook: max_connections must be between 1 and 100")
    world.settings["webhook"] = url or None
    world.settings["webhook_secret"] = secret if url else None
    world.settings["webhook_max_connections"] = max_connections
    if "allowed_updates" in p:
        world.allowed_updates = p.opt_list("allowed_updates") or None
    if url and p.flag("drop_pending_updates"):
        world.drop_pending_updates()
    return True


def delete_webhook(world: World, p: Params) -> bool:
    world.settings["webhook"] = None
    if p.flag("drop_pending_updates"):
        world.drop_pending_updates()
    return True


def get_webhook_info(world: World, p: Params) -> JSON:
    info: JSON = {
        "url": world.settings["webhook"] or "",
        "has_custom_certificate": False,
        "pending_update_count": len(world.pending_updates()),
    }
    if world.settings["webhook"]:
        info["max_connections"] = world.settings.get("webhook_max_connections", 40)
        if world.settings.get("webhook_error"):
            info["last_error_date"], info["last_error_message"] = world.settings["webhook_error"]
    if world.allowed_updates:
        info["allowed_updates"] = list(world.allowed_updates)
    return info


def set_my_commands(world: World, p: Params) -> bool:
    commands = p.opt_list("commands")
    if commands is None:
        raise bad_request("commands is empty")
    if len(commands) > 100:
        raise bad_request("too many commands specified")
    for command in commands:
        _check_command(command)
    key = (scope_key(p.opt_dict("scope")), p.opt_str("language_code") or "")
    world.commands[key] = [
        {"command": c["command"], "description": c["description"]} for c in commands
    ]
    return True


def _check_command(command: object) -> None:
    if not isinstance(command, dict) or not _COMMAND.match(str(command.get("command", ""))):
        raise bad_request("BOT_COMMAND_INVALID")
    if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
        raise bad_request("command description must be 1-256 characters long")


def get_my_commands(world: World, p: Params) -> list[JSON]:
    return world.my_commands(p.opt_dict("scope"), p.opt_str("language_code") or "")


def delete_my_commands(world: World, p: Params) -> bool:
    key = (scope_key(p.opt_dict("scope")), p.opt_str("language_code") or "")
    world.commands.pop(key, None)
    return True


def set_chat_menu_button(world: World, p: Params) -> bool:
    chat_id = chat_of(world, p).id if "chat_id" in p else 0
    world.settings["menu_button"][chat_id] = p.opt_dict("menu_button") or {"type": "default"}
    return True


def get_chat_menu_button(world: World, p: Params) -> JSON:
    chat_id = chat_of(world, p).id if "chat_id" in p else 0
    buttons = world.settings["menu_button"]
    return copy.deepcopy(buttons.get(chat_id) or buttons.get(0) or {"type": "default"})


def text_setter(what: str) -> Handler:
    """setMyName, setMyDescription, setMyShortDescription (per language_code)."""
    param, limit = _TEXTS[what]

    def handler(world: World, p: Params) -> bool:
        value = p.opt_str(param) or ""
        if len(value) > limit:
            raise bad_request(f"{param} is too long")
        world.settings["texts"][(param, p.opt_str("language_code") or "")] = value
        return True

    return handler


def text_getter(what: str) -> Handler:
    param, _ = _TEXTS[what]

    def handler(world: World, p: Params) -> JSON:
        texts = world.settings["texts"]
        language = p.opt_str("language_code") or ""
        value = texts.get((param, language), texts.get((param, ""), ""))
        if param == "name" and not value:
            value = world.bot_user["first_name"]
        return {param: value}

    return handler


def get_default_administrator_rights(world: World, p: Params) -> JSON:
    return {"is_anonymous": False} | ADMIN_RIGHTS


def get_file(world: World, p: Params) -> JSON:
    stored = world.files.get(p.opt_str("file_id") or "")
    if stored is None:
        raise bad_request("invalid file_id")
    if stored.size > _DOWNLOAD_LIMIT:
        raise bad_request("file is too big")
    return file_object(stored)


METHODS: dict[str, Handler] = {
    "getMe": get_me,
    "logOut": ok,
    "close": ok,
    "setWebhook": set_webhook,
    "deleteWebhook": delete_webhook,
    "getWebhookInfo": get_webhook_info,
    "setMyCommands": set_my_commands,
    "getMyCommands": get_my_commands,
    "deleteMyCommands": delete_my_commands,
    "setChatMenuButton": set_chat_menu_button,
    "getChatMenuButton": get_chat_menu_button,
    "setMyDefaultAdministratorRights": ok,
    "getMyDefaultAdministratorRights": get_default_administrator_rights,
    "getFile": get_file,
}
for _what in _TEXTS:
    METHODS[f"setMy{_what}"] = text_setter(_what)
    METHODS[f"getMy{_what}"] = text_getter(_what)
