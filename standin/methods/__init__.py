"""The Bot API methods the stand-in knows, by name (Telegram matches names case-insensitively).
Each handler takes the world and the decoded parameters and returns the `result` or raises
ApiError."""

from __future__ import annotations

from standin.methods import account, chats, messages
from standin.methods.common import Handler

METHODS: dict[str, Handler] = {**account.METHODS, **chats.METHODS, **messages.METHODS}
# Answered by the server itself because they wait or touch the connection.
SERVER_METHODS = frozenset({"getUpdates"})
KNOWN = frozenset(name.lower() for name in (*METHODS, *SERVER_METHODS))
_BY_LOWER = {name.lower(): handler for name, handler in METHODS.items()}


def handler_for(method: str) -> Handler | None:
    return _BY_LOWER.get(method.lower())


__all__ = ["KNOWN", "METHODS", "SERVER_METHODS", "Handler", "handler_for"]
