"""Message leases: a claimed message records who holds it and until when.

A worker renews its leases while it lives; the reconciler takes back a lease that ran out (on the
database's clock), so a killed worker's messages are sent by another within seconds. Rows claimed before
this revision get a lease a minute past their last update, as the old stuck timeout had it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("messages", sa.Column("claimed_by", sa.String(length=64), nullable=True))
    op.add_column("messages", sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE messages SET lease_until = updated_at + interval '60 seconds' WHERE status = 'sending'"
    )


def downgrade() -> None:
    op.drop_column("messages", "lease_until")
    op.drop_column("messages", "claimed_by")
