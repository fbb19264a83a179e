"""Reading the skill catalogue."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.skill.models import Skill


def list_skills(session: Session) -> list[Skill]:
    """Every skill in the catalogue, by name."""
    return list(session.scalars(select(Skill).order_by(Skill.name)))
