"""A coordinator's update to everyone confirmed (and a moved rendezvous) is its own kind of message.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 05:45:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("ALTER TYPE message_kind ADD VALUE IF NOT EXISTS 'update'")


def downgrade() -> None:
    # PostgreSQL cannot drop one value of an enum: rebuild the type without it (updates sent are kept,
    # as stand-downs' kind, the nearest there was).
    op.execute("UPDATE messages SET kind = 'standdown' WHERE kind = 'update'")
    op.execute("ALTER TYPE message_kind RENAME TO message_kind_old")
    op.execute(
        "CREATE TYPE message_kind AS ENUM ('callup', 'confirmation', 'not_needed', 'standdown', "
        "'declined_ack', 'ask_reference', 'help', 'unknown_reply', 'no_open_callup', 'opted_in', 'reply')"
    )
    op.execute("ALTER TABLE messages ALTER COLUMN kind TYPE message_kind USING kind::text::message_kind")
    op.execute("DROP TYPE message_kind_old")
