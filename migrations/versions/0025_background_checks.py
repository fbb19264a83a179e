"""Disclosure and barring checks (issue 13): each volunteer's DBS checks and PVG memberships as the law
defines them (`background_checks`: scheme, level, workforce, certificate, update service or renewal
date, who recorded it, whether withdrawn), and the check a need may ask for (`needs.check_level`,
`needs.check_workforce`). The level enum is declared lowest first so `>=` compares levels.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-04 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEME = postgresql.ENUM("dbs", "pvg", name="check_scheme", create_type=False)
LEVEL = postgresql.ENUM(
    "basic", "standard", "enhanced", "enhanced_barred", name="check_level", create_type=False
)
WORKFORCE = postgresql.ENUM("children", "adults", "both", name="check_workforce", create_type=False)


def upgrade() -> None:
    bind = op.get_bind()
    for kind in (SCHEME, LEVEL, WORKFORCE):
        kind.create(bind, checkfirst=False)
    op.create_table(
        "background_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("scheme", SCHEME, nullable=False),
        sa.Column("level", LEVEL, nullable=False),
        sa.Column("workforce", WORKFORCE, nullable=True),
        sa.Column("certificate_number", sa.String(length=40), nullable=False),
        sa.Column("certificate_date", sa.Date(), nullable=False),
        sa.Column("update_service_checked_on", sa.Date(), nullable=True),
        sa.Column("pvg_renewal_on", sa.Date(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("recorded_by", sa.String(length=120), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "(level IN ('enhanced', 'enhanced_barred')) = (workforce IS NOT NULL)",
            name=op.f("ck_background_checks_workforce_for_enhanced"),
        ),
        sa.CheckConstraint(
            "(scheme = 'pvg') = (pvg_renewal_on IS NOT NULL)", name=op.f("ck_background_checks_pvg_renewal")
        ),
        sa.CheckConstraint(
            "scheme = 'dbs' OR update_service_checked_on IS NULL",
            name=op.f("ck_background_checks_update_service_dbs"),
        ),
        sa.CheckConstraint(
            "scheme = 'dbs' OR level = 'enhanced_barred'", name=op.f("ck_background_checks_pvg_level")
        ),
        sa.CheckConstraint(
            "update_service_checked_on IS NULL OR update_service_checked_on >= certificate_date",
            name=op.f("ck_background_checks_update_service_after_certificate"),
        ),
        sa.CheckConstraint(
            "(withdrawn_at IS NULL) = (withdrawn_reason IS NULL)",
            name=op.f("ck_background_checks_withdrawn_with_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["volunteer_id"],
            ["volunteers.id"],
            name=op.f("fk_background_checks_volunteer_id_volunteers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_background_checks_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_background_checks")),
    )
    op.create_index(op.f("ix_background_checks_volunteer_id"), "background_checks", ["volunteer_id"])
    op.create_index(op.f("ix_background_checks_organisation_id"), "background_checks", ["organisation_id"])
    op.create_index(
        "ix_background_checks_volunteer_live",
        "background_checks",
        ["volunteer_id"],
        postgresql_where=sa.text("withdrawn_at IS NULL"),
    )
    op.add_column("needs", sa.Column("check_level", LEVEL, nullable=True))
    op.add_column("needs", sa.Column("check_workforce", WORKFORCE, nullable=True))
    op.create_check_constraint(
        op.f("ck_needs_check_workforce_for_enhanced"),
        "needs",
        "check_level IS NULL AND check_workforce IS NULL OR check_level IS NOT NULL AND "
        "(check_level IN ('enhanced', 'enhanced_barred')) = (check_workforce IS NOT NULL)",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_needs_check_workforce_for_enhanced"), "needs", type_="check")
    op.drop_column("needs", "check_workforce")
    op.drop_column("needs", "check_level")
    op.drop_index("ix_background_checks_volunteer_live", table_name="background_checks")
    op.drop_index(op.f("ix_background_checks_organisation_id"), table_name="background_checks")
    op.drop_index(op.f("ix_background_checks_volunteer_id"), table_name="background_checks")
    op.drop_table("background_checks")
    bind = op.get_bind()
    for kind in (WORKFORCE, LEVEL, SCHEME):
        kind.drop(bind, checkfirst=False)
