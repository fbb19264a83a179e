"""Skill catalogue table."""

from sqlalchemy import Boolean, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class Skill(Base):
    """A skill code from the managed catalogue (e.g. `flood_rescue`)."""

    __tablename__ = "skills"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    # Only a credential an organisation verified makes someone eligible for a skill that needs it
    # (rescue, medical); labour such as sandbagging counts as claimed.
    needs_verification: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
