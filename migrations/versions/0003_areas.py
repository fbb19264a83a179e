"""Resilience areas and the capacity snapshot behind the maps.

`areas.geom` is geometry(MultiPolygon, 4326): see app/area/models.py for why not geography.
`capacity_cells` holds volunteer counts per British National Grid square and skill (only cells of
five or more people); `capacity_refreshes` records each rebuild of it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 19:58:17.541416
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_geospatial_table(
        "areas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_areas")),
        sa.UniqueConstraint("code", name=op.f("uq_areas_code")),
    )
    op.create_geospatial_index(
        "ix_areas_geom", "areas", ["geom"], unique=False, postgresql_using="gist", postgresql_ops={}
    )
    op.create_geospatial_table(
        "capacity_cells",
        sa.Column("skill", sa.String(length=40), nullable=False),
        sa.Column("cell_km", sa.SmallInteger(), nullable=False),
        sa.Column("x", sa.Integer(), nullable=False),
        sa.Column("y", sa.Integer(), nullable=False),
        sa.Column("volunteers", sa.Integer(), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POLYGON",
                srid=3857,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("skill", "cell_km", "x", "y", name=op.f("pk_capacity_cells")),
    )
    op.create_geospatial_index(
        "ix_capacity_cells_geom",
        "capacity_cells",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_table(
        "capacity_refreshes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "refreshed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("volunteers", sa.Integer(), nullable=False),
        sa.Column("cells", sa.Integer(), nullable=False),
        sa.Column("took_ms", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_capacity_refreshes")),
    )


def downgrade() -> None:
    op.drop_table("capacity_refreshes")
    op.drop_geospatial_index(
        "ix_capacity_cells_geom", table_name="capacity_cells", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("capacity_cells")
    op.drop_geospatial_index("ix_areas_geom", table_name="areas", postgresql_using="gist", column_name="geom")
    op.drop_geospatial_table("areas")
