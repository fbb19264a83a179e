"""Message kinds for the replies a deployment brings: a check-in's acknowledgement, the welfare check,
and a coordinator's own text from the inbox; an index of the welfare checks still waiting for an OK.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_KINDS = ("checkin_ack", "welfare_check", "coordinator_text")


def upgrade() -> None:
    for kind in NEW_KINDS:
        op.execute(f"ALTER TYPE message_kind ADD VALUE IF NOT EXISTS '{kind}'")
    op.create_index(
        "ix_callouts_welfare_pending",
        "callouts",
        ["welfare_asked_at"],
        postgresql_where=sa.text("welfare_asked_at IS NOT NULL AND welfare_ok_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_callouts_welfare_pending", table_name="callouts")
    # PostgreSQL cannot drop an enum value: rebuild the type without them (their messages are kept,
    # as the nearest kind there was: an informational text).
    op.execute(
        "UPDATE messages SET kind = 'help' WHERE kind::text IN ('checkin_ack', 'welfare_check', 'coordinator_text')"
    )
    op.execute("ALTER TYPE message_kind RENAME TO message_kind_old")
    old = (
        "'callup', 'confirmation', 'not_needed', 'standdown', 'declined_ack', 'ask_reference', 'help', "
        "'unknown_reply', 'no_open_callup', 'opted_in', 'reply', 'update'"
    )
    op.execute(f"CREATE TYPE message_kind AS ENUM ({old})")
    op.execute("ALTER TABLE messages ALTER COLUMN kind TYPE message_kind USING kind::text::message_kind")
    op.execute("DROP TYPE message_kind_old")
