"""The routers as the bot builds them: no check or handler leaves the event loop.

aiogram runs a plain-function filter (a magic filter such as `F.chat.type == "private"` too)
and a plain-function handler in a thread of the default executor; handlers.run_checks_inline
makes the desk's filters coroutines, and the handlers are written as coroutines."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from aiogram import F, Router
from aiogram.dispatcher.event.handler import FilterObject, HandlerObject

from handlers import build_routers, run_checks_inline


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
