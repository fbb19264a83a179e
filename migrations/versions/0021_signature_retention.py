"""Webhook signatures are forgotten after their replay window (app/webhook/signature.py forget_old):
an index on when each was received lets the reconciler find the old ones without reading the table.

Revision ID: 0021
Revises: 0017
Create Date: 2026-12-03 07:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_webhook_signatures_received_at", "webhook_signatures", ["received_at"])


def downgrade() -> None:
    op.drop_index("ix_webhook_signatures_received_at", table_name="webhook_signatures")
