"""Non-emergency asks (issue 13): an organisation posts a need for help that is not an emergency, and
the reserve answers it as it answers an incident, with every text marked as not an emergency.

An incident says whether it is an emergency (every existing one is) and, for an ask, which organisation
asked; two kinds of work that are never emergencies join the incident kinds; a volunteer may ask to be
called for emergencies only (`EMERGENCIES ONLY` by SMS).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-04 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # New enum values cannot be used in the transaction that adds them; nothing here uses them.
    op.execute("ALTER TYPE incident_kind ADD VALUE IF NOT EXISTS 'environment'")
    op.execute("ALTER TYPE incident_kind ADD VALUE IF NOT EXISTS 'community'")
    op.add_column("incidents", sa.Column("emergency", sa.Boolean(), server_default=sa.true(), nullable=False))
    op.add_column("incidents", sa.Column("organisation_id", sa.Integer(), nullable=True))
    op.create_foreign_key(
        op.f("fk_incidents_organisation_id_organisations"),
        "incidents",
        "organisations",
        ["organisation_id"],
        ["id"],
    )
    op.create_index(op.f("ix_incidents_organisation_id"), "incidents", ["organisation_id"])
    op.add_column(
        "volunteers",
        sa.Column("emergencies_only", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("volunteers", "emergencies_only")
    op.drop_index(op.f("ix_incidents_organisation_id"), table_name="incidents")
    op.drop_constraint(op.f("fk_incidents_organisation_id_organisations"), "incidents", type_="foreignkey")
    op.drop_column("incidents", "organisation_id")
    # Asks stay as incidents, no longer marked as asks. PostgreSQL cannot drop a value from an enum
    # type; the unused 'environment' and 'community' are harmless.
    op.drop_column("incidents", "emergency")
