"""FastAPI dependencies, each defined once as an `Annotated` alias."""

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from app.api.access_log import CALLER
from app.auth.models import ApiToken, Role
from app.auth.service import authenticate
from app.db import unit_of_work
from app.errors import Forbidden
from app.settings import Settings, get_settings


def get_session() -> Iterator[Session]:
    """One session per request; the request commits when the handler returns without error."""
    with unit_of_work() as session:
        yield session


# scope="function": the commit runs when the handler returns and before the response is sent, so a 2xx
# is only ever sent for a committed write, and a failed commit becomes the error response instead.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


async def current_settings() -> Settings:
    """The settings, read once per process; async, so FastAPI calls it without a thread hop."""
    return get_settings()


SettingsDep = Annotated[Settings, Depends(current_settings)]

_bearer = HTTPBearer(auto_error=False)


def any_token(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> ApiToken:
    """The caller's token of any role (named in the access log); 401 when missing or unknown, 429 after
    many failures."""
    presented = credentials.credentials if credentials and credentials.scheme.lower() == "bearer" else None
    client = request.client.host if request.client else "unknown"
    token = authenticate(session, token=presented, client=client)
    setattr(request.state, CALLER, (token.id, token.name))
    return token


def current_token(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> ApiToken:
    """The caller's token, as `any_token`, but an organisation's verifier is refused (403): it may use
    the verification queue (`VerifierToken`) and its organisation's own records (`RecorderToken`) and
    nothing else, maps and areas included."""
    token = any_token(request, session, credentials)
    if token.role is Role.org_verifier:
        raise Forbidden(f"role {token.role.value} may only verify and record for its organisation")
    return token


CurrentToken = Annotated[ApiToken, Depends(current_token)]


def require_roles(*roles: Role) -> Callable[[ApiToken], ApiToken]:
    """A dependency that lets only the given roles through (403 otherwise)."""

    def check(token: CurrentToken) -> ApiToken:
        if token.role not in roles:
            raise Forbidden(f"role {token.role.value} may not do this")
        return token

    return check


def verifier_token(token: Annotated[ApiToken, Depends(any_token)]) -> ApiToken:
    """Only an organisation's verifier (403 otherwise): every decision is made for one organisation."""
    if token.role is not Role.org_verifier:
        raise Forbidden(f"role {token.role.value} may not verify credentials: use an org_verifier token")
    return token


VerifierToken = Annotated[ApiToken, Depends(verifier_token)]


def recorder_token(token: Annotated[ApiToken, Depends(any_token)]) -> ApiToken:
    """Admins and coordinators, who act for the whole reserve, or an organisation's verifier, who acts
    for its own organisation and members only (`passport.acting_for`); 403 for anyone else."""
    if token.role not in (Role.admin, Role.coordinator, Role.org_verifier):
        raise Forbidden(f"role {token.role.value} may not do this")
    return token


RecorderToken = Annotated[ApiToken, Depends(recorder_token)]


def check_recorder_token(token: RecorderToken) -> ApiToken:
    """Who records and changes disclosure checks: admins, or an organisation's verifier for its own
    members; a coordinator may read them (without certificate numbers) but not record them (403)."""
    if token.role is Role.coordinator:
        raise Forbidden(f"role {token.role.value} may read checks but not record or change them")
    return token


CheckRecorderToken = Annotated[ApiToken, Depends(check_recorder_token)]
AdminToken = Annotated[ApiToken, Depends(require_roles(Role.admin))]
CoordinatorToken = Annotated[ApiToken, Depends(require_roles(Role.admin, Role.coordinator))]
AnyToken = CurrentToken
