"""the quality guard's held answers and the operators' saved answers (macros)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "held_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("author_id", sa.BigInteger(), nullable=False),
        sa.Column("author_name", sa.String(length=300), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("reply_to", sa.BigInteger(), nullable=True),
        sa.Column("content_type", sa.String(length=30), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("file_id", sa.String(length=300), nullable=True),
        sa.Column("file_name", sa.String(length=300), nullable=True),
        sa.Column("media_group_id", sa.String(length=100), nullable=True),
        sa.Column("edited_message_id", sa.Integer(), nullable=True),
        sa.Column("macro", sa.String(length=64), nullable=True),
        sa.Column("findings", sa.JSON(), nullable=False),
        sa.Column("decided_by", sa.BigInteger(), nullable=True),
        sa.Column("decided_by_name", sa.String(length=300), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_held_answers_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["edited_message_id"],
            ["ticket_messages.id"],
            name=op.f("fk_held_answers_edited_message_id_ticket_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_held_answers")),
    )
    with op.batch_alter_table("held_answers") as batch:
        batch.create_index("ix_held_answers_source", ["chat_id", "message_id"], unique=False)
        batch.create_index(batch.f("ix_held_answers_ticket_id"), ["ticket_id"], unique=False)
    op.create_table(
        "macros",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("text_ru", sa.Text(), nullable=True),
        sa.Column("text_uz", sa.Text(), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=False),
        sa.Column("created_by_name", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_macros")),
        sa.UniqueConstraint("key", name=op.f("uq_macros_key")),
    )


def downgrade() -> None:
    op.drop_table("macros")
    with op.batch_alter_table("held_answers") as batch:
        batch.drop_index(batch.f("ix_held_answers_ticket_id"))
        batch.drop_index("ix_held_answers_source")
    op.drop_table("held_answers")
