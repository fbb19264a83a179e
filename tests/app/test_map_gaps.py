"""Coverage gaps: the squares of an area where fewer than N qualified people live within K km."""

import json
from datetime import date
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.area.models import Area
from app.volunteer.models import Volunteer, VolunteerStatus
from geo.distance import destination
from tests.app.mapdata import add_area, bng_centre
from tests.app.reserve import add_volunteer

KIELDER = (-2.58, 55.23)


def gaps(client: TestClient, headers: dict[str, str], **params: Any) -> dict[str, dict[str, Any]]:
    query = {"area": "KIELDER", "cell_km": 1, "within_km": 2} | params
    response = client.get("/api/v1/map/gaps", params=query, headers=headers)
    assert response.status_code == 200, response.text
    return {f["id"]: f for f in response.json()["features"]}


def qualified_within(db: Session, cell: str, ids: list[int], km: float) -> int:
    _, i, j = cell.split(":")
    lon, lat = bng_centre(db, int(i), int(j), 1)
    distances = db.scalars(
        select(
            func.ST_Distance(Volunteer.location, func.ST_GeogFromText(f"SRID=4326;POINT({lon} {lat})"))
        ).where(Volunteer.id.in_(ids))
    )
    return sum(d <= km * 1000 for d in distances)


def test_gaps_are_exactly_the_squares_short_of_qualified_people(
    client: TestClient, db: Session, coordinator: dict[str, str]
) -> None:
    add_area(db, "KIELDER", KIELDER, radius_km=6)
    east = destination(*KIELDER, 90, 4)
    qualified = [
        add_volunteer(db, km=0.1 * (i + 1), bearing=120 * i, centre=KIELDER, skills=("flood_rescue",))
        for i in range(3)
    ]
    qualified += [
        add_volunteer(db, km=0.2 * (i + 1), bearing=90 * i, centre=east, skills=("flood_rescue",))
        for i in range(2)
    ]
    add_volunteer(db, km=0.1, centre=KIELDER, skills=("flood_rescue",), expires_on=date(2021, 5, 1))
    add_volunteer(db, km=0.2, centre=KIELDER, skills=("first_aid",))
    add_volunteer(db, km=0.3, centre=KIELDER, skills=("first_aid",))
    paused = add_volunteer(db, km=0.1, bearing=45, centre=KIELDER, skills=("flood_rescue",))
    db.execute(update(Volunteer).where(Volunteer.id == paused.id).values(status=VolunteerStatus.paused))
    db.commit()

    every_square = gaps(client, coordinator, skill="flood_rescue", min_volunteers=1000)
    assert 110 < len(every_square) < 160  # a 6 km circle is about 113 km² of 1 km squares
    found = gaps(client, coordinator, skill="flood_rescue", min_volunteers=3)
    ids = [v.id for v in qualified]
    expected = {cell for cell in every_square if qualified_within(db, cell, ids, 2.0) < 3}
    assert set(found) == expected
    assert 0 < len(found) < len(every_square)

    near_kielder = [c for c in every_square if c not in found]
    assert near_kielder and all(qualified_within(db, c, ids[:3], 2.0) == 3 for c in near_kielder)
    sample = next(iter(found.values()))["properties"]
    assert sample["skill"] == "flood_rescue" and sample["min_volunteers"] == 3 and sample["within_km"] == 2
    assert sample["volunteers"] is None  # fewer than five: not shown


def test_small_counts_in_gaps_are_withheld_and_cells_cover_the_area(
    client: TestClient, db: Session, admin: dict[str, str]
) -> None:
    add_area(db, "KIELDER", KIELDER, radius_km=6)
    for i in range(6):
        add_volunteer(db, km=0.05 * (i + 1), bearing=60 * i, centre=KIELDER)
    east = destination(*KIELDER, 90, 4.5)
    for i in range(2):
        add_volunteer(db, km=0.05 * (i + 1), centre=east)
    db.commit()
    found = gaps(client, admin, min_volunteers=10, within_km=1)
    shown = {f["properties"]["volunteers"] for f in found.values()}
    assert (
        None in shown and 6 in shown
    )  # near Kielder 5 or 6 are shown; 2 in the east and 0 elsewhere are not
    assert all(n is None or 5 <= n < 10 for n in shown)
    area = db.scalar(select(Area.geom).where(Area.code == "KIELDER"))
    for feature in found.values():
        touches = db.scalar(
            select(
                func.ST_Intersects(
                    area, func.ST_SetSRID(func.ST_GeomFromGeoJSON(json.dumps(feature["geometry"])), 4326)
                )
            )
        )
        assert touches, feature["id"]


def test_an_area_too_big_for_the_cell_size_is_refused(
    client: TestClient, db: Session, admin: dict[str, str]
) -> None:
    add_area(db, "WIDE", KIELDER, radius_km=120)
    response = client.get("/api/v1/map/gaps", params={"area": "WIDE", "cell_km": 1}, headers=admin)
    assert response.status_code == 422
    assert "use a larger cell" in response.json()["detail"]
    assert (
        client.get("/api/v1/map/gaps", params={"area": "WIDE", "cell_km": 25}, headers=admin).status_code
        == 200
    )
