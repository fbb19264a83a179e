"""`nvr token ...`: API tokens."""

from datetime import UTC, datetime

import typer
from sqlalchemy import select

from app.auth.models import ApiToken, Role
from app.auth.service import create_token, list_tokens, revoke_token
from app.db import unit_of_work
from app.errors import DomainError
from app.organisation.models import Organisation

app = typer.Typer(help="API bearer tokens.", no_args_is_help=True)

COLUMNS = ("id", "name", "role", "area", "organisation", "created", "expires", "last used", "revoked")


def _fail(exc: DomainError) -> typer.Exit:
    typer.echo(f"error: {exc.detail}", err=True)
    return typer.Exit(2)


@app.command("create")
def create(
    role: Role = typer.Option(..., help="admin, coordinator, lrf_viewer or org_verifier"),
    name: str = typer.Option(..., help="who or what holds the token"),
    area: str | None = typer.Option(None, help="resilience area code (lrf_viewer only)"),
    organisation: str | None = typer.Option(
        None, help="the organisation's exact name (org_verifier only): whose credentials it verifies"
    ),
    expires_in_days: int | None = typer.Option(None, min=1, help="refuse the token after this many days"),
) -> None:
    """Create a token; it is printed once, as the last line."""
    try:
        with unit_of_work() as session:
            token = create_token(
                session,
                name=name,
                role=role,
                area_code=area,
                organisation=organisation,
                expires_in_days=expires_in_days,
            )
    except DomainError as exc:
        raise _fail(exc) from exc
    typer.echo(f"created {role.value} token for {name.strip()!r}; store it now, it is not shown again:")
    typer.echo(token)


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "-"


def _row(token: ApiToken, organisations: dict[int, str]) -> tuple[str, ...]:
    return (
        str(token.id),
        token.name,
        token.role.value,
        token.area_code or "-",
        organisations.get(token.organisation_id, "-") if token.organisation_id else "-",
        _when(token.created_at),
        _when(token.expires_at),
        _when(token.last_used_at),
        _when(token.revoked_at),
    )


@app.command("list")
def list_() -> None:
    """Every token with its role, area and dates (times in UTC); never a secret or its hash."""
    with unit_of_work() as session:
        names: dict[int, str] = {i: n for i, n in session.execute(select(Organisation.id, Organisation.name))}
        rows = [COLUMNS, *(_row(t, names) for t in list_tokens(session))]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    for row in rows:
        typer.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


@app.command("revoke")
def revoke(
    token_id: int | None = typer.Option(None, "--id", help="the token's id (see `nvr token list`)"),
    name: str | None = typer.Option(None, help="the name of a live token"),
) -> None:
    """Revoke a token by id or by name; it is refused from the next request on."""
    try:
        with unit_of_work() as session:
            token = revoke_token(session, token_id=token_id, name=name, actor="cli")
    except DomainError as exc:
        raise _fail(exc) from exc
    typer.echo(f"token {token.id} ({token.name!r}) revoked at {_when(token.revoked_at)}")
