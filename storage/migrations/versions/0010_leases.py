"""leases: named leases in the database decide which of several bot processes runs a scheduled
job or handles a chat's updates; an index finds a chat's pending updates

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23 23:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")),
    )
    op.create_index("ix_inbox_chat_pending", "inbox", ["chat_key", "status", "update_id"])


def downgrade() -> None:
    op.drop_index("ix_inbox_chat_pending", table_name="inbox")
    op.drop_table("leases")
