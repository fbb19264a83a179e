"""`nvr activities ...`: organisations' non-emergency activities in bulk."""

import getpass
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from app.activity.importer import COLUMNS, ActivityImportSummary, import_activities
from app.db import unit_of_work
from app.errors import DomainError
from app.volunteer.importer import decode_csv

app = typer.Typer(
    help="Organisations' non-emergency activities (tree planting, river cleans).", no_args_is_help=True
)


@app.command("import")
def import_csv(
    path: Path = typer.Argument(
        ..., exists=True, dir_okay=False, readable=True, help=f"CSV, UTF-8: {','.join(COLUMNS)}"
    ),
) -> None:
    """Import activities from a CSV file, one a row: every row, or none when any row is wrong."""
    out, err = Console(), Console(stderr=True)
    try:
        text = decode_csv(path.read_bytes())
        with unit_of_work() as session:
            summary = import_activities(session, text=text, actor=f"cli:{getpass.getuser()}")
    except DomainError as exc:
        err.print(f"error: {exc.detail}; nothing was imported", markup=False, highlight=False)
        raise typer.Exit(1) from exc
    if summary.errors:
        err.print(_error_table(path, summary))
        err.print(f"{len(summary.errors)} problem(s) in {path.name}; nothing was imported", highlight=False)
        raise typer.Exit(1)
    out.print(
        f"imported {path.name}: {summary.activities} activities, {summary.attendances} attendances",
        highlight=False,
    )


def _error_table(path: Path, summary: ActivityImportSummary) -> Table:
    table = Table(title=f"Problems in {path.name}", title_justify="left")
    table.add_column("row", justify="right")
    table.add_column("column")
    table.add_column("message", overflow="fold")
    for error in summary.errors:
        table.add_row(str(error.row), Text(error.column or "-"), Text(error.message))
    return table
