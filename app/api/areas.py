"""HTTP routes for resilience areas: a forum sees its own area only, coordinators and admins all."""

from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse

from app.api.deps import CurrentToken, SessionDep
from app.area import service
from app.area.schemas import AreaPage, AreaRead
from app.map.geojson import MEDIA_TYPE
from app.map.scope import scope_for

router = APIRouter(prefix="/api/v1/areas", tags=["areas"])

AreaCode = Annotated[str, Path(max_length=40)]


@router.get("")
def list_areas(session: SessionDep, token: CurrentToken) -> AreaPage:
    """Areas with their bounding boxes: all of them, or a forum's own."""
    scope = scope_for(session, token, area_code=None)
    items = [
        AreaRead(code=a.code, name=a.name, bbox=list(a.bbox))
        for a in service.list_areas(session, code=scope.area_code)
    ]
    return AreaPage(items=items, total=len(items))


@router.get("/{code}", response_class=JSONResponse, responses={200: {"content": {MEDIA_TYPE: {}}}})
def get_area(code: AreaCode, session: SessionDep, token: CurrentToken) -> Any:
    """One area's boundary as a GeoJSON Feature; 404 for any area outside a forum's own."""
    scope = scope_for(session, token, area_code=code)
    area = service.get_area(session, code=scope.area_code or code)
    return JSONResponse(service.area_feature(session, area=area), media_type=MEDIA_TYPE)
