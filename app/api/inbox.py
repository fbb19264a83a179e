"""HTTP routes for the coordinators' inbox: what volunteers sent that the system did not act on."""

from typing import Annotated, Any

from fastapi import APIRouter, Query

from app.api.deps import CoordinatorToken, SessionDep
from app.api.params import Id, IdQuery, Offset
from app.auth.service import actor_of
from app.inbox import service
from app.inbox.schemas import InboxCount, InboxItemRead, InboxPage, InboxResolve, InboxState

router = APIRouter(prefix="/api/v1/inbox", tags=["inbox"])

ALREADY_HANDLED: dict[int | str, dict[str, Any]] = {409: {"description": "The item was already handled"}}


@router.get("")
def list_inbox(
    session: SessionDep,
    token: CoordinatorToken,
    incident_id: IdQuery = None,
    state: InboxState = InboxState.open,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Offset = 0,
) -> InboxPage:
    """Inbox items, newest first: unreadable, ambiguous and late replies, check-ins, unanswered welfare."""
    items, total = service.list_items(
        session, incident_id=incident_id, state=state, limit=limit, offset=offset
    )
    return InboxPage(items=items, total=total)


@router.get("/count")
def count_inbox(session: SessionDep, token: CoordinatorToken, incident_id: IdQuery = None) -> InboxCount:
    """How many items wait for a coordinator."""
    return InboxCount(open=service.count_open(session, incident_id=incident_id))


@router.post("/{item_id}/resolve", responses=ALREADY_HANDLED)
def resolve_item(
    item_id: Id, data: InboxResolve, session: SessionDep, token: CoordinatorToken
) -> InboxItemRead:
    """Resolve an item: count it as YES or NO for one of the volunteer's call-ups (fills and stand-downs
    follow as for a real answer), text the volunteer back, or mark it handled. 409 when already handled;
    422 when the call-up is not the volunteer's."""
    return service.resolve(session, item_id=item_id, data=data, actor=actor_of(token))
