"""HTTP routes for organisations' verifiers: the queue of credentials to verify, as JSON and as a page.

Only an org_verifier token gets in (403 for any other role), and it sees and decides only its
organisation's members' credentials and those naming it as issuer (404 for any other).

The page (`/verify`) is plain HTML forms rendered here, with no script: the verifier types the token
into a password field and it travels only in form bodies (never in an address or a log), as the
console keeps it only in its tab.
"""

from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import FileResponse, HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import ValidationError
from sqlalchemy.orm import Session

from app.api.deps import SessionDep, VerifierToken
from app.api.pages import HEAD, PAGE_HEADERS, page_policy, static_file, static_files
from app.api.params import Id, Offset
from app.api.problems import status_for
from app.auth.models import ApiToken, Role
from app.auth.service import authenticate
from app.errors import DomainError, Forbidden
from app.passport import service
from app.passport.schemas import RejectionCreate, VerificationCreate, VerificationItem, VerificationPage

router = APIRouter(tags=["verifications"])

HERE = FilePath(__file__).resolve().parents[1] / "passport"
STATIC = static_files(HERE)
TEMPLATES = Environment(
    loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(), auto_reload=False
)
PAGE_SIZE = 50

Responses = dict[int | str, dict[str, Any]]
NOT_YOURS: Responses = {404: {"description": "No such credential among those this verifier may decide"}}
DECIDING: Responses = {**NOT_YOURS, 409: {"description": "The credential is already in that state"}}


@router.get("/api/v1/verifications")
def list_verifications(
    session: SessionDep,
    token: VerifierToken,
    limit: Annotated[int, Query(ge=1, le=200)] = PAGE_SIZE,
    offset: Offset = 0,
) -> VerificationPage:
    """The pending credentials this verifier's organisation may decide, oldest claim first."""
    return service.list_queue(session, token=token, limit=limit, offset=offset)


@router.get("/api/v1/verifications/{credential_id}", responses=NOT_YOURS)
def get_verification(credential_id: Id, session: SessionDep, token: VerifierToken) -> VerificationItem:
    """One credential this verifier may decide, in any state."""
    return service.get_item(session, token=token, credential_id=credential_id)


@router.post("/api/v1/verifications/{credential_id}/verify", responses=DECIDING)
def verify_credential(
    credential_id: Id, data: VerificationCreate, session: SessionDep, token: VerifierToken
) -> VerificationItem:
    """Verify a credential on the evidence seen (certificate number, course, date passed)."""
    return service.verify(session, token=token, credential_id=credential_id, data=data)


@router.post("/api/v1/verifications/{credential_id}/reject", responses=DECIDING)
def reject_credential(
    credential_id: Id, data: RejectionCreate, session: SessionDep, token: VerifierToken
) -> VerificationItem:
    """Reject a credential with a reason; the volunteer is texted the reason."""
    return service.reject(session, token=token, credential_id=credential_id, data=data)


# The page: GET signs in, each POST shows the queue (with what happened, or what went wrong).


def _render(name: str, *, status_code: int = 200, **values: Any) -> HTMLResponse:
    head = HEAD.substitute(
        title="Verify credentials · National Volunteer Reserve",
        stylesheets='<link rel="stylesheet" href="/verify/static/verify.css">',
    )
    body = TEMPLATES.get_template(name).render(**values)
    headers = {"Content-Security-Policy": page_policy("", form_action="'self'"), **PAGE_HEADERS}
    return HTMLResponse(head + body, status_code=status_code, headers=headers)


def _verifier(session: Session, request: Request, presented: str) -> ApiToken:
    """The verifier token typed into the page; the same refusals and throttle as the API's."""
    client = request.client.host if request.client else "unknown"
    token = authenticate(session, token=presented.strip() or None, client=client)
    if token.role is not Role.org_verifier:
        raise Forbidden("this page is for organisations' verifiers: use an org_verifier token")
    return token


def _queue(
    session: Session,
    token: ApiToken,
    presented: str,
    *,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    page = service.list_queue(session, token=token, limit=PAGE_SIZE)
    return _render(
        "queue.html", status_code=status_code, page=page, token=presented, notice=notice, error=error
    )


FormText = Annotated[str, Form(max_length=400)]


@router.get("/verify", response_class=HTMLResponse, include_in_schema=False)
def verify_page() -> HTMLResponse:
    """Sign in to the queue."""
    return _render("signin.html")


@router.post("/verify", response_class=HTMLResponse, include_in_schema=False)
def verify_page_queue(request: Request, session: SessionDep, token: FormText = "") -> HTMLResponse:
    """The queue for the token typed in, or the sign-in again saying why not."""
    try:
        verifier = _verifier(session, request, token)
    except DomainError as exc:
        return _render("signin.html", error=exc.detail, status_code=status_for(exc))
    return _queue(session, verifier, token)


@router.post("/verify/{credential_id}/verify", response_class=HTMLResponse, include_in_schema=False)
def verify_page_verify(
    credential_id: Id,
    request: Request,
    session: SessionDep,
    token: FormText = "",
    certificate_number: FormText = "",
    course: FormText = "",
    certified_on: FormText = "",
) -> HTMLResponse:
    """Verify from the page, then the queue again."""
    try:
        verifier = _verifier(session, request, token)
    except DomainError as exc:
        return _render("signin.html", error=exc.detail, status_code=status_for(exc))
    try:
        data = VerificationCreate.model_validate(
            {"certificate_number": certificate_number, "course": course, "certified_on": certified_on}
        )
        item = service.verify(session, token=verifier, credential_id=credential_id, data=data)
    except ValidationError as exc:
        problems = "; ".join(f"{e['loc'][0]}: {e['msg']}" for e in exc.errors())
        return _queue(session, verifier, token, error=f"Not verified: {problems}.", status_code=422)
    except DomainError as exc:
        return _queue(session, verifier, token, error=exc.detail, status_code=status_for(exc))
    return _queue(session, verifier, token, notice=f"Verified {item.volunteer_name}'s {item.skill_name}.")


@router.post("/verify/{credential_id}/reject", response_class=HTMLResponse, include_in_schema=False)
def verify_page_reject(
    credential_id: Id, request: Request, session: SessionDep, token: FormText = "", reason: FormText = ""
) -> HTMLResponse:
    """Reject from the page, then the queue again."""
    try:
        verifier = _verifier(session, request, token)
    except DomainError as exc:
        return _render("signin.html", error=exc.detail, status_code=status_for(exc))
    try:
        data = RejectionCreate.model_validate({"reason": reason})
        item = service.reject(session, token=verifier, credential_id=credential_id, data=data)
    except ValidationError:
        return _queue(session, verifier, token, error="Not rejected: say why.", status_code=422)
    except DomainError as exc:
        return _queue(session, verifier, token, error=exc.detail, status_code=status_for(exc))
    return _queue(
        session,
        verifier,
        token,
        notice=f"Rejected {item.volunteer_name}'s {item.skill_name}; they are told why.",
    )


@router.get("/verify/static/{path:path}", include_in_schema=False)
def static(path: str) -> FileResponse:
    """The queue page's styles."""
    return static_file(STATIC, path)
