"""`nvr warnings ...`: official warnings (CAP alerts and feeds, Environment Agency flood warnings)."""

from pathlib import Path

import typer

from alerts.safexml import MAX_DOCUMENT_BYTES, DocumentError
from app.db import unit_of_work
from app.errors import DomainError
from app.warning.service import ingest_document
from geo.errors import GeometryError

app = typer.Typer(help="Official warnings: CAP and Environment Agency.", no_args_is_help=True)
ACTOR = "cli"


@app.command("ingest")
def ingest(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="a CAP alert or feed, or EA JSON"),
) -> None:
    """Ingest a CAP alert, an Atom/RSS feed of alerts or an EA /id/floods response (all or nothing)."""
    if file.stat().st_size > MAX_DOCUMENT_BYTES:
        typer.echo(f"error: {file.name} is over the limit of {MAX_DOCUMENT_BYTES:,} bytes", err=True)
        raise typer.Exit(2)
    data = file.read_bytes()
    media_type = "application/json" if data.lstrip()[:1] in (b"{", b"[") else "application/xml"
    try:
        with unit_of_work() as session:
            report = ingest_document(session, data=data, media_type=media_type, actor=ACTOR)
            lines = [
                f"{i.outcome.value}\twarning {i.warning.id}\t{i.warning.severity.value}\t"
                f"{i.warning.state.value}\t{i.warning.headline or i.warning.event}"
                for i in report.items
            ]
    except (DocumentError, GeometryError, DomainError) as exc:
        typer.echo(f"error: {file.name}: {getattr(exc, 'detail', exc)}", err=True)
        raise typer.Exit(2) from exc
    for line in lines:
        typer.echo(line)
    for link in report.links:
        typer.echo(f"linked only (not fetched): {link}")
    updated = sum(i.outcome.value in ("updated", "withdrawn") for i in report.items)
    typer.echo(
        f"{len(report.items)} messages from {file.name}: {report.created} new, {updated} updated or "
        f"withdrawn, {len(report.items) - report.created - updated} already known"
    )
