"""Official warnings (issue 14, part 1): CAP alerts and Environment Agency flood warnings.

`warnings` holds one row per warning with its latest message's content, its area as
geography(MultiPolygon) (none when nothing in it could be placed), its geocodes and its state (active or
withdrawn); `warning_messages` holds every message received, unique by (sender, identifier, sent),
which is how duplicates are known and updates and cancels find the warning they change.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-04 16:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geography
from sqlalchemy.dialects import postgresql

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ENUMS = (
    "warning_source",
    "warning_msg_type",
    "warning_status",
    "warning_severity",
    "warning_urgency",
    "warning_certainty",
    "warning_state",
)


def upgrade() -> None:
    op.create_table(
        "warnings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.Enum("cap", "ea", name="warning_source"), nullable=False),
        sa.Column("sender", sa.String(length=255), nullable=False),
        sa.Column("identifier", sa.String(length=255), nullable=False),
        sa.Column("sent", sa.DateTime(timezone=True), nullable=False),
        sa.Column("msg_type", sa.Enum("alert", "update", "cancel", name="warning_msg_type"), nullable=False),
        sa.Column(
            "status",
            sa.Enum("actual", "exercise", "system", "test", "draft", name="warning_status"),
            nullable=False,
        ),
        sa.Column("scope", sa.String(length=40), nullable=True),
        sa.Column("event", sa.String(length=255), nullable=False),
        sa.Column(
            "severity",
            sa.Enum("extreme", "severe", "moderate", "minor", "unknown", name="warning_severity"),
            nullable=False,
        ),
        sa.Column(
            "urgency",
            sa.Enum("immediate", "expected", "future", "past", "unknown", name="warning_urgency"),
            nullable=False,
        ),
        sa.Column(
            "certainty",
            sa.Enum("observed", "likely", "possible", "unlikely", "unknown", name="warning_certainty"),
            nullable=False,
        ),
        sa.Column("ea_severity_level", sa.SmallInteger(), nullable=True),
        sa.Column("headline", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("instruction", sa.Text(), nullable=True),
        sa.Column("sender_name", sa.String(length=255), nullable=True),
        sa.Column("language", sa.String(length=35), nullable=True),
        sa.Column("infos", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("area_desc", sa.Text(), nullable=False),
        sa.Column(
            "area",
            Geography(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeogFromText",
                name="geography",
            ),
            nullable=True,
        ),
        sa.Column("geocodes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("not_located", sa.Boolean(), nullable=False),
        sa.Column("area_url", sa.String(length=500), nullable=True),
        sa.Column("effective", sa.DateTime(timezone=True), nullable=True),
        sa.Column("onset", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires", sa.DateTime(timezone=True), nullable=True),
        sa.Column("state", sa.Enum("active", "withdrawn", name="warning_state"), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_reason", sa.String(length=300), nullable=True),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("raw_size", sa.Integer(), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "(state = 'withdrawn') = (withdrawn_at IS NOT NULL)", name=op.f("ck_warnings_withdrawn_when")
        ),
        sa.CheckConstraint(
            "ea_severity_level BETWEEN 1 AND 4", name=op.f("ck_warnings_ea_severity_level_range")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warnings")),
    )
    op.create_index("ix_warnings_area", "warnings", ["area"], postgresql_using="gist")
    op.create_index(op.f("ix_warnings_severity"), "warnings", ["severity"], unique=False)
    op.create_index(
        "ix_warnings_source_identifier", "warnings", ["source", "sender", "identifier"], unique=False
    )
    op.create_index(op.f("ix_warnings_state"), "warnings", ["state"], unique=False)
    op.create_index(op.f("ix_warnings_updated_at"), "warnings", ["updated_at"], unique=False)
    op.create_table(
        "warning_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("warning_id", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(length=255), nullable=False),
        sa.Column("identifier", sa.String(length=255), nullable=False),
        sa.Column("sent", sa.DateTime(timezone=True), nullable=False),
        sa.Column("msg_type", sa.Enum("alert", "update", "cancel", name="warning_msg_type"), nullable=False),
        sa.Column("references", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["warning_id"],
            ["warnings.id"],
            name=op.f("fk_warning_messages_warning_id_warnings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warning_messages")),
        sa.UniqueConstraint("sender", "identifier", "sent", name="uq_warning_messages_key"),
    )
    op.create_index(
        "ix_warning_messages_references",
        "warning_messages",
        ["references"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(op.f("ix_warning_messages_warning_id"), "warning_messages", ["warning_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_warning_messages_warning_id"), table_name="warning_messages")
    op.drop_index("ix_warning_messages_references", table_name="warning_messages", postgresql_using="gin")
    op.drop_table("warning_messages")
    op.drop_index(op.f("ix_warnings_updated_at"), table_name="warnings")
    op.drop_index(op.f("ix_warnings_state"), table_name="warnings")
    op.drop_index("ix_warnings_source_identifier", table_name="warnings")
    op.drop_index(op.f("ix_warnings_severity"), table_name="warnings")
    op.drop_index("ix_warnings_area", table_name="warnings", postgresql_using="gist")
    op.drop_table("warnings")
    for name in ENUMS:
        op.execute(f"DROP TYPE {name}")
