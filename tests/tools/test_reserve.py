"""The synthetic reserve: valid unique mobiles, UK homes, realistic passports, the same people per seed."""

from collections import Counter
from typing import Any

import pytest
from geoalchemy2 import Geometry
from sqlalchemy import cast, func, select
from sqlalchemy.orm import Session

from app.volunteer.models import AvailabilityWindow, Credential, Volunteer, VolunteerStatus
from app.volunteer.phone import normalise_mobile
from app.volunteer.schemas import GeoPoint, VolunteerCreate
from app.volunteer.service import create_volunteer, today_uk
from geo.distance import haversine_km
from geo.places import UK_BBOX, find_town
from tools.reserve import seed_volunteers, synthetic_volunteers

N = 2000


def seeded(db: Session, after_id: int) -> list[Any]:
    """(id, name, phone, lon, lat, max_travel_km, status) of volunteers added after `after_id`."""
    geom = cast(Volunteer.location, Geometry)
    return list(
        db.execute(
            select(
                Volunteer.id,
                Volunteer.name,
                Volunteer.phone,
                func.ST_X(geom),
                func.ST_Y(geom),
                Volunteer.max_travel_km,
                Volunteer.status,
            )
            .where(Volunteer.id > after_id)
            .order_by(Volunteer.id)
        )
    )


def last_id(db: Session) -> int:
    return db.scalar(select(func.max(Volunteer.id))) or 0


def passports(db: Session, after_id: int) -> list[tuple[int, str, Any]]:
    return list(
        db.execute(
            select(Credential.volunteer_id, Credential.skill_code, Credential.expires_on)
            .where(Credential.volunteer_id > after_id)
            .order_by(Credential.volunteer_id, Credential.id)
        )
    )


def test_seeding_makes_a_plausible_reserve(db: Session) -> None:
    before = last_id(db)
    summary = seed_volunteers(db, count=N, actor="test", seed=11)
    rows = seeded(db, before)
    assert summary.volunteers == len(rows) == N

    phones = [r.phone for r in rows]
    assert len(set(phones)) == N
    assert all(normalise_mobile(p) == p for p in phones), "every phone is a valid UK mobile in E.164"

    min_lon, min_lat, max_lon, max_lat = UK_BBOX
    assert all(min_lon <= r[3] <= max_lon and min_lat <= r[4] <= max_lat for r in rows)
    assert all(r.status is VolunteerStatus.active for r in rows)
    assert len({r.name for r in rows}) > N / 4, "names vary"

    limits = [r.max_travel_km for r in rows if r.max_travel_km is not None]
    assert 0.15 < len(limits) / N < 0.25
    assert all(5 <= km <= 50 for km in limits)

    credentials = passports(db, before)
    assert summary.credentials == len(credentials)
    per_person = Counter(vid for vid, _, _ in credentials)
    assert set(per_person) == {r.id for r in rows}, "everyone holds at least one credential"
    assert set(per_person.values()) <= {1, 2, 3}
    skills = Counter(code for _, code, _ in credentials)
    assert skills.most_common(1)[0][0] == "first_aid"
    assert skills["boat_crew"] < skills["welfare"] / 2
    today = today_uk()
    expired = sum(1 for _, _, expires_on in credentials if expires_on < today)
    assert 0.07 < expired / len(credentials) < 0.13
    assert all(expires_on <= today.replace(year=today.year + 3) for _, _, expires_on in credentials)

    windowed = db.scalar(
        select(func.count(func.distinct(AvailabilityWindow.volunteer_id))).where(
            AvailabilityWindow.volunteer_id > before
        )
    )
    assert 0.10 < (windowed or 0) / N < 0.20


def test_same_seed_same_people(db: Session) -> None:
    def run() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        before = last_id(db)
        with db.begin_nested() as savepoint:
            seed_volunteers(db, count=300, actor="test", seed=5)
            people = [tuple(r[1:]) for r in seeded(db, before)]
            skills = [(code, expires_on) for _, code, expires_on in passports(db, before)]
            savepoint.rollback()
        return people, skills

    first, second = run(), run()
    assert first == second
    other = synthetic_volunteers(300, seed=6, today=today_uk())
    assert [p.phone for p in other] != [row[1] for row in first[0]]


def test_phones_already_held_are_skipped(db: Session) -> None:
    planned = synthetic_volunteers(50, seed=9, today=today_uk())
    holder = create_volunteer(
        db,
        data=VolunteerCreate(
            name="Already Here",
            phone=planned[0].phone,
            location=GeoPoint(type="Point", coordinates=[-2.0, 53.0]),
        ),
        actor="test",
    )
    summary = seed_volunteers(db, count=50, actor="test", seed=9)
    rows = seeded(db, holder.id)
    assert summary.volunteers == len(rows) == 50
    assert planned[0].phone not in {r.phone for r in rows}
    assert [r.phone for r in rows][:49] == [p.phone for p in planned[1:]]


@pytest.mark.parametrize("radius_km", [5.0, 15.0])
def test_seeding_near_a_town_keeps_homes_within_the_radius(db: Session, radius_km: float) -> None:
    carlisle = find_town("carlisle")
    before = last_id(db)
    seed_volunteers(db, count=200, actor="test", seed=1, near=carlisle, radius_km=radius_km)
    rows = seeded(db, before)
    distances = [haversine_km(carlisle.lon, carlisle.lat, r[3], r[4]) for r in rows]
    assert len(rows) == 200
    # Haversine is within 0.5% of the ellipsoid the homes were placed on.
    assert max(distances) <= radius_km * 1.005
    assert max(distances) > radius_km * 0.8, "homes spread over the disc, not bunched at the centre"
