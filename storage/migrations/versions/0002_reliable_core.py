"""reliable core: a version per request for decisions, no unused reply_to_id

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), server_default="0", nullable=False))
    with op.batch_alter_table("ticket_messages") as batch:
        batch.drop_column("reply_to_id")


def downgrade() -> None:
    with op.batch_alter_table("ticket_messages") as batch:
        batch.add_column(sa.Column("reply_to_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("version")
