"""an index on ticket_pauses.ticket_id: loading a request reads its pauses by it

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 19:20:00
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_ticket_pauses_ticket_id", "ticket_pauses", ["ticket_id"])


def downgrade() -> None:
    op.drop_index("ix_ticket_pauses_ticket_id", table_name="ticket_pauses")
