"""Indexes for keeping the reserve alive: expiry reminders and the yearly availability check.

The reconciler looks for due reminders and checks every pass, so each look is one range of a partial
index that holds only the rows it may concern: credentials not yet reminded 7 days before expiry (by
the last reminder and the expiry date), active volunteers not yet asked (by when they last confirmed,
or joined), and active volunteers asked and not answered (by when they were asked).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_credentials_reminder_due",
        "credentials",
        ["expiry_reminded_days", "expires_on"],
        postgresql_where=sa.text(
            "expires_on IS NOT NULL AND (expiry_reminded_days IS NULL OR expiry_reminded_days > 7)"
        ),
    )
    op.create_index(
        "ix_volunteers_availability_due",
        "volunteers",
        ["available_confirmed_at", "created_at"],
        postgresql_where=sa.text("status = 'active' AND available_asked_at IS NULL"),
    )
    op.create_index(
        "ix_volunteers_availability_asked",
        "volunteers",
        ["available_asked_at"],
        postgresql_where=sa.text("status = 'active' AND available_asked_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_volunteers_availability_asked", table_name="volunteers")
    op.drop_index("ix_volunteers_availability_due", table_name="volunteers")
    op.drop_index("ix_credentials_reminder_due", table_name="credentials")
