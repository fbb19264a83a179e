"""The coordinator's console: an inbox of what a person must read, and the record of a deployment.

Call-ups keep what the volunteer told us during a deployment (ETA, check-in word, arrived, done) and
the welfare check after it; an incident keeps why it was closed; `inbox_items` holds every reply the
system did not act on by itself until a coordinator resolves it.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 05:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CALLOUT_TIMES = ("checkin_at", "arrived_at", "done_at", "welfare_asked_at", "welfare_ok_at")
INBOX_KINDS = ("unreadable", "ambiguous", "late", "checkin", "welfare")


def upgrade() -> None:
    op.add_column("callouts", sa.Column("eta_minutes", sa.Integer(), nullable=True))
    op.add_column("callouts", sa.Column("checkin", sa.String(length=20), nullable=True))
    for column in CALLOUT_TIMES:
        op.add_column("callouts", sa.Column(column, sa.DateTime(timezone=True), nullable=True))
    op.add_column("incidents", sa.Column("close_reason", sa.String(length=300), nullable=True))
    op.create_table(
        "inbox_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Enum(*INBOX_KINDS, name="inbox_kind"), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("volunteer_id", sa.Integer(), nullable=True),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("callout_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("handled_by", sa.String(length=120), nullable=True),
        sa.Column("resolution", sa.String(length=20), nullable=True),
        sa.Column("resolution_detail", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.ForeignKeyConstraint(
            ["callout_id"], ["callouts.id"], name="fk_inbox_items_callout_id_callouts", ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name="fk_inbox_items_incident_id_incidents", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name="fk_inbox_items_message_id_messages", ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["volunteer_id"], ["volunteers.id"], name="fk_inbox_items_volunteer_id_volunteers"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_inbox_items"),
    )
    op.create_index(
        "ix_inbox_items_open", "inbox_items", ["created_at"], postgresql_where=sa.text("handled_at IS NULL")
    )
    op.create_index("ix_inbox_items_incident", "inbox_items", ["incident_id"])


def downgrade() -> None:
    op.drop_index("ix_inbox_items_incident", table_name="inbox_items")
    op.drop_index("ix_inbox_items_open", table_name="inbox_items")
    op.drop_table("inbox_items")
    sa.Enum(name="inbox_kind").drop(op.get_bind(), checkfirst=True)
    op.drop_column("incidents", "close_reason")
    for column in reversed(CALLOUT_TIMES):
        op.drop_column("callouts", column)
    op.drop_column("callouts", "checkin")
    op.drop_column("callouts", "eta_minutes")
