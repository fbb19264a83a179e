"""`nvr volunteers ...`: the reserve in bulk."""

import getpass
import time
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from app.db import unit_of_work
from app.errors import DomainError
from app.subject.service import export_volunteer
from app.volunteer.importer import COLUMNS, ImportSummary, decode_csv, import_volunteers
from app.volunteer.service import list_volunteers

app = typer.Typer(help="The reserve's volunteers in bulk.", no_args_is_help=True)


@app.command("import")
def import_csv(
    path: Path = typer.Argument(
        ..., exists=True, dir_okay=False, readable=True, help=f"CSV, UTF-8: {','.join(COLUMNS)}"
    ),
    upsert: bool = typer.Option(False, help="update volunteers whose phone is already registered"),
) -> None:
    """Import volunteers from a CSV file: every row, or none when any row is wrong."""
    out, err = Console(), Console(stderr=True)
    started = time.perf_counter()
    try:
        text = decode_csv(path.read_bytes())
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=out,
            transient=True,
            disable=not out.is_terminal,
        ) as bar:
            task = bar.add_task("checking", total=None)

            def progress(stage: str, done: int, total: int) -> None:
                bar.update(task, description=stage, completed=done, total=total)

            with unit_of_work() as session:
                summary = import_volunteers(
                    session, text=text, actor=f"cli:{getpass.getuser()}", upsert=upsert, progress=progress
                )
    except DomainError as exc:
        err.print(f"error: {exc.detail}; nothing was imported", markup=False, highlight=False)
        raise typer.Exit(1) from exc
    if summary.errors:
        err.print(_error_table(path, summary))
        err.print(f"{len(summary.errors)} problem(s) in {path.name}; nothing was imported", highlight=False)
        raise typer.Exit(1)
    elapsed = time.perf_counter() - started
    rows = summary.created + summary.updated
    out.print(
        f"imported {path.name}: {summary.created} created, {summary.updated} updated "
        f"in {elapsed:.1f} s ({rows / elapsed:,.0f} rows/s)",
        highlight=False,
    )


@app.command("export")
def export(
    volunteer_id: int = typer.Argument(..., help="the volunteer's id"),
    output: Path | None = typer.Option(None, "--output", "-o", dir_okay=False, help="write here, not stdout"),
) -> None:
    """Everything held on one person, as JSON (a subject-access request)."""
    try:
        with unit_of_work() as session:
            document = export_volunteer(session, volunteer_id=volunteer_id).model_dump_json(indent=2)
    except DomainError as exc:
        Console(stderr=True).print(f"error: {exc.detail}", markup=False, highlight=False)
        raise typer.Exit(1) from exc
    if output is None:
        typer.echo(document)
    else:
        output.write_text(document + "\n", encoding="utf-8")


@app.command("failing")
def failing(
    limit: int = typer.Option(200, min=1, max=10000, help="show at most this many, oldest id first"),
) -> None:
    """Volunteers whose number failed for good (not a valid number, not a mobile): nothing reaches
    them until an administrator records a new one (PATCH /api/v1/volunteers/{id} with a phone)."""
    with unit_of_work() as session:
        page, total = list_volunteers(session, phone_failed=True, limit=limit)
        rows = [
            (
                str(v.id),
                v.name,
                _when(v.phone_failed_at),
                str(v.phone_failure_code or "-"),
            )
            for v, _ in page
        ]
    out = Console()
    if not rows:
        out.print("no volunteer's number has failed", highlight=False)
        return
    table = Table(title=f"Numbers that failed for good ({total})", title_justify="left")
    table.add_column("id", justify="right")
    table.add_column("name")
    table.add_column("failed at")
    table.add_column("error code", justify="right")
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    out.print(table)
    if total > len(rows):
        out.print(f"showing {len(rows)} of {total}; use --limit to see more", highlight=False)


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "-"


def _error_table(path: Path, summary: ImportSummary) -> Table:
    table = Table(title=f"Problems in {path.name}", title_justify="left")
    table.add_column("row", justify="right")
    table.add_column("column")
    table.add_column("message", overflow="fold")
    for error in summary.errors:
        table.add_row(str(error.row), Text(error.column or "-"), Text(error.message))
    return table
