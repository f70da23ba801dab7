"""The routers as the bot builds them: no check or handler leaves the event loop.

aiogram runs a plain-function filter (a magic filter such as `F.chat.type == "private"` too)
and a plain-function handler in a thread of the default executor; handlers.run_checks_inline
makes the desk's filters coroutines, and the handlers are written as coroutines."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from aiogram import F, Router
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.dispatcher.event.handler import FilterObject, HandlerObject

from handlers import build_routers, run_checks_inline, skip_where_nothing_handles


def everything(router: Router) -> list[tuple[str, HandlerObject | FilterObject]]:
    found: list[tuple[str, HandlerObject | FilterObject]] = []
    for name, observer in router.observers.items():
        for handler in (observer._handler, *observer.handlers):
            found += [(f"{router.name}.{name} filter", check) for check in handler.filters or ()]
        found += [(f"{router.name}.{name} handler", handler) for handler in observer.handlers]
    for sub in router.sub_routers:
        found += everything(sub)
    return found


@pytest.mark.parametrize("operator_chat_id", [-1001, None])
def test_every_filter_and_handler_runs_on_the_loop(operator_chat_id: int | None) -> None:
    found = [item for router in build_routers(operator_chat_id) for item in everything(router)]
    # The desk has plain filters (the audience checks, magic filters): they are all made inline.
    assert sum(1 for where, _ in found if where.endswith("filter")) > 20
    assert [where for where, item in found if not item.awaitable] == []


async def test_an_inline_check_keeps_its_answer_and_its_arguments() -> None:
    router = Router(name="probe")
    calls: list[dict[str, Any]] = []

    def plain(event: Any, flag: int) -> bool:
        calls.append({"flag": flag, "thread": threading.get_ident()})
        return flag > 0

    router.message.filter(F.text == "yes")
    router.message.register(lambda *a: None, plain)
    run_checks_inline(router)
    magic = router.message._handler.filters[0]  # type: ignore[index]
    check = router.message.handlers[0].filters[0]  # type: ignore[index]
    assert magic.awaitable and check.awaitable

    class Event:
        text = "yes"

    assert await magic.call(Event()) is True
    assert await check.call(Event(), flag=1, other="ignored") is True
    assert await check.call(Event(), flag=0) is False
    assert [c["flag"] for c in calls] == [1, 0]
    # Run inline: in the loop's own thread, not in the default executor.
    assert {c["thread"] for c in calls} == {threading.get_ident()}


async def test_routers_with_nothing_for_an_update_type_are_not_walked() -> None:
    looked: list[str] = []

    def looking(name: str) -> Any:
        def check(event: Any) -> bool:
            looked.append(name)
            return True

        return check

    async def handle(event: Any) -> str:
        return "handled"

    top, buttons, texts, watched = (Router(name=n) for n in ("top", "buttons", "texts", "watched"))
    top.callback_query.filter(looking("top"))
    top.message.filter(looking("top"))
    buttons.callback_query.filter(looking("buttons"))
    buttons.callback_query.register(handle)
    texts.message.filter(looking("texts"))
    texts.callback_query.filter(looking("texts"))  # a filter alone handles nothing
    texts.message.register(handle)
    outer: list[str] = []

    async def middleware(handler: Any, event: Any, data: dict[str, Any]) -> Any:
        outer.append("watched")
        return await handler(event, data)

    watched.edited_message.outer_middleware(middleware)
    top.include_routers(texts, buttons, watched)
    assert skip_where_nothing_handles(top) == {"message", "callback_query", "edited_message"}

    assert await top.propagate_event(update_type="callback_query", event=object()) == "handled"
    assert looked == ["top", "buttons"]  # not "texts": it has no button handler
    looked.clear()
    assert await top.propagate_event(update_type="message", event=object()) == "handled"
    assert looked == ["top", "texts"]
    looked.clear()
    assert await top.propagate_event(update_type="poll", event=object()) is UNHANDLED
    assert looked == []
    # An outer middleware is run as aiogram runs it, even where no handler is.
    assert await top.propagate_event(update_type="edited_message", event=object()) is UNHANDLED
    assert outer == ["watched"]


async def test_a_router_without_outer_middleware_is_walked_without_the_empty_chain() -> None:
    """The handler gets what aiogram's own walk gives it (the router it is in included), and
    no middleware chain is built where there is no middleware."""
    got: dict[str, Any] = {}

    async def handle(event: Any, event_router: Router, extra: str) -> str:
        got.update(event_router=event_router, extra=extra)
        return "handled"

    top, leaf = Router(name="top"), Router(name="leaf")
    leaf.message.register(handle)
    top.include_router(leaf)
    skip_where_nothing_handles(top)
    chains: list[Any] = []
    for router in (top, leaf):
        observer = router.message
        real = observer.wrap_outer_middleware

        def counted(*args: Any, real: Any = real, **kwargs: Any) -> Any:
            chains.append(args)
            return real(*args, **kwargs)

        observer.wrap_outer_middleware = counted  # type: ignore[method-assign]
    result = await top.propagate_event(update_type="message", event=object(), extra="x")
    assert result == "handled"
    assert got == {"event_router": leaf, "extra": "x"}
    assert chains == []


def test_the_desks_routers_are_walked_only_for_what_they_handle() -> None:
    setup, managers, clients, group, operators, errors = build_routers(-1001)
    assert skip_where_nothing_handles(group) == {"message"}
    # Built again (a restarted bot in the same process): the sets are the new build's.
    assert skip_where_nothing_handles(setup) == {"message", "my_chat_member"}
    assert skip_where_nothing_handles(managers) == {"message"}
    assert "callback_query" in skip_where_nothing_handles(clients)
    assert skip_where_nothing_handles(errors) == {"error"}
    assert "error" not in skip_where_nothing_handles(operators)
