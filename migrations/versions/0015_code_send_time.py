"""A one-time code's ten minutes run from when its SMS is sent, not from when it was asked for.

In a sign-up surge codes wait in the queue behind the provider's rate; a code that counted from the
request would often be dead on arrival. Each code names the message that carries it, and the sending
path restarts the code's clock when the provider accepts that message.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 22:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("phone_codes", sa.Column("message_id", sa.Integer(), nullable=True))
    op.create_foreign_key(
        "fk_phone_codes_message_id_messages",
        "phone_codes",
        "messages",
        ["message_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_index("ix_phone_codes_message_id", "phone_codes", ["message_id"])


def downgrade() -> None:
    op.drop_index("ix_phone_codes_message_id", table_name="phone_codes")
    op.drop_constraint("fk_phone_codes_message_id_messages", "phone_codes", type_="foreignkey")
    op.drop_column("phone_codes", "message_id")
