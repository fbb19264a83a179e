"""Bulk import of activities from CSV, one activity a row: every row is checked first, then all are
written, or none are (the volunteer import's rules and row errors, app/volunteer/importer.py)."""

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from app.activity.schemas import ActivityCreate
from app.activity.service import (
    award_milestones,
    check_activity,
    recorder_problem,
    resolve_volunteers,
    write_activity,
)
from app.audit.service import record
from app.errors import InvalidInput
from app.organisation.models import Organisation
from app.volunteer.importer import HEADER_ROW, LIST_SEPARATOR, RowError

COLUMNS = ("held_on", "title", "organisation", "place", "lon", "lat", "hours", "volunteers")
REQUIRED = ("held_on", "title", "organisation", "hours", "volunteers")
MAX_ROWS = 5000


@dataclass
class ActivityImportSummary:
    """What an import did; when `errors` is not empty it did nothing."""

    activities: int = 0
    attendances: int = 0
    errors: list[RowError] = field(default_factory=list)


def import_activities(
    session: Session, *, text: str, actor: str, recorder: Organisation | None = None
) -> ActivityImportSummary:
    """Check every row of a CSV file (columns `COLUMNS`; `volunteers` lists ids or E.164 mobiles split by
    ";"; a place, or lon and lat), then record its activities in the caller's transaction and thank
    anyone whose hours reached a milestone; if any row is wrong nothing is written. An organisation's
    own token (`recorder`) imports only its own activities, with only its members."""
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise InvalidInput(f"the file is not readable as CSV: {exc}") from exc
    header, errors = _header(records[0] if records else [])
    if errors:
        return ActivityImportSummary(errors=errors)
    if len(records) - 1 > MAX_ROWS:
        raise InvalidInput(f"the file has {len(records) - 1} rows; import at most {MAX_ROWS} at a time")
    checked: list[tuple[int, ActivityCreate, tuple[float, float, str]]] = []
    for index, cells in enumerate(records[1:]):
        number = index + HEADER_ROW + 1
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            errors.append(
                RowError(number, "", f"{len(cells)} values but the header has {len(header)} columns")
            )
            continue
        values = {name: cells[i].strip() if i < len(cells) else "" for i, name in enumerate(header)}
        data, row_errors = _check_row(number, values)
        problem = recorder_problem(data, recorder) if data is not None else None
        if problem is not None:
            row_errors.append(RowError(number, "organisation", problem))
        elif data is not None:
            try:
                checked.append((number, data, check_activity(data)))
            except InvalidInput as exc:
                row_errors.append(RowError(number, _column_of(exc.detail), exc.detail))
        errors += row_errors
    found, _ = resolve_volunteers(
        session, refs=[r for _, data, _ in checked for r in data.volunteers], members_of=recorder
    )
    for number, data, _ in checked:
        errors += [
            RowError(
                number,
                "volunteers",
                f"no volunteer {r}" if isinstance(r, int) else f"no volunteer has the phone {r}",
            )
            for r in dict.fromkeys(data.volunteers)
            if r not in found
        ]
    if errors:
        return ActivityImportSummary(errors=sorted(errors, key=lambda e: e.row))
    people: set[int] = set()
    attendances = 0
    for _, data, where in checked:
        ids = sorted({found[r] for r in data.volunteers})
        write_activity(session, data=data, where=where, volunteer_ids=ids, actor=actor)
        people.update(ids)
        attendances += len(ids)
    record(
        session,
        actor=actor,
        action="activity.imported",
        entity_type="activity",
        entity_id=None,
        detail={"activities": len(checked), "attendances": attendances},
    )
    award_milestones(session, volunteer_ids=sorted(people))
    session.flush()
    return ActivityImportSummary(activities=len(checked), attendances=attendances)


def _header(cells: list[str]) -> tuple[list[str], list[RowError]]:
    """Column names in file order, or why the header is unusable (reported as row 1)."""
    header = [c.strip().lower() for c in cells]
    expected = f"expected columns: {','.join(COLUMNS)} (a place, or lon and lat)"
    if not any(header):
        return header, [RowError(HEADER_ROW, "", f"the file has no header row; {expected}")]
    errors = [
        RowError(HEADER_ROW, name, f"unknown column {name!r}; {expected}")
        for name in header
        if name and name not in COLUMNS
    ]
    errors += [
        RowError(HEADER_ROW, name, f"column {name!r} appears more than once")
        for name in COLUMNS
        if header.count(name) > 1
    ]
    errors += [
        RowError(HEADER_ROW, name, f"required column {name!r} is missing; {expected}")
        for name in REQUIRED
        if name not in header
    ]
    return header, errors


def _check_row(number: int, values: dict[str, str]) -> tuple[ActivityCreate | None, list[RowError]]:
    """One record through the API's own schema, with its errors mapped back to CSV columns."""
    errors = [RowError(number, name, "is required") for name in REQUIRED if not values.get(name)]
    lon, lat = values.get("lon", ""), values.get("lat", "")
    if bool(lon) != bool(lat):
        errors.append(RowError(number, "lat" if lon else "lon", "give both lon and lat, or neither"))
    if errors:
        return None, errors
    refs: list[Any] = [int(r) if r.isascii() and r.isdigit() else r for r in _split(values["volunteers"])]
    payload: dict[str, Any] = {
        "held_on": values["held_on"],
        "title": values["title"],
        "organisation": values["organisation"],
        "hours": values["hours"],
        "volunteers": refs,
    }
    if values.get("place"):
        payload["place"] = values["place"]
    if lon:
        payload["location"] = {"type": "Point", "coordinates": [lon, lat]}
    try:
        return ActivityCreate.model_validate(payload), []
    except ValidationError as exc:
        return None, list(dict.fromkeys(_row_error(number, e["loc"], e["msg"]) for e in exc.errors()))


def _row_error(number: int, loc: tuple[int | str, ...], message: str) -> RowError:
    """A schema error as (row, CSV column, message)."""
    message = message.removeprefix("Value error, ")
    head = str(loc[0]) if loc else ""
    if head == "location":
        return RowError(
            number, "lat" if len(loc) == 3 and loc[2] == 1 else "lon", message.removeprefix("location: ")
        )
    if head == "volunteers" and len(loc) >= 2 and isinstance(loc[1], int):
        return RowError(
            number, "volunteers", f"item {loc[1] + 1}: must be a volunteer id or a mobile in E.164 (+447...)"
        )
    return RowError(number, head if head in COLUMNS else "place", message)


def _column_of(problem: str) -> str:
    """The column a problem of `check_activity` is about: its message starts with the field's name."""
    head = problem.split(" ", 1)[0].rstrip(":")
    return {"location": "lon", "place": "place"}.get(head, "held_on")


def _split(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(LIST_SEPARATOR) if part.strip()]
