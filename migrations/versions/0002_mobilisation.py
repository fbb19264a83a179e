"""Mobilisation: incidents, needs, call-ups, messages and delivery receipts.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 19:44:29.682047
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geography

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_geospatial_table(
        "incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "flood", "storm", "wildfire", "heatwave", "search", "pollution", "other", name="incident_kind"
            ),
            nullable=False,
        ),
        sa.Column(
            "area",
            Geography(
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeogFromText",
                name="geography",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("radius_km", sa.Float(), nullable=False),
        sa.Column("place", sa.String(length=120), nullable=False),
        sa.Column("exercise", sa.Boolean(), nullable=False),
        sa.Column(
            "rendezvous_point",
            Geography(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeogFromText",
                name="geography",
            ),
            nullable=True,
        ),
        sa.Column("rendezvous_text", sa.String(length=200), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("status", sa.Enum("open", "closed", name="incident_status"), nullable=False),
        sa.Column("overask", sa.Float(), nullable=False),
        sa.Column("wave_timeout_s", sa.Integer(), nullable=False),
        sa.Column("max_radius_km", sa.Float(), nullable=False),
        sa.Column("next_wave_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("radius_km >= 0", name=op.f("ck_incidents_radius_nonnegative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
    )
    op.create_geospatial_index(
        "ix_incidents_area", "incidents", ["area"], unique=False, postgresql_using="gist", postgresql_ops={}
    )
    op.create_index(op.f("ix_incidents_status"), "incidents", ["status"], unique=False)
    op.create_table(
        "receipts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_sid", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("applied", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipts")),
        sa.UniqueConstraint("provider_sid", "status", name="uq_receipts_sid_status"),
    )
    op.create_index(op.f("ix_receipts_provider_sid"), "receipts", ["provider_sid"], unique=False)
    op.create_table(
        "needs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("skill_code", sa.String(length=40), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("search_radius_km", sa.Float(), nullable=False),
        sa.Column("waves", sa.Integer(), nullable=False),
        sa.Column("filled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("exhausted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("count >= 1", name=op.f("ck_needs_count_positive")),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_needs_incident_id_incidents"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["skill_code"], ["skills.code"], name=op.f("fk_needs_skill_code_skills")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_needs")),
        sa.UniqueConstraint("incident_id", "skill_code", name="uq_needs_incident_skill"),
    )
    op.create_index(op.f("ix_needs_incident_id"), "needs", ["incident_id"], unique=False)
    op.create_table(
        "callouts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("need_id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("wave", sa.Integer(), nullable=False),
        sa.Column("distance_km", sa.Float(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "called", "accepted", "declined", "stood_down", "cancelled", "failed", name="callout_status"
            ),
            nullable=False,
        ),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("called_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_callouts_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["need_id"], ["needs.id"], name=op.f("fk_callouts_need_id_needs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["volunteer_id"], ["volunteers.id"], name=op.f("fk_callouts_volunteer_id_volunteers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callouts")),
        sa.UniqueConstraint("incident_id", "volunteer_id", name="uq_callouts_incident_volunteer"),
    )
    op.create_index("ix_callouts_need_status", "callouts", ["need_id", "status"], unique=False)
    op.create_index("ix_callouts_volunteer_status", "callouts", ["volunteer_id", "status"], unique=False)
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.Enum("outbound", "inbound", name="message_direction"), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
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
                name="message_kind",
            ),
            nullable=False,
        ),
        sa.Column("volunteer_id", sa.Integer(), nullable=True),
        sa.Column("callout_id", sa.Integer(), nullable=True),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("to_number", sa.String(length=40), nullable=False),
        sa.Column("from_number", sa.String(length=40), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("segments", sa.SmallInteger(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "sending",
                "queued",
                "sent",
                "delivered",
                "undelivered",
                "failed",
                "cancelled",
                "received",
                name="message_status",
            ),
            nullable=False,
        ),
        sa.Column("provider_sid", sa.String(length=64), nullable=True),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("error_message", sa.String(length=300), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["callout_id"], ["callouts.id"], name=op.f("fk_messages_callout_id_callouts"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_messages_incident_id_incidents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["volunteer_id"], ["volunteers.id"], name=op.f("fk_messages_volunteer_id_volunteers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
        sa.UniqueConstraint("provider_sid", name=op.f("uq_messages_provider_sid")),
    )
    op.create_index("ix_messages_callout", "messages", ["callout_id"], unique=False)
    op.create_index(
        "ix_messages_unsent",
        "messages",
        ["status", "next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("status IN ('pending', 'sending')"),
    )
    op.create_index("ix_messages_volunteer", "messages", ["volunteer_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_messages_volunteer", table_name="messages")
    op.drop_index(
        "ix_messages_unsent",
        table_name="messages",
        postgresql_where=sa.text("status IN ('pending', 'sending')"),
    )
    op.drop_index("ix_messages_callout", table_name="messages")
    op.drop_table("messages")
    op.drop_index("ix_callouts_volunteer_status", table_name="callouts")
    op.drop_index("ix_callouts_need_status", table_name="callouts")
    op.drop_table("callouts")
    op.drop_index(op.f("ix_needs_incident_id"), table_name="needs")
    op.drop_table("needs")
    op.drop_index(op.f("ix_receipts_provider_sid"), table_name="receipts")
    op.drop_table("receipts")
    op.drop_index(op.f("ix_incidents_status"), table_name="incidents")
    op.drop_geospatial_index(
        "ix_incidents_area", table_name="incidents", postgresql_using="gist", column_name="area"
    )
    op.drop_geospatial_table("incidents")
    for enum in (
        "message_status",
        "message_kind",
        "message_direction",
        "callout_status",
        "incident_status",
        "incident_kind",
    ):
        sa.Enum(name=enum).drop(op.get_bind(), checkfirst=True)
