"""The routers, by audience, in one explicit order. The audience filters sit on the parent
routers, once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import F, Router
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.types import CallbackQuery, Message

from bot.services.desk import Desk
from bot.settings import Settings
from handlers import errors, setup
from handlers.client import (
    banned,
    common,
    identify,
    messages,
    privacy,
    profile,
    reachability,
    requests,
    tickets,
)
from handlers.managers import export, stats
from handlers.managers.access import ManagerAccessMiddleware
from handlers.operators import actions, commands, group, held, macros
from handlers.operators import messages as operator_messages
from handlers.operators.access import OperatorAccessMiddleware


def _attach(parent: Router, child: Router) -> None:
    """Include a module's router; a router left attached by an earlier Dispatcher in the same
    process (a test that restarts the bot) is detached first."""
    old = child.parent_router
    if old is not None:
        old.sub_routers.remove(child)
        child._parent_router = None
    parent.include_router(child)


def _inline(check: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    async def inline(*args: Any, **kwargs: Any) -> Any:
        return check(*args, **kwargs)

    return inline


def run_checks_inline(router: Router) -> None:
    """aiogram runs a filter that is a plain function, a magic filter (`F.chat.type == ...`)
    included, in a thread of the loop's default executor: a hop there and back (and a wake-up
    of the loop) for every check of every update, several per update. The desk's plain filters
    are attribute lookups and comparisons, so they run inline, as coroutines. Handlers are all
    coroutines already (the desk's tests check it)."""
    for observer in router.observers.values():
        # The observer's own filters (`router.message.filter(...)`) sit on its `_handler`.
        for handler in (observer._handler, *observer.handlers):
            for check in handler.filters or ():
                if not check.awaitable:
                    check.callback = _inline(check.callback)
                    check.awaitable = True
    for sub in router.sub_routers:
        run_checks_inline(sub)


def skip_where_nothing_handles(router: Router) -> frozenset[str]:
    """aiogram walks every router for every update, wrapping middlewares and checking filters
    at each (some twenty microseconds a router), also where nothing can handle the update: the
    group's setup for a client's button, the managers' commands for a callback, the error
    handlers' router for every update. Each router of the desk is left out for the update types
    that neither it nor a router below it has a handler or an outer middleware for, which is
    what aiogram would have found there. Where the router has no outer middleware for the
    update type, its walk goes straight to aiogram's own `_propagate_event`, without the empty
    middleware chain aiogram builds around it for every update (a closure and `functools.wraps`
    a router). Returns those types."""
    used: set[str] = {
        name
        for name, observer in router.observers.items()
        if observer.handlers or observer.outer_middleware
    }
    for sub in router.sub_routers:
        used |= skip_where_nothing_handles(sub)
    handled = frozenset(used)
    propagate = type(router).propagate_event.__get__(router)  # not an earlier build's wrapper

    observers = router.observers
    inner = router._propagate_event

    async def propagate_event(update_type: str, event: Any, **kwargs: Any) -> Any:
        if update_type not in handled:
            return UNHANDLED
        observer = observers.get(update_type)
        if observer is None or observer.outer_middleware:
            return await propagate(update_type, event, **kwargs)
        # What aiogram's propagate_event does when the chain around it is empty.
        kwargs["event_router"] = router
        return await inner(observer=observer, update_type=update_type, event=event, **kwargs)

    router.propagate_event = propagate_event  # type: ignore[method-assign]
    return handled


def in_operator_chat(event: Message | CallbackQuery, desk: Desk) -> bool:
    """The desk's operator group as it is now (it moves when the group becomes a supergroup)."""
    message = event.message if isinstance(event, CallbackQuery) else event
    return message is not None and message.chat.id == desk.operator_chat_id


def in_managers_place(message: Message, settings: Settings) -> bool:
    """A private chat with the bot, or the managers' chat."""
    return message.chat.type == "private" or message.chat.id == settings.manager_chat_id


def build_routers(operator_chat_id: int | None) -> list[Router]:
    # First: a manager's private chat is a private chat, and /stats or /export there from
    # anyone is the managers' (a non-manager is refused, not taken for a client's message).
    managers = Router(name="managers")
    managers.message.filter(in_managers_place)
    managers.message.middleware(ManagerAccessMiddleware())
    for module in (stats, export):
        _attach(managers, module.router)

    clients = Router(name="clients")
    clients.message.filter(F.chat.type == "private")
    clients.edited_message.filter(F.chat.type == "private")
    clients.callback_query.filter(F.message.chat.type == "private")
    for module in (
        reachability,
        banned,
        common,
        profile,
        privacy,
        tickets,
        requests,
        identify,
        messages,
    ):
        _attach(clients, module.router)

    # First of all: /chatid in any group, and the bot added to a group.
    settingup = Router(name="setup")
    _attach(settingup, setup.router)
    routers = [settingup, managers, clients]
    if operator_chat_id is not None:
        # Before the operators' router: no operator needs to have caused these.
        desk_events = Router(name="operator_group")
        desk_events.message.filter(in_operator_chat)
        _attach(desk_events, group.router)
        routers.append(desk_events)
        operators = Router(name="operators")
        operators.message.filter(in_operator_chat)
        operators.edited_message.filter(in_operator_chat)
        operators.callback_query.filter(in_operator_chat)
        access = OperatorAccessMiddleware()
        operators.message.middleware(access)
        operators.edited_message.middleware(access)
        operators.callback_query.middleware(access)
        for module in (held, actions, commands, macros, operator_messages):
            _attach(operators, module.router)
        routers.append(operators)
    top = Router(name="errors")
    _attach(top, errors.router)
    for router in (*routers, top):
        run_checks_inline(router)
        skip_where_nothing_handles(router)
    return [*routers, top]
