"""Erasure: fingerprints of erased phones, and call-up distances that erasure can empty.

Revision ID: 0007
Revises: 0004
Create Date: 2026-12-01 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "erased_phones",
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("fingerprint", name=op.f("pk_erased_phones")),
    )
    op.alter_column("callouts", "distance_km", existing_type=sa.Float(), nullable=True)


def downgrade() -> None:
    op.execute("UPDATE callouts SET distance_km = 0 WHERE distance_km IS NULL")
    op.alter_column("callouts", "distance_km", existing_type=sa.Float(), nullable=False)
    op.drop_table("erased_phones")
