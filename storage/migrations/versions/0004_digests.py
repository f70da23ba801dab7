"""digests: files in the outbox (a photo or document uploaded with its call), the managers'
daily digest claimed once per day, and indexes on the time columns that statistics read (a
period's figures cost what the period holds, not what the tables hold)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TICKET_TIMES = ("registered_at", "first_response_at", "resolved_at")
TARGET_TIMES = ("met_at", "breached_at")


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("attachment", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("attachment_name", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("attachment_field", sa.String(length=20), nullable=True))
    op.create_table(
        "digests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digests")),
        sa.UniqueConstraint("day", name=op.f("uq_digests_day")),
    )
    with op.batch_alter_table("tickets") as batch:
        for column in TICKET_TIMES:
            batch.create_index(batch.f(f"ix_tickets_{column}"), [column], unique=False)
    with op.batch_alter_table("sla_targets") as batch:
        for column in TARGET_TIMES:
            batch.create_index(batch.f(f"ix_sla_targets_{column}"), [column], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sla_targets") as batch:
        for column in TARGET_TIMES:
            batch.drop_index(batch.f(f"ix_sla_targets_{column}"))
    with op.batch_alter_table("tickets") as batch:
        for column in TICKET_TIMES:
            batch.drop_index(batch.f(f"ix_tickets_{column}"))
    op.drop_table("digests")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("attachment_field")
        batch.drop_column("attachment_name")
        batch.drop_column("attachment")
