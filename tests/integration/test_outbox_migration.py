"""Rows queued before the typed outbox: the `$`-keys that said where an item belonged become the
`place` column (and come back on a downgrade); "failed" items become dead letters."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.services.outgoing import load_method
from storage.db import downgrade, upgrade

NOW = datetime(2026, 3, 17, 6, 0, tzinfo=UTC)
DESK = -100123

OLD_ROWS: list[tuple[str, dict[str, Any], str]] = [
    ("sendMessage", {"chat_id": 42, "text": "plain"}, "sent"),
    ("sendMessage", {"chat_id": DESK, "text": "note", "$ticket_place": 7}, "pending"),
    ("editMessageText", {"chat_id": DESK, "text": "card", "$card_of": 7}, "pending"),
    ("editForumTopic", {"chat_id": DESK, "name": "№1001", "$thread_of": 7}, "pending"),
    ("copyMessage", {"chat_id": 42, "from_chat_id": DESK, "message_id": 3}, "failed"),
]


async def outbox(engine: AsyncEngine) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        result = await conn.execute(text("SELECT * FROM outbox ORDER BY id"))
        found = [dict(row._mapping) for row in result]
    for row in found:
        if isinstance(row["payload"], str):
            row["payload"] = json.loads(row["payload"])
    return found


async def test_old_rows_get_their_place_and_status(engine: AsyncEngine) -> None:
    await upgrade(engine, "0001")
    async with engine.begin() as conn:
        for method, payload, status in OLD_ROWS:
            await conn.execute(
                text(
                    "INSERT INTO outbox (chat_id, method, payload, ticket_id, purpose, status,"
                    " attempts, not_before, created_at)"
                    " VALUES (:chat, :method, :payload, :ticket, 'notice', :status, 0, :now, :now)"
                ),
                {
                    "chat": payload["chat_id"],
                    "method": method,
                    "payload": json.dumps(payload),
                    "ticket": 7,
                    "status": status,
                    "now": NOW.replace(tzinfo=None) if engine.dialect.name == "sqlite" else NOW,
                },
            )

    await upgrade(engine)
    rows = await outbox(engine)
    assert [(r["place"], r["status"]) for r in rows] == [
        ("chat", "sent"),
        ("desk", "pending"),
        ("card", "pending"),
        ("topic", "pending"),
        ("chat", "dead"),
    ]
    assert not [key for r in rows for key in r["payload"] if key.startswith("$")]
    assert rows[3]["payload"]["message_thread_id"] == 0  # filled when sent
    for row in rows:
        load_method(row["method"], row["payload"])  # every one builds

    await downgrade(engine, "0001")
    assert [(r["payload"], r["status"]) for r in await outbox(engine)] == [
        (payload, status) for _method, payload, status in OLD_ROWS
    ]
