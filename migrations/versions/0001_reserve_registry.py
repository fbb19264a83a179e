"""Reserve registry: volunteers, passport of credentials, availability, organisations, audit, tokens.

Revision ID: 0001
Revises:
Create Date: 2026-11-25 19:37:56.096154
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geography
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


SKILLS = [
    ("first_aid", "First aid", "Current first aid certificate"),
    ("flood_rescue", "Flood rescue", "Water and flood rescue (DEFRA module 3 or equivalent)"),
    ("swift_water", "Swift water rescue", "Swift water and flood technician"),
    ("chainsaw", "Chainsaw", "Chainsaw operation and maintenance (CS30/CS31)"),
    ("driver_4x4", "4x4 driver", "Off-road 4x4 driving"),
    ("safeguarding", "Safeguarding", "Safeguarding adults and children"),
    ("welfare", "Welfare", "Rest centre and welfare support"),
    ("search", "Search", "Lowland search technician"),
    ("sandbagging", "Sandbagging", "Property protection and sandbag filling"),
    ("radio", "Radio", "Radio operator"),
    ("boat_crew", "Boat crew", "Inshore boat crew"),
    ("logistics", "Logistics", "Logistics and supply handling"),
]


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("role", sa.Enum("admin", "coordinator", "lrf_viewer", name="role"), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("area_code", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_table(
        "audit_events",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("action", sa.String(length=80), nullable=False),
        sa.Column("entity_type", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.BigInteger(), nullable=True),
        sa.Column("detail", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    op.create_index(op.f("ix_audit_events_at"), "audit_events", ["at"], unique=False)
    op.create_index("ix_audit_events_entity", "audit_events", ["entity_type", "entity_id"], unique=False)
    op.create_table(
        "organisations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisations")),
        sa.UniqueConstraint("name", name=op.f("uq_organisations_name")),
    )
    op.create_table(
        "skills",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_skills")),
    )
    op.create_geospatial_table(
        "volunteers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column(
            "location",
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
        sa.Column("max_travel_km", sa.Float(), nullable=True),
        sa.Column(
            "status",
            sa.Enum("active", "paused", "opted_out", "erased", name="volunteer_status"),
            nullable=False,
        ),
        sa.Column("consent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("opted_out_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("languages", postgresql.ARRAY(sa.String(length=8)), nullable=False),
        sa.Column("last_called_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "max_travel_km IS NULL OR max_travel_km > 0", name=op.f("ck_volunteers_max_travel_positive")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteers")),
        sa.UniqueConstraint("phone", name=op.f("uq_volunteers_phone")),
    )
    op.create_geospatial_index(
        "ix_volunteers_location",
        "volunteers",
        ["location"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_volunteers_status"), "volunteers", ["status"], unique=False)
    op.create_table(
        "availability_windows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("starts", sa.Time(), nullable=False),
        sa.Column("ends", sa.Time(), nullable=False),
        sa.CheckConstraint("starts < ends", name=op.f("ck_availability_windows_window_order")),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name=op.f("ck_availability_windows_weekday_range")),
        sa.ForeignKeyConstraint(
            ["volunteer_id"],
            ["volunteers.id"],
            name=op.f("fk_availability_windows_volunteer_id_volunteers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_availability_windows")),
    )
    op.create_index(
        op.f("ix_availability_windows_volunteer_id"), "availability_windows", ["volunteer_id"], unique=False
    )
    op.create_table(
        "credentials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("skill_code", sa.String(length=40), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("issued_by_id", sa.Integer(), nullable=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verified_by", sa.String(length=120), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.CheckConstraint("level BETWEEN 1 AND 5", name=op.f("ck_credentials_level_range")),
        sa.ForeignKeyConstraint(
            ["issued_by_id"],
            ["organisations.id"],
            name=op.f("fk_credentials_issued_by_id_organisations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["skill_code"], ["skills.code"], name=op.f("fk_credentials_skill_code_skills")
        ),
        sa.ForeignKeyConstraint(
            ["volunteer_id"],
            ["volunteers.id"],
            name=op.f("fk_credentials_volunteer_id_volunteers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credentials")),
    )
    op.create_index("ix_credentials_skill_expiry", "credentials", ["skill_code", "expires_on"], unique=False)
    op.create_index(op.f("ix_credentials_volunteer_id"), "credentials", ["volunteer_id"], unique=False)
    op.create_table(
        "unavailable_periods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.CheckConstraint("starts_at < ends_at", name=op.f("ck_unavailable_periods_period_order")),
        sa.ForeignKeyConstraint(
            ["volunteer_id"],
            ["volunteers.id"],
            name=op.f("fk_unavailable_periods_volunteer_id_volunteers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unavailable_periods")),
    )
    op.create_index(
        op.f("ix_unavailable_periods_volunteer_id"), "unavailable_periods", ["volunteer_id"], unique=False
    )
    op.create_table(
        "volunteer_organisations",
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_volunteer_organisations_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["volunteer_id"],
            ["volunteers.id"],
            name=op.f("fk_volunteer_organisations_volunteer_id_volunteers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("volunteer_id", "organisation_id", name=op.f("pk_volunteer_organisations")),
    )
    skills = sa.table("skills", sa.column("code"), sa.column("name"), sa.column("description"))
    op.bulk_insert(skills, [{"code": c, "name": n, "description": d} for c, n, d in SKILLS])


def downgrade() -> None:
    op.drop_table("volunteer_organisations")
    op.drop_index(op.f("ix_unavailable_periods_volunteer_id"), table_name="unavailable_periods")
    op.drop_table("unavailable_periods")
    op.drop_index(op.f("ix_credentials_volunteer_id"), table_name="credentials")
    op.drop_index("ix_credentials_skill_expiry", table_name="credentials")
    op.drop_table("credentials")
    op.drop_index(op.f("ix_availability_windows_volunteer_id"), table_name="availability_windows")
    op.drop_table("availability_windows")
    op.drop_index(op.f("ix_volunteers_status"), table_name="volunteers")
    op.drop_geospatial_index(
        "ix_volunteers_location", table_name="volunteers", postgresql_using="gist", column_name="location"
    )
    op.drop_geospatial_table("volunteers")
    op.drop_table("skills")
    op.drop_table("organisations")
    op.drop_index("ix_audit_events_entity", table_name="audit_events")
    op.drop_index(op.f("ix_audit_events_at"), table_name="audit_events")
    op.drop_table("audit_events")
    op.drop_table("api_tokens")
    sa.Enum(name="volunteer_status").drop(op.get_bind(), checkfirst=True)
    sa.Enum(name="role").drop(op.get_bind(), checkfirst=True)
