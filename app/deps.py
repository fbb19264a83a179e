"""FastAPI dependencies, each defined once as an `Annotated` alias."""

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from app.auth.models import ApiToken, Role
from app.auth.service import find_token
from app.db import unit_of_work
from app.errors import Forbidden, Unauthorized
from app.settings import Settings, get_settings


def get_session() -> Iterator[Session]:
    """One session per request; the request commits when the handler returns without error."""
    with unit_of_work() as session:
        yield session


# scope="function": the commit runs when the handler returns and before the response is sent, so a 2xx
# is only ever sent for a committed write, and a failed commit becomes the error response instead.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]

_bearer = HTTPBearer(auto_error=False)


def current_token(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> ApiToken:
    """The caller's token; 401 when missing or unknown."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("a bearer token is required (Authorization: Bearer nvr_...)")
    token = find_token(session, token=credentials.credentials)
    if token is None:
        raise Unauthorized("the bearer token is unknown or revoked")
    return token


CurrentToken = Annotated[ApiToken, Depends(current_token)]


def require_roles(*roles: Role) -> Callable[[ApiToken], ApiToken]:
    """A dependency that lets only the given roles through (403 otherwise)."""

    def check(token: CurrentToken) -> ApiToken:
        if token.role not in roles:
            raise Forbidden(f"role {token.role.value} may not do this")
        return token

    return check


AdminToken = Annotated[ApiToken, Depends(require_roles(Role.admin))]
CoordinatorToken = Annotated[ApiToken, Depends(require_roles(Role.admin, Role.coordinator))]
AnyToken = CurrentToken
