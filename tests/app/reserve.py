"""Building volunteers at exact distances for tests, through the real service."""

from collections.abc import Iterator
from datetime import UTC, date, datetime
from itertools import count
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.volunteer.models import Credential, CredentialStatus, Volunteer
from app.volunteer.schemas import CredentialCreate, GeoPoint, VolunteerCreate
from app.volunteer.service import create_volunteer
from geo.distance import destination

CARLISLE = (-2.9350, 54.8925)
FAR_FUTURE = date(2099, 1, 1)
_numbers: Iterator[int] = count(100000)


def next_phone() -> str:
    """A fresh valid UK mobile number."""
    return f"+447911{next(_numbers):06d}"


def add_volunteer(
    db: Session,
    *,
    km: float,
    bearing: float = 0.0,
    skills: tuple[str, ...] = ("first_aid",),
    expires_on: date | None = FAR_FUTURE,
    centre: tuple[float, float] = CARLISLE,
    name: str | None = None,
    verified: bool = True,
    **fields: Any,
) -> Volunteer:
    """A volunteer `km` from `centre` on the ellipsoid, holding `skills`: verified, as an organisation
    would have done (`verified=False`: pending, as entered)."""
    lon, lat = destination(centre[0], centre[1], bearing, km) if km else centre
    data = VolunteerCreate(
        name=name or f"Volunteer {km} km {bearing}",
        phone=fields.pop("phone", None) or next_phone(),
        location=GeoPoint(type="Point", coordinates=[lon, lat]),
        skills=[CredentialCreate(code=s, expires_on=expires_on) for s in skills],
        **fields,
    )
    volunteer = create_volunteer(db, data=data, actor="test")
    if verified:
        verify_all(db, volunteer)
    db.flush()
    return volunteer


def verify_all(db: Session, volunteer: Volunteer) -> None:
    """Mark every credential of a volunteer verified, as if their organisation had checked them."""
    for credential in db.scalars(select(Credential).where(Credential.volunteer_id == volunteer.id)):
        credential.status = CredentialStatus.verified
        credential.verified_at = datetime.now(UTC)
        credential.verified_by = "test"
    db.flush()


def incident_body(**overrides: Any) -> dict[str, Any]:
    """A flood at Carlisle needing one first-aider, searched only within 10 km."""
    body: dict[str, Any] = {
        "title": "River Eden flooding",
        "kind": "flood",
        "area": {"type": "Point", "coordinates": list(CARLISLE)},
        "radius_km": 10,
        "max_radius_km": 10,
        "needs": [{"skill": "first_aid", "count": 1}],
        "overask": 20,
        "rendezvous": {"point": {"type": "Point", "coordinates": list(CARLISLE)}, "text": "Civic Centre"},
    }
    body.update(overrides)
    return body
