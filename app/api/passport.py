"""HTTP routes of the volunteer passport as credentials: the public keys, status lists and checking
(public), issuing and revoking (tokens), and the volunteer's own page behind a one-use texted link.

The page only shows: it acknowledges, accepts and changes nothing but spending its own link. Opening
the link shows a button; pressing it (a POST) spends the link and shows the passport, so a link scanner
that fetches every URL in an SMS cannot use it up.
"""

import base64
import uuid
from dataclasses import asdict
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import FileResponse, HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from app.api.deps import AdminToken, CoordinatorToken, SessionDep, SettingsDep
from app.api.pages import HEAD, PAGE_HEADERS, page_policy, static_file, static_files
from app.api.params import Id
from app.api.problems import status_for
from app.auth.service import actor_of
from app.badge import keys, service
from app.badge.documents import OB_CONTEXT, VC_CONTEXT
from app.badge.models import IssuedBadge
from app.badge.schemas import (
    IssuedRead,
    IssuerProfile,
    JwkSet,
    RevokeRequest,
    VerificationRead,
    VerifyRequest,
)
from app.errors import DomainError
from app.settings import Settings

router = APIRouter(tags=["passport"])

HERE = FilePath(__file__).resolve().parents[1] / "badge"
STATIC = static_files(HERE)
TEMPLATES = Environment(
    loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(), auto_reload=False
)
VC_JWT = "application/vc+jwt"
Responses = dict[int | str, dict[str, Any]]
KEY_UNREADABLE: Responses = {503: {"description": "The signing key cannot be read with BADGE_KEY_SECRET"}}
NO_STATUS_LIST: Responses = {404: {"description": "No such status list"}, **KEY_UNREADABLE}
NO_VOLUNTEER: Responses = {404: {"description": "No such volunteer (or erased)"}, **KEY_UNREADABLE}
NO_CREDENTIAL: Responses = {404: {"description": "No credential issued with this id"}}
GARBAGE: Responses = {422: {"description": "Not a compact JWS at all"}}
Token = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class VcJwtResponse(Response):
    """A credential secured with JOSE (VC-JOSE-COSE's media type)."""

    media_type = VC_JWT


@router.get("/.well-known/jwks.json", response_model=JwkSet)
@router.get("/api/v1/passport/keys", response_model=JwkSet)
def published_keys(session: SessionDep) -> dict[str, Any]:
    """Every key the passport's credentials were ever signed with, current first (no private part)."""
    keys.current(session)  # the first key is made on first use, so the set is never empty
    return keys.jwks(session)


@router.get("/api/v1/passport/issuer", response_model=IssuerProfile, response_model_by_alias=True)
def issuer_profile() -> dict[str, Any]:
    """The issuer named in every credential (an Open Badges 3.0 Profile)."""
    found = service.issuer()
    return {"@context": [VC_CONTEXT, OB_CONTEXT], **found.profile()}


@router.get(
    "/api/v1/passport/status/{number}",
    response_class=VcJwtResponse,
    responses={200: {"content": {VC_JWT: {"schema": {"type": "string"}}}}, **NO_STATUS_LIST},
)
def status_list(number: Annotated[int, Path(ge=0, le=16383)], session: SessionDep) -> VcJwtResponse:
    """A revocation status list: a signed BitstringStatusListCredential (W3C), valid for an hour."""
    return VcJwtResponse(
        service.status_list(session, number=number), headers={"Cache-Control": "max-age=300"}
    )


@router.post("/api/v1/passport/verify", responses=GARBAGE)
def verify_credential(data: VerifyRequest, session: SessionDep) -> VerificationRead:
    """Check a credential this service issued: valid, invalid_signature, revoked, expired, not_yet_valid,
    or unknown (signed by us, but not one we issued), with the reasons."""
    found = service.verify(session, token=data.credential)
    return VerificationRead(**asdict(found))


def _read(badge: IssuedBadge, *, name: str, jws: str | None = None) -> IssuedRead:
    return IssuedRead(
        id=badge.public_id,
        kind=badge.kind.value,
        name=name,
        issued_at=badge.issued_at,
        revoked_at=badge.revoked_at,
        revoked_reason=badge.revoked_reason,
        jws=jws,
    )


@router.post("/api/v1/passport/volunteers/{volunteer_id}/credentials", responses=NO_VOLUNTEER)
def export_credentials(volunteer_id: Id, session: SessionDep, token: CoordinatorToken) -> list[IssuedRead]:
    """The volunteer's credentials, signed now: one per verified passport entry and one for their
    hours when they have any; what changed is issued anew and the old one revoked."""
    signed = service.export_passport(session, volunteer_id=volunteer_id)
    return [_read(s.badge, name=s.document["name"], jws=s.jws) for s in signed]


@router.post("/api/v1/passport/credentials/{credential_id}/revoke", responses=NO_CREDENTIAL)
def revoke_credential(
    credential_id: uuid.UUID, data: RevokeRequest, session: SessionDep, token: AdminToken
) -> IssuedRead:
    """Revoke an issued credential for good: its status list bit is set and checking it says revoked."""
    badge = service.revoke(session, public_id=credential_id, reason=data.reason, actor=actor_of(token))
    return _read(badge, name=badge.skill_code or badge.kind.value)


# The volunteer's page.


def _render(settings: Settings, name: str, *, status_code: int = 200, **values: Any) -> HTMLResponse:
    head = HEAD.substitute(
        title="Your volunteer passport",
        stylesheets='<link rel="stylesheet" href="/passport/static/passport.css">',
    )
    body = TEMPLATES.get_template(name).render(**values)
    policy = page_policy("", form_action="'self'")
    return HTMLResponse(
        head + body, status_code=status_code, headers={"Content-Security-Policy": policy, **PAGE_HEADERS}
    )


def _download(jws: str) -> str:
    """The signed credential as a data: link, so downloading it needs no second use of the link."""
    return f"data:{VC_JWT};base64,{base64.b64encode(jws.encode()).decode()}"


@router.get("/passport/static/{path:path}", include_in_schema=False)
def static(path: str) -> FileResponse:
    """The passport page's styles."""
    return static_file(STATIC, path)


@router.get("/passport/{token}", response_class=HTMLResponse, include_in_schema=False)
def passport_open(token: Token, session: SessionDep, settings: SettingsDep) -> HTMLResponse:
    """The texted link: a button to show the passport; fetching this does not spend the link."""
    try:
        service.open_link(session, token=token, use=False)
    except DomainError as exc:
        return _render(settings, "gone.html", status_code=404, message=exc.detail)
    return _render(settings, "open.html", token=token)


@router.post("/passport/{token}", response_class=HTMLResponse, include_in_schema=False)
def passport_show(token: Token, session: SessionDep, settings: SettingsDep) -> HTMLResponse:
    """The passport, once: the link is spent as it is shown (and only then, so a failure leaves it)."""
    try:
        volunteer_id = service.open_link(session, token=token, use=False)  # locked until the commit
        found = service.passport(session, volunteer_id=volunteer_id)
        service.open_link(session, token=token, use=True)
    except DomainError as exc:
        return _render(settings, "gone.html", status_code=status_for(exc), message=exc.detail)
    return _render(settings, "passport.html", passport=found, download=_download)
