"""Precomputed coverage-gap counts: published people within a fixed distance of each grid square.

Revision ID: 0009
Revises: 0004
Create Date: 2026-12-01 22:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "gap_counts",
        sa.Column("skill", sa.String(length=40), nullable=False),
        sa.Column("cell_km", sa.SmallInteger(), nullable=False),
        sa.Column("within_km", sa.SmallInteger(), nullable=False),
        sa.Column("x", sa.Integer(), nullable=False),
        sa.Column("y", sa.Integer(), nullable=False),
        sa.Column("volunteers", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("skill", "cell_km", "within_km", "x", "y", name=op.f("pk_gap_counts")),
    )


def downgrade() -> None:
    op.drop_table("gap_counts")
