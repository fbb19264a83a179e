"""Path and query parameters shared by every route, so a bad id is a 422 at the edge, never a 500."""

from typing import Annotated

from fastapi import Path, Query

from app.fields import INT4_MAX

Id = Annotated[int, Path(ge=0, le=INT4_MAX, description="a record id")]
IdQuery = Annotated[int | None, Query(ge=0, le=INT4_MAX, description="a record id")]
Offset = Annotated[int, Query(ge=0, le=INT4_MAX, description="how many items to skip")]
