"""reliable core: a version per request for decisions, no unused reply_to_id; a typed outbox
(where a message belongs is the `place` column, not `$`-keys in the payload; dead letters)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 18:00:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


# The payload keys that said where an item belonged before the `place` column.
OLD_PLACE_KEYS = {"$ticket_place": "desk", "$card_of": "card", "$thread_of": "topic"}

outbox = sa.table(
    "outbox",
    sa.column("id", sa.Integer()),
    sa.column("payload", sa.JSON()),
    sa.column("ticket_id", sa.Integer()),
    sa.column("place", sa.String(10)),
    sa.column("status", sa.String(10)),
)


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), server_default="0", nullable=False))
    with op.batch_alter_table("ticket_messages") as batch:
        batch.drop_column("reply_to_id")
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(
            sa.Column("place", sa.String(length=10), server_default="chat", nullable=False)
        )
    _places_from_payload_keys()
    op.execute(outbox.update().where(outbox.c.status == "failed").values(status="dead"))


def _places_from_payload_keys() -> None:
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(outbox.c.id, outbox.c.payload).where(
            sa.cast(outbox.c.payload, sa.Text).like('%"$%')
        )
    ).all()
    for row_id, payload in rows:
        payload = dict(payload or {})
        place = "chat"
        for key, name in OLD_PLACE_KEYS.items():
            if payload.pop(key, None) is not None:
                place = name
        if place == "topic":
            payload.setdefault("message_thread_id", 0)  # filled when sent
        conn.execute(
            outbox.update().where(outbox.c.id == row_id).values(payload=payload, place=place)
        )


def _payload_keys_from_places() -> None:
    conn = op.get_bind()
    keys = {name: key for key, name in OLD_PLACE_KEYS.items()}
    rows = conn.execute(
        sa.select(outbox.c.id, outbox.c.payload, outbox.c.place, outbox.c.ticket_id).where(
            outbox.c.place != "chat"
        )
    ).all()
    for row_id, payload, place, ticket_id in rows:
        restored: dict[str, Any] = dict(payload or {})
        restored[keys[place]] = ticket_id
        if place == "topic" and restored.get("message_thread_id") == 0:
            del restored["message_thread_id"]
        conn.execute(outbox.update().where(outbox.c.id == row_id).values(payload=restored))


def downgrade() -> None:
    op.execute(outbox.update().where(outbox.c.status == "dead").values(status="failed"))
    _payload_keys_from_places()
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("place")
    with op.batch_alter_table("ticket_messages") as batch:
        batch.add_column(sa.Column("reply_to_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("version")
