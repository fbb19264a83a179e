"""Response shapes for areas."""

from pydantic import BaseModel


class AreaRead(BaseModel):
    """An area without its boundary; `bbox` is [west, south, east, north] in degrees."""

    code: str
    name: str
    bbox: list[float]


class AreaPage(BaseModel):
    """The areas a caller may see."""

    items: list[AreaRead]
    total: int
