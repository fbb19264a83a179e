"""Response shapes for the map API (layers themselves are GeoJSON, not models)."""

from pydantic import BaseModel

from app.area.schemas import AreaRead


class SkillRead(BaseModel):
    """A skill of the catalogue, for the map's skill picker."""

    code: str
    name: str


class MapSession(BaseModel):
    """Who the page is signed in as: a role, the area it is bound to (forums), and the skill catalogue."""

    role: str
    area: AreaRead | None
    skills: list[SkillRead]
