"""The code that confirms LEAVE is its own message kind, sent with the answers to volunteers' texts
rather than behind the queue of sign-up codes, so a surge of people joining does not hold it up.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 07:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("ALTER TYPE message_kind ADD VALUE IF NOT EXISTS 'leave_code'")


def downgrade() -> None:
    # PostgreSQL cannot drop a value from an enum type; an unused value is harmless.
    pass
