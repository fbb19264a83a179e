"""Credential locations: each credential carries its holder's home, indexed with the skill code.

A passport holds one entry per skill. Selection then walks one GIST index (skill_code, location) nearest first, visiting only people who hold
the skill. Triggers keep the copy exact: a credential takes its volunteer's home when written, and a
volunteer's move (or erasure) updates all their credentials.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geography

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # One passport entry per skill: keep the latest-expiring of any duplicates first.
    op.execute(
        """
        DELETE FROM credentials c USING credentials d
        WHERE c.volunteer_id = d.volunteer_id AND c.skill_code = d.skill_code
          AND (COALESCE(c.expires_on, 'infinity'), c.id) < (COALESCE(d.expires_on, 'infinity'), d.id)
        """
    )
    op.create_unique_constraint(
        "uq_credentials_volunteer_skill", "credentials", ["volunteer_id", "skill_code"]
    )
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.add_column(
        "credentials",
        sa.Column(
            "location",
            Geography(
                geometry_type="POINT",
                srid=4326,
                spatial_index=False,
                from_text="ST_GeogFromText",
                name="geography",
            ),
            nullable=True,
        ),
    )
    op.execute("UPDATE credentials c SET location = v.location FROM volunteers v WHERE v.id = c.volunteer_id")
    op.execute(
        """
        CREATE FUNCTION credential_takes_home() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          NEW.location := (SELECT location FROM volunteers WHERE id = NEW.volunteer_id);
          RETURN NEW;
        END $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER credential_takes_home BEFORE INSERT OR UPDATE OF volunteer_id, location
        ON credentials FOR EACH ROW EXECUTE FUNCTION credential_takes_home()
        """
    )
    op.execute(
        """
        CREATE FUNCTION volunteer_moves_credentials() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          UPDATE credentials SET location = NEW.location WHERE volunteer_id = NEW.id;
          RETURN NULL;
        END $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER volunteer_moves_credentials AFTER UPDATE OF location ON volunteers
        FOR EACH ROW WHEN (OLD.location IS DISTINCT FROM NEW.location)
        EXECUTE FUNCTION volunteer_moves_credentials()
        """
    )
    op.create_index(
        "ix_credentials_skill_location",
        "credentials",
        ["skill_code", "location"],
        unique=False,
        postgresql_using="gist",
    )


def downgrade() -> None:
    op.drop_constraint("uq_credentials_volunteer_skill", "credentials", type_="unique")
    op.drop_index("ix_credentials_skill_location", table_name="credentials", postgresql_using="gist")
    op.execute("DROP TRIGGER volunteer_moves_credentials ON volunteers")
    op.execute("DROP FUNCTION volunteer_moves_credentials()")
    op.execute("DROP TRIGGER credential_takes_home ON credentials")
    op.execute("DROP FUNCTION credential_takes_home()")
    op.drop_column("credentials", "location")
