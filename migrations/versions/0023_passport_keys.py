"""The volunteer passport as credentials they carry: signing keys, issued credentials with their status
bits, and one-use passport links. Triggers revoke an issued credential the moment its passport entry is
deleted or changed, or its holder erased, whichever path does it.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03 07:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "badge_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("public_jwk", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("private_pem", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_badge_keys")),
        sa.UniqueConstraint("kid", name=op.f("uq_badge_keys_kid")),
    )
    op.create_index(
        "uq_badge_keys_current",
        "badge_keys",
        ["retired_at"],
        unique=True,
        postgresql_nulls_not_distinct=True,
        postgresql_where=sa.text("retired_at IS NULL"),
    )
    badge_kind = postgresql.ENUM("skill", "hours", name="badge_kind", create_type=False)
    badge_kind.create(op.get_bind(), checkfirst=True)
    op.create_table(
        "badge_issues",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.Uuid(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("credential_id", sa.Integer(), nullable=True),
        sa.Column("kind", badge_kind, nullable=False),
        sa.Column("skill_code", sa.String(length=40), nullable=True),
        sa.Column("level", sa.SmallInteger(), nullable=True),
        sa.Column("hours", sa.Float(), nullable=True),
        sa.Column("deployments", sa.Integer(), nullable=True),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status_index", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["volunteer_id"],
            ["volunteers.id"],
            name=op.f("fk_badge_issues_volunteer_id_volunteers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["credential_id"],
            ["credentials.id"],
            name=op.f("fk_badge_issues_credential_id_credentials"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_badge_issues")),
        sa.UniqueConstraint("public_id", name=op.f("uq_badge_issues_public_id")),
        sa.UniqueConstraint("status_index", name=op.f("uq_badge_issues_status_index")),
    )
    op.create_index(op.f("ix_badge_issues_credential_id"), "badge_issues", ["credential_id"])
    op.create_index(
        "ix_badge_issues_volunteer_live",
        "badge_issues",
        ["volunteer_id"],
        postgresql_where=sa.text("revoked_at IS NULL"),
    )
    op.create_table(
        "passport_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["volunteer_id"],
            ["volunteers.id"],
            name=op.f("fk_passport_links_volunteer_id_volunteers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_passport_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_passport_links_token_hash")),
    )
    op.create_index("ix_passport_links_volunteer_created", "passport_links", ["volunteer_id", "created_at"])
    # BEFORE DELETE: the foreign key empties credential_id after the row goes, too late to find it.
    op.execute(
        """
        CREATE FUNCTION badge_revoke_for_credential() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          UPDATE badge_issues SET revoked_at = now(),
                 revoked_reason = CASE WHEN TG_OP = 'DELETE' THEN 'the passport entry was removed'
                                       ELSE 'the passport entry changed' END
          WHERE credential_id = OLD.id AND revoked_at IS NULL;
          RETURN OLD;
        END $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER credentials_revoke_badges_on_delete BEFORE DELETE ON credentials
        FOR EACH ROW EXECUTE FUNCTION badge_revoke_for_credential()
        """
    )
    op.execute(
        """
        CREATE TRIGGER credentials_revoke_badges_on_change
        AFTER UPDATE OF skill_code, level, verified_at, expires_on ON credentials
        FOR EACH ROW WHEN (
          OLD.skill_code IS DISTINCT FROM NEW.skill_code OR OLD.level IS DISTINCT FROM NEW.level
          OR OLD.verified_at IS DISTINCT FROM NEW.verified_at OR OLD.expires_on IS DISTINCT FROM NEW.expires_on
        ) EXECUTE FUNCTION badge_revoke_for_credential()
        """
    )
    op.execute(
        """
        CREATE FUNCTION badge_revoke_for_erasure() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          UPDATE badge_issues SET revoked_at = now(), revoked_reason = 'the holder left the reserve'
          WHERE volunteer_id = NEW.id AND revoked_at IS NULL;
          DELETE FROM passport_links WHERE volunteer_id = NEW.id;
          RETURN NEW;
        END $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER volunteers_revoke_badges_on_erasure AFTER UPDATE OF status ON volunteers
        FOR EACH ROW WHEN (NEW.status = 'erased' AND OLD.status IS DISTINCT FROM NEW.status)
        EXECUTE FUNCTION badge_revoke_for_erasure()
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER volunteers_revoke_badges_on_erasure ON volunteers")
    op.execute("DROP FUNCTION badge_revoke_for_erasure()")
    op.execute("DROP TRIGGER credentials_revoke_badges_on_change ON credentials")
    op.execute("DROP TRIGGER credentials_revoke_badges_on_delete ON credentials")
    op.execute("DROP FUNCTION badge_revoke_for_credential()")
    op.drop_table("passport_links")
    op.drop_table("badge_issues")
    op.drop_table("badge_keys")
    op.execute("DROP TYPE badge_kind")
