"""Bulk import of volunteers from CSV: every row is checked first, then all are written, or none are."""

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from pydantic import ValidationError
from pydantic_core import ErrorDetails
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit.service import record
from app.errors import Conflict, InvalidInput
from app.volunteer.models import Credential, Volunteer, VolunteerStatus, volunteer_organisations
from app.volunteer.schemas import VolunteerCreate
from app.volunteer.service import (
    check_skill_codes,
    erased_phone_problem,
    erased_phones,
    forget_erasures,
    fresh_consent,
    known_skills,
    organisations_named,
    point_element,
)

COLUMNS = (
    "name",
    "phone",
    "lon",
    "lat",
    "skills",
    "max_travel_km",
    "languages",
    "organisations",
    "consent_at",
)
REQUIRED = ("name", "phone", "lon", "lat")
LIST_SEPARATOR = ";"
# Rows written per statement: large enough to amortise round trips, small enough to keep memory flat.
CHUNK = 2000
HEADER_ROW = 1
PHONE_CONSTRAINT = "uq_volunteers_phone"

# Called as (stage, rows done, rows in the file): stage is "checking" then "writing".
Progress = Callable[[str, int, int], None]
_T = TypeVar("_T")
# (volunteer id, skill code) -> (the expiry a reminder was sent for, the nearest threshold reminded).
Reminded = dict[tuple[int, str], tuple[date | None, int | None]]


@dataclass(frozen=True)
class RowError:
    """One problem in the file, where a person looking at it in a spreadsheet would find it."""

    row: int
    column: str
    message: str


@dataclass
class ImportSummary:
    """What an import did; when `errors` is not empty it did nothing."""

    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)


@dataclass(frozen=True)
class _Row:
    number: int
    data: VolunteerCreate


def decode_csv(data: bytes) -> str:
    """The text of an uploaded file; only UTF-8 (with or without a byte-order mark) is accepted."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InvalidInput(
            f"the file is not UTF-8 text (byte {data[exc.start]:#04x} on line {line}); "
            "save it as 'CSV UTF-8' and import it again"
        ) from exc


def import_volunteers(
    session: Session, *, text: str, actor: str, upsert: bool = False, progress: Progress | None = None
) -> ImportSummary:
    """Check every row of a CSV file, then add its volunteers (and with `upsert` update those whose
    phone is already registered) in the caller's transaction; if any row is wrong nothing is written.

    On update, a column missing from the file leaves that detail unchanged and a status is never changed
    (an import must not undo an opt-out); a column present replaces it, so a blank `skills` cell empties
    the passport. `consent_at` is recorded only where a row gives it; the phone of an erased volunteer is
    a row error unless that row's `consent_at` is after the erasure (fresh consent).
    """
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise InvalidInput(f"the file is not readable as CSV: {exc}") from exc
    header, errors = _header(records[0] if records else [])
    if errors:
        return ImportSummary(errors=errors)
    total = len(records) - 1
    rows, errors = _check_rows(session, header, records[1:], progress=progress, total=total)
    existing = _phone_owners(session, [r.data.phone for r in rows])
    if not upsert:
        errors += [
            RowError(
                r.number,
                "phone",
                f"{r.data.phone} already belongs to volunteer {existing[r.data.phone]} "
                "(import with upsert to update existing volunteers)",
            )
            for r in rows
            if r.data.phone in existing
        ]
    erased = erased_phones(session, phones=[r.data.phone for r in rows if r.data.phone not in existing])
    errors += [
        RowError(r.number, "phone", erased_phone_problem(r.data.phone))
        for r in rows
        if r.data.phone in erased and not fresh_consent(r.data.consent_at, erased[r.data.phone])
    ]
    if errors:
        return ImportSummary(errors=sorted(errors, key=lambda e: e.row))

    forget_erasures(session, phones=list(erased))
    new = [r.data for r in rows if r.data.phone not in existing]
    changed = [(existing[r.data.phone], r.data) for r in rows if r.data.phone in existing]
    try:
        _write(session, header=header, new=new, changed=changed, progress=progress)
    except IntegrityError as exc:
        if getattr(getattr(exc.orig, "diag", None), "constraint_name", None) != PHONE_CONSTRAINT:
            raise
        raise Conflict(
            "a phone in the file was registered by someone else during the import; nothing was imported, "
            "import the file again"
        ) from exc
    record(
        session,
        actor=actor,
        action="volunteer.imported",
        entity_type="volunteer",
        entity_id=None,
        detail={"rows": len(rows), "created": len(new), "updated": len(changed), "upsert": upsert},
    )
    session.flush()
    return ImportSummary(created=len(new), updated=len(changed))


def _header(cells: Sequence[str]) -> tuple[list[str], list[RowError]]:
    """Column names in file order, or why the header is unusable (reported as row 1).

    Unnamed columns (trailing commas from spreadsheets) are ignored.
    """
    header = [c.strip().lower() for c in cells]
    expected = f"expected columns: {','.join(COLUMNS)} (the first four are required)"
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


def _check_rows(
    session: Session, header: list[str], records: list[list[str]], *, progress: Progress | None, total: int
) -> tuple[list[_Row], list[RowError]]:
    """Validate every record as the API would, and refuse a phone that appears on two rows."""
    catalogue = known_skills(session)
    unknown_skill_messages: dict[frozenset[str], str] = {}
    rows: list[_Row] = []
    errors: list[RowError] = []
    first_row_of: dict[str, int] = {}
    for index, cells in enumerate(records):
        number = index + HEADER_ROW + 1
        if progress is not None and index % 500 == 0:
            progress("checking", index, total)
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            errors.append(
                RowError(number, "", f"{len(cells)} values but the header has {len(header)} columns")
            )
            continue
        values = {name: cells[i].strip() if i < len(cells) else "" for i, name in enumerate(header)}
        data, row_errors = _check_row(number, values)
        codes = frozenset(_skill_codes(values.get("skills", ""))) - catalogue
        if codes:
            if codes not in unknown_skill_messages:
                unknown_skill_messages[codes] = _unknown_skills_message(session, codes)
            row_errors.append(RowError(number, "skills", unknown_skill_messages[codes]))
        if data is not None and data.phone in first_row_of:
            row_errors.append(
                RowError(number, "phone", f"{data.phone} is also on row {first_row_of[data.phone]}")
            )
        if data is not None:
            first_row_of.setdefault(data.phone, number)
        if row_errors:
            errors += row_errors
        elif data is not None:
            rows.append(_Row(number, data))
    if progress is not None:
        progress("checking", total, total)
    return rows, errors


def _check_row(number: int, values: dict[str, str]) -> tuple[VolunteerCreate | None, list[RowError]]:
    """One record through the API's own schema, with its errors mapped back to CSV columns."""
    missing = [RowError(number, name, "is required") for name in REQUIRED if not values[name]]
    entries = _split(values.get("skills", ""))
    malformed = [
        RowError(number, "skills", f"{entry!r} must look like code[:level[:expires_on YYYY-MM-DD]]")
        for entry in entries
        if entry.count(":") > 2
    ]
    payload: dict[str, Any] = {
        "name": values["name"],
        "phone": values["phone"],
        "location": {"type": "Point", "coordinates": [values["lon"], values["lat"]]},
        "skills": [_credential(entry) for entry in entries],
        "organisations": _split(values.get("organisations", "")),
    }
    if values.get("max_travel_km"):
        payload["max_travel_km"] = values["max_travel_km"]
    if values.get("languages"):
        payload["languages"] = _split(values["languages"])
    if values.get("consent_at"):
        payload["consent_at"] = values["consent_at"]
    try:
        return VolunteerCreate.model_validate(payload), missing + malformed
    except ValidationError as exc:
        said = {e.column for e in missing}
        mapped = [e for e in (_row_error(number, d, entries) for d in exc.errors()) if e.column not in said]
        return None, missing + malformed + mapped


def _split(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(LIST_SEPARATOR) if part.strip()]


def _credential(entry: str) -> dict[str, Any]:
    """`code[:level[:expires_on]]` as CredentialCreate fields."""
    parts = [p.strip() for p in entry.split(":")]
    fields: dict[str, Any] = {"code": parts[0]}
    if len(parts) > 1 and parts[1]:
        fields["level"] = parts[1]
    if len(parts) > 2 and parts[2]:
        fields["expires_on"] = parts[2]
    return fields


def _skill_codes(cell: str) -> Iterator[str]:
    return (entry.split(":")[0].strip() for entry in _split(cell))


def _unknown_skills_message(session: Session, codes: Iterable[str]) -> str:
    """The API's own message for unknown skill codes."""
    try:
        check_skill_codes(session, sorted(codes))
    except InvalidInput as exc:
        return exc.detail
    raise AssertionError("codes missing from the catalogue were accepted")  # pragma: no cover


def _row_error(number: int, error: ErrorDetails, entries: list[str]) -> RowError:
    """A schema error as (row, CSV column, message)."""
    loc = error["loc"]
    message = error["msg"].removeprefix("Value error, ")
    head = str(loc[0]) if loc else ""
    if head == "location":
        message = message.removeprefix("location: ")
        if len(loc) == 3:
            return RowError(number, "lon" if loc[2] == 0 else "lat", message)
        return RowError(number, "lat" if "latitude" in message else "lon", message)
    if head == "skills" and len(loc) >= 2 and isinstance(loc[1], int):
        entry = entries[loc[1]]
        part = ".".join(str(p) for p in loc[2:])
        return RowError(number, "skills", f"{entry!r}: {part}: {message}")
    if head in ("languages", "organisations") and len(loc) >= 2:
        return RowError(number, head, f"item {int(loc[1]) + 1}: {message}")
    return RowError(number, head if head in COLUMNS else "", message)


def _phone_owners(session: Session, phones: Sequence[str]) -> dict[str, int]:
    """Which of these phones are registered already, and to whom."""
    owners: dict[str, int] = {}
    for chunk in _chunks(phones, 5000):
        owners.update(
            (str(phone), vid)
            for vid, phone in session.execute(
                select(Volunteer.id, Volunteer.phone).where(Volunteer.phone.in_(chunk))
            )
        )
    return owners


def _write(
    session: Session,
    *,
    header: list[str],
    new: list[VolunteerCreate],
    changed: list[tuple[int, VolunteerCreate]],
    progress: Progress | None,
) -> None:
    """Insert and update in bulk, chunk by chunk; the caller's transaction makes it all or nothing."""
    names = [n for data in new for n in data.organisations]
    if "organisations" in header:
        names += [n for _, data in changed for n in data.organisations]
    organisation_ids = {o.name: o.id for o in organisations_named(session, names=names)}
    done, total = 0, len(new) + len(changed)
    for chunk in _chunks(new, CHUNK):
        ids = session.scalars(
            insert(Volunteer)
            .execution_options(render_nulls=True)
            .returning(Volunteer.id, sort_by_parameter_order=True),
            [
                _volunteer_values(data, header=None)
                | {"status": VolunteerStatus(data.status), "consent_at": data.consent_at}
                for data in chunk
            ],
        ).all()
        _add_passports(
            session, list(zip(ids, chunk, strict=True)), organisation_ids, skills=True, organisations=True
        )
        done += len(chunk)
        if progress is not None:
            progress("writing", done, total)
    for pairs in _chunks(changed, CHUNK):
        ids = [vid for vid, _ in pairs]
        session.execute(
            update(Volunteer), [{"id": vid} | _volunteer_values(data, header=header) for vid, data in pairs]
        )
        reminded: Reminded = {}
        if "skills" in header:
            reminded = _reminders_sent(session, ids)
            session.execute(delete(Credential).where(Credential.volunteer_id.in_(ids)))
        if "organisations" in header:
            session.execute(
                delete(volunteer_organisations).where(volunteer_organisations.c.volunteer_id.in_(ids))
            )
        _add_passports(
            session,
            list(pairs),
            organisation_ids,
            skills="skills" in header,
            organisations="organisations" in header,
            reminded=reminded,
        )
        done += len(pairs)
        if progress is not None:
            progress("writing", done, total)
    _expire_updated(session, {vid for vid, _ in changed})


def _volunteer_values(data: VolunteerCreate, *, header: list[str] | None) -> dict[str, Any]:
    """Column values for a volunteer; for an update (`header` given) only those the file carries."""
    values: dict[str, Any] = {
        "name": data.name.strip(),
        "phone": data.phone,
        "location": point_element(data.location),
    }
    for column in ("max_travel_km", "languages"):
        if header is None or column in header:
            values[column] = getattr(data, column)
    if header is not None and data.consent_at is not None:
        values["consent_at"] = data.consent_at  # a blank cell never withdraws consent already recorded
    return values


def _reminders_sent(session: Session, ids: Sequence[int]) -> Reminded:
    """The expiry reminders already sent for these volunteers' credentials, with the expiry they were for."""
    c = Credential
    rows = session.execute(
        select(c.volunteer_id, c.skill_code, c.expires_on, c.expiry_reminded_days).where(
            c.volunteer_id.in_(ids), c.expiry_reminded_days.is_not(None)
        )
    )
    return {(vid, code): (expires_on, days) for vid, code, expires_on, days in rows}


def _add_passports(
    session: Session,
    pairs: list[tuple[int, VolunteerCreate]],
    organisation_ids: dict[str, int],
    *,
    skills: bool,
    organisations: bool,
    reminded: Reminded | None = None,
) -> None:
    """Insert the passports and organisation links; a credential re-imported with the same expiry keeps
    the reminders already sent for it (a renewed one, with a new expiry, is reminded afresh)."""
    kept = reminded or {}

    def reminded_days(vid: int, code: str, expires_on: date | None) -> int | None:
        before = kept.get((vid, code))
        return before[1] if before is not None and before[0] == expires_on else None

    credentials = [
        {
            "volunteer_id": vid,
            "skill_code": c.code,
            "level": c.level,
            "expires_on": c.expires_on,
            "expiry_reminded_days": reminded_days(vid, c.code, c.expires_on),
        }
        for vid, data in pairs
        for c in data.skills
    ]
    links = [
        {"volunteer_id": vid, "organisation_id": organisation_ids[name]}
        for vid, data in pairs
        for name in sorted(set(data.organisations))
    ]
    if skills and credentials:
        session.execute(insert(Credential).execution_options(render_nulls=True), credentials)
    if organisations and links:
        session.execute(insert(volunteer_organisations), links)


def _chunks(items: Sequence[_T], size: int) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _expire_updated(session: Session, ids: set[int]) -> None:
    """Bulk updates bypass the identity map: make any volunteer the session holds reload."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Volunteer) and obj.id in ids:
            session.expire(obj)
