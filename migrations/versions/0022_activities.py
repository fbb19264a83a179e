"""Hours on the Volunteer Passport (issue 13, part 2): non-emergency activities an organisation ran and
who came (`activities`, `activity_volunteers`), and the milestones of hours each volunteer reached
(`volunteer_milestones`, one row per milestone so its thank-you SMS goes once). Deployments need no
table: they are confirmed call-ups with arrived and done times, or with the hours a coordinator
entered as a figure (`callouts.entered_hours`, new here). A new message kind for the thank-you.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03 07:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geography

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("ALTER TYPE message_kind ADD VALUE IF NOT EXISTS 'milestone'")
    op.add_column("callouts", sa.Column("entered_hours", sa.Numeric(precision=5, scale=2), nullable=True))
    op.create_table(
        "activities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("place", sa.String(length=120), nullable=False),
        sa.Column(
            "location",
            Geography(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeogFromText",
                name="geography",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("hours", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("hours > 0 AND hours <= 24", name=op.f("ck_activities_hours_range")),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_activities_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activities")),
    )
    op.create_index("ix_activities_location", "activities", ["location"], postgresql_using="gist")
    op.create_index("ix_activities_organisation_held_on", "activities", ["organisation_id", "held_on"])
    op.create_table(
        "activity_volunteers",
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_activity_volunteers_activity_id_activities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["volunteer_id"],
            ["volunteers.id"],
            name=op.f("fk_activity_volunteers_volunteer_id_volunteers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("activity_id", "volunteer_id", name=op.f("pk_activity_volunteers")),
    )
    op.create_index("ix_activity_volunteers_volunteer_id", "activity_volunteers", ["volunteer_id"])
    op.create_table(
        "volunteer_milestones",
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("hours", sa.SmallInteger(), nullable=False),
        sa.Column("reached_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_volunteer_milestones_message_id_messages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["volunteer_id"],
            ["volunteers.id"],
            name=op.f("fk_volunteer_milestones_volunteer_id_volunteers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("volunteer_id", "hours", name=op.f("pk_volunteer_milestones")),
    )


def downgrade() -> None:
    op.drop_table("volunteer_milestones")
    op.drop_index("ix_activity_volunteers_volunteer_id", table_name="activity_volunteers")
    op.drop_table("activity_volunteers")
    op.drop_index("ix_activities_organisation_held_on", table_name="activities")
    op.drop_index("ix_activities_location", table_name="activities", postgresql_using="gist")
    op.drop_table("activities")
    op.drop_column("callouts", "entered_hours")
    # PostgreSQL cannot drop a value from an enum type; an unused 'milestone' is harmless.
