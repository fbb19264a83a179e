"""Each incident keeps the step its search radius widens by, chosen at declaration like its maximum.

Existing incidents get the setting's default (RADIUS_STEP_KM, 10 km), which is what their waves used
unless a deployment changed it.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 05:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_RADIUS_STEP_KM = 10.0  # app.settings.Settings.radius_step_km's default when this was written


def upgrade() -> None:
    op.add_column("incidents", sa.Column("radius_step_km", sa.Float(), nullable=True))
    op.execute(sa.text("update incidents set radius_step_km = :step").bindparams(step=DEFAULT_RADIUS_STEP_KM))
    op.alter_column("incidents", "radius_step_km", nullable=False)


def downgrade() -> None:
    op.drop_column("incidents", "radius_step_km")
