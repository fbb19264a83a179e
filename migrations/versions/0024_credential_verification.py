"""Verification by organisations (issue 13, part 1): every credential is pending, verified or rejected,
each decision is kept with its evidence or reason (`credential_reviews`), skills say whether they need
verification to count, and a token may be an organisation's verifier, bound to that organisation.

Existing credentials with `verified_at` set become verified; all others are pending. Rescue, medical
and certificated skills need verification; labour, driving, radio and welfare do not.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03 07:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEEDS_VERIFICATION = (
    "first_aid",
    "flood_rescue",
    "swift_water",
    "boat_crew",
    "search",
    "chainsaw",
    "safeguarding",
)
STATUS = postgresql.ENUM("pending", "verified", "rejected", name="credential_status", create_type=False)


def upgrade() -> None:
    # New enum values cannot be used in the transaction that adds them: the check below compares text.
    op.execute("ALTER TYPE role ADD VALUE IF NOT EXISTS 'org_verifier'")
    op.execute("ALTER TYPE message_kind ADD VALUE IF NOT EXISTS 'credential_rejected'")
    STATUS.create(op.get_bind(), checkfirst=False)

    op.add_column("credentials", sa.Column("status", STATUS, server_default="pending", nullable=False))
    op.add_column(
        "credentials",
        sa.Column("status_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    )
    op.execute(
        "UPDATE credentials SET status = 'verified', status_at = verified_at WHERE verified_at IS NOT NULL"
    )
    op.create_index(
        "ix_credentials_pending",
        "credentials",
        ["status_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )

    op.add_column(
        "skills",
        sa.Column("needs_verification", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    skills = sa.table("skills", sa.column("code", sa.String), sa.column("needs_verification", sa.Boolean))
    op.execute(skills.update().where(skills.c.code.in_(NEEDS_VERIFICATION)).values(needs_verification=True))

    op.add_column("api_tokens", sa.Column("organisation_id", sa.Integer(), nullable=True))
    op.create_foreign_key(
        op.f("fk_api_tokens_organisation_id_organisations"),
        "api_tokens",
        "organisations",
        ["organisation_id"],
        ["id"],
    )
    op.create_index(op.f("ix_api_tokens_organisation_id"), "api_tokens", ["organisation_id"])
    op.create_check_constraint(
        op.f("ck_api_tokens_organisation_for_verifiers"),
        "api_tokens",
        "(role::text = 'org_verifier') = (organisation_id IS NOT NULL)",
    )

    op.create_table(
        "credential_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("credential_id", sa.Integer(), nullable=False),
        sa.Column("decision", STATUS, nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("evidence", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["credential_id"],
            ["credentials.id"],
            name=op.f("fk_credential_reviews_credential_id_credentials"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_credential_reviews_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credential_reviews")),
    )
    op.create_index(op.f("ix_credential_reviews_credential_id"), "credential_reviews", ["credential_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_credential_reviews_credential_id"), table_name="credential_reviews")
    op.drop_table("credential_reviews")
    op.drop_constraint(op.f("ck_api_tokens_organisation_for_verifiers"), "api_tokens", type_="check")
    op.drop_index(op.f("ix_api_tokens_organisation_id"), table_name="api_tokens")
    op.drop_constraint(op.f("fk_api_tokens_organisation_id_organisations"), "api_tokens", type_="foreignkey")
    op.execute("DELETE FROM api_tokens WHERE role::text = 'org_verifier'")
    op.drop_column("api_tokens", "organisation_id")
    op.drop_column("skills", "needs_verification")
    op.drop_index("ix_credentials_pending", table_name="credentials")
    op.drop_column("credentials", "status_at")
    op.drop_column("credentials", "status")
    STATUS.drop(op.get_bind(), checkfirst=False)
    # PostgreSQL cannot drop a value from an enum type; the unused 'org_verifier' and
    # 'credential_rejected' are harmless.
