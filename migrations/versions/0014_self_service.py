"""Volunteers who join and look after themselves (issue 12).

`signups` keeps what a member of the public filled in at /join until their phone is verified with a
one-time code (`phone_codes`, which also confirms a duplicate sign-up's update and LEAVE); `consents`
records each consent as given (wording, version, time, scope). Volunteers gain how they joined, when
their phone was verified, a pause's end, the yearly availability check, the last expiry reminder and a
permanent delivery failure; credentials remember the nearest expiry reminder sent. New message kinds for
codes, answers to the volunteer's own commands and the reserve's upkeep; a new volunteer status
(inactive) and inbox kinds (unknown_sender, leave).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 13:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geography
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_KINDS = (
    "verification_code",
    "join_link",
    "welcome",
    "self_service",
    "left",
    "expiry_reminder",
    "availability_check",
    "marked_inactive",
    "number_update",
)
VOLUNTEER_TIMES = (
    "phone_verified_at",
    "paused_until",
    "available_confirmed_at",
    "available_asked_at",
    "reminded_at",
    "phone_failed_at",
)


def upgrade() -> None:
    for kind in NEW_KINDS:
        op.execute(f"ALTER TYPE message_kind ADD VALUE IF NOT EXISTS '{kind}'")
    op.execute("ALTER TYPE volunteer_status ADD VALUE IF NOT EXISTS 'inactive'")
    op.execute("ALTER TYPE inbox_kind ADD VALUE IF NOT EXISTS 'unknown_sender'")
    op.execute("ALTER TYPE inbox_kind ADD VALUE IF NOT EXISTS 'leave'")
    _volunteers()
    op.add_column("credentials", sa.Column("expiry_reminded_days", sa.SmallInteger(), nullable=True))
    _consents()
    _signups()
    _phone_codes()


def _volunteers() -> None:
    source = sa.Enum("admin", "signup", name="volunteer_source")
    source.create(op.get_bind())
    op.add_column("volunteers", sa.Column("source", source, server_default="admin", nullable=False))
    for column in VOLUNTEER_TIMES:
        op.add_column("volunteers", sa.Column(column, sa.DateTime(timezone=True), nullable=True))
    op.add_column("volunteers", sa.Column("phone_failure_code", sa.Integer(), nullable=True))


def _consents() -> None:
    op.create_table(
        "consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=True),
        sa.Column("scope", sa.Enum("service", "marketing", name="consent_scope"), nullable=False),
        sa.Column("version", sa.String(length=20), nullable=False),
        sa.Column("wording", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("given_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["volunteer_id"],
            ["volunteers.id"],
            name="fk_consents_volunteer_id_volunteers",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_consents"),
    )
    op.create_index("ix_consents_volunteer_id", "consents", ["volunteer_id"])


def _signups() -> None:
    op.create_table(
        "signups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=43), nullable=False),
        sa.Column("state", sa.Enum("pending", "verified", "expired", name="signup_state"), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("volunteer_id", sa.Integer(), nullable=True),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "location", Geography(geometry_type="POINT", srid=4326, spatial_index=False), nullable=True
        ),
        sa.Column("max_travel_km", sa.Float(), nullable=True),
        sa.Column("consent_version", sa.String(length=20), nullable=False),
        sa.Column("marketing", sa.Boolean(), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["volunteer_id"], ["volunteers.id"], name="fk_signups_volunteer_id_volunteers", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_signups"),
        sa.UniqueConstraint("token", name="uq_signups_token"),
    )
    op.create_index(
        "ix_signups_pending", "signups", ["created_at"], postgresql_where=sa.text("state = 'pending'")
    )
    op.create_index("ix_signups_phone", "signups", ["phone"])


def _phone_codes() -> None:
    op.create_table(
        "phone_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("purpose", sa.Enum("signup", "update", "leave", name="code_purpose"), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=True),
        sa.Column("signup_id", sa.Integer(), nullable=True),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.SmallInteger(), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["signup_id"], ["signups.id"], name="fk_phone_codes_signup_id_signups", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["volunteer_id"],
            ["volunteers.id"],
            name="fk_phone_codes_volunteer_id_volunteers",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_phone_codes"),
    )
    op.create_index("ix_phone_codes_phone_created", "phone_codes", ["phone", "created_at"])
    op.create_index("ix_phone_codes_signup_id", "phone_codes", ["signup_id"])


def downgrade() -> None:
    op.drop_table("phone_codes")
    op.drop_table("signups")
    op.drop_table("consents")
    for name in ("code_purpose", "signup_state", "consent_scope"):
        op.execute(f"DROP TYPE {name}")
    op.drop_column("credentials", "expiry_reminded_days")
    for column in (*VOLUNTEER_TIMES, "phone_failure_code", "source"):
        op.drop_column("volunteers", column)
    op.execute("DROP TYPE volunteer_source")
    # PostgreSQL cannot drop an enum value: rebuild each type without the new ones (rows that used
    # them become the nearest value there was).
    op.execute("UPDATE volunteers SET status = 'paused' WHERE status::text = 'inactive'")
    _rebuild("volunteer_status", "volunteers", "status", ("active", "paused", "opted_out", "erased"))
    op.execute("DELETE FROM inbox_items WHERE kind::text IN ('unknown_sender', 'leave')")
    _rebuild("inbox_kind", "inbox_items", "kind", ("unreadable", "ambiguous", "late", "checkin", "welfare"))
    kinds = ", ".join(f"'{k}'" for k in NEW_KINDS)
    op.execute(f"UPDATE messages SET kind = 'help' WHERE kind::text IN ({kinds})")  # noqa: S608 (constants)
    _rebuild(
        "message_kind",
        "messages",
        "kind",
        (
            "callup",
            "confirmation",
            "not_needed",
            "standdown",
            "declined_ack",
            "ask_reference",
            "help",
            "unknown_reply",
            "no_open_callup",
            "opted_in",
            "reply",
            "update",
            "checkin_ack",
            "welfare_check",
            "coordinator_text",
        ),
    )


def _rebuild(type_name: str, table: str, column: str, values: tuple[str, ...]) -> None:
    listed = ", ".join(f"'{v}'" for v in values)
    op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} DROP DEFAULT")
    op.execute(f"ALTER TYPE {type_name} RENAME TO {type_name}_old")
    op.execute(f"CREATE TYPE {type_name} AS ENUM ({listed})")
    op.execute(
        f"ALTER TABLE {table} ALTER COLUMN {column} TYPE {type_name} USING {column}::text::{type_name}"
    )
    op.execute(f"DROP TYPE {type_name}_old")
