"""queue index: each request keeps its nearest unmet deadline, so /queue and /mine read the
nearest first through an index instead of loading every open request

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 22:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE tickets SET next_due_at = (SELECT min(t.due_at) FROM sla_targets t "
        "WHERE t.ticket_id = tickets.id AND t.met_at IS NULL AND t.due_at IS NOT NULL) "
        "WHERE status IN ('new', 'in_progress', 'waiting')"
    )
    op.create_index("ix_tickets_queue", "tickets", ["next_due_at", "number"])
    op.create_index(
        "ix_tickets_assignee_queue", "tickets", ["assignee_id", "next_due_at", "number"]
    )
    op.create_index("ix_tickets_assignee_status", "tickets", ["assignee_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_tickets_assignee_status", table_name="tickets")
    op.drop_index("ix_tickets_assignee_queue", table_name="tickets")
    op.drop_index("ix_tickets_queue", table_name="tickets")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("next_due_at")
