"""Webhook signatures already accepted (a captured one cannot be used again); inbound SMS stored and
not yet acted on; unapplied receipts found by index, so webhooks store and answer and the consequences
follow right after.

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-01 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "webhook_signatures",
        sa.Column("signature", sa.String(100), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("signature", name="pk_webhook_signatures"),
    )
    op.create_table(
        "inbound_pending",
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=True),
        sa.Column("opt_out_type", sa.String(10), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name="fk_inbound_pending_message_id_messages",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("message_id", name="pk_inbound_pending"),
    )
    op.create_index("ix_inbound_pending_volunteer", "inbound_pending", ["volunteer_id", "message_id"])
    op.create_index(
        "ix_receipts_unapplied", "receipts", ["provider_sid"], postgresql_where=sa.text("NOT applied")
    )


def downgrade() -> None:
    op.drop_index("ix_receipts_unapplied", table_name="receipts")
    op.drop_index("ix_inbound_pending_volunteer", table_name="inbound_pending")
    op.drop_table("inbound_pending")
    op.drop_table("webhook_signatures")
