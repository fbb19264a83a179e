"""Capacity per grid square: counts, the privacy floor of five, vector tiles and their cache headers."""

from datetime import date
from itertools import pairwise
from typing import Any

import mapbox_vector_tile
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.auth.models import Role
from app.map.capacity import cell_km_for_zoom, refresh_capacity
from app.map.models import CapacityCell, CapacityRefresh
from app.volunteer.models import Volunteer, VolunteerStatus
from tests.app.mapdata import CARLISLE, add_area, bng_cell, bng_centre, tile_of
from tests.app.reserve import add_volunteer
from tests.conftest import bearer


class Squares:
    """Three 1 km squares in one 5 km square near Carlisle: A holds 4 people, B 5 qualified and more, D one.

    D's one person makes the 5 km square's unpublished remainder five (A's 4 and D's 1), so B can be
    shown beside it without singling A's four out (see the residual rule in app/map/capacity.py).
    """

    def __init__(self, db: Session) -> None:
        x, y = bng_cell(db, *CARLISLE, 1)
        self.x0 = x - x % 5  # the first 1 km column of a 5 km square, so A and B share it
        self.y = y
        self.a = bng_centre(db, self.x0, y, 1)
        self.b = bng_centre(db, self.x0 + 2, y, 1)
        self.d = bng_centre(db, self.x0 + 4, y, 1)

    def one_km(self, column: int) -> str:
        return f"1km:{self.x0 + column}:{self.y}"

    @property
    def five_km(self) -> str:
        return f"5km:{self.x0 // 5}:{self.y // 5}"


@pytest.fixture
def squares(db: Session) -> Squares:
    add_area(db, "HOME", CARLISLE, radius_km=30)
    s = Squares(db)
    for i in range(4):
        add_volunteer(db, km=0.05 + 0.04 * i, bearing=90 * i, centre=s.a)
    for i in range(5):
        skills = ("first_aid", "chainsaw") if i < 2 else ("first_aid",)
        add_volunteer(db, km=0.05 + 0.04 * i, bearing=70 * i, centre=s.b, skills=skills)
    add_volunteer(db, km=0.3, bearing=200, centre=s.b, expires_on=date(2020, 1, 1))  # active, lapsed skill
    add_volunteer(db, km=0.1, centre=s.d)
    paused = add_volunteer(db, km=0.25, bearing=300, centre=s.b)
    db.execute(update(Volunteer).where(Volunteer.id == paused.id).values(status=VolunteerStatus.paused))
    db.commit()
    return s


def cells(client: TestClient, headers: dict[str, str], **params: Any) -> dict[str, int]:
    response = client.get("/api/v1/map/capacity", params={"area": "HOME", **params}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/geo+json"
    body = response.json()
    assert body["type"] == "FeatureCollection" and body["min_count"] == 5
    return {f["properties"]["cell"]: f["properties"]["volunteers"] for f in body["features"]}


def test_cells_of_fewer_than_five_are_never_shown(
    client: TestClient, db: Session, squares: Squares, coordinator: dict[str, str]
) -> None:
    viewer = bearer(db, Role.lrf_viewer, area="HOME")
    for headers in (coordinator, viewer):
        anyone = cells(client, headers, cell_km=1)
        assert anyone == {squares.one_km(2): 6}  # A's 4 suppressed; B: 5 qualified + 1 lapsed, not the paused
        assert cells(client, headers, cell_km=1, skill="first_aid") == {squares.one_km(2): 5}
        assert cells(client, headers, cell_km=1, skill="chainsaw") == {}  # 2 people: suppressed
        assert cells(client, headers, cell_km=5) == {squares.five_km: 11}
        assert cells(client, headers, cell_km=5, skill="first_aid") == {squares.five_km: 10}
        assert list(cells(client, headers, cell_km=25).values()) == [11]
    stored = db.scalar(select(func.min(CapacityCell.volunteers)))
    assert stored == 5  # small counts are not even stored


def test_only_credentials_that_count_at_selection_count_on_the_map(
    client: TestClient, db: Session, squares: Squares, coordinator: dict[str, str]
) -> None:
    # Five more people in B: first-aiders not yet verified, and sandbaggers (no check needed), pending.
    for i in range(5):
        add_volunteer(db, km=0.2, bearing=15 * i, centre=squares.b, verified=False)
        add_volunteer(
            db, km=0.2, bearing=15 * i + 5, centre=squares.b, skills=("sandbagging",), verified=False
        )
    db.commit()
    assert cells(client, coordinator, cell_km=1) == {squares.one_km(2): 16}  # everyone active counts
    assert cells(client, coordinator, cell_km=1, skill="first_aid") == {squares.one_km(2): 5}  # as before
    assert cells(client, coordinator, cell_km=1, skill="sandbagging") == {squares.one_km(2): 5}


def test_a_cell_is_a_national_grid_square(
    client: TestClient, db: Session, squares: Squares, admin: dict[str, str]
) -> None:
    body = client.get("/api/v1/map/capacity", params={"area": "HOME", "cell_km": 1}, headers=admin).json()
    ring = body["features"][0]["geometry"]["coordinates"][0]
    assert len(ring) == 5 and ring[0] == ring[-1]
    lons, lats = [p[0] for p in ring], [p[1] for p in ring]
    assert min(lons) < squares.b[0] < max(lons) and min(lats) < squares.b[1] < max(lats)
    assert 0.013 < max(lons) - min(lons) < 0.018  # 1 km of longitude at 55° N
    assert 0.0085 < max(lats) - min(lats) < 0.0095  # 1 km of latitude
    signed = sum(a[0] * b[1] - b[0] * a[1] for a, b in pairwise(ring))
    assert signed > 0  # RFC 7946: exterior rings counter-clockwise


def decode(content: bytes) -> list[dict[str, Any]]:
    tile = mapbox_vector_tile.decode(content)
    return list(tile.get("capacity", {}).get("features", []))


def test_vector_tiles_decode_and_carry_cache_headers(
    client: TestClient, db: Session, squares: Squares, coordinator: dict[str, str]
) -> None:
    z, x, y = tile_of(*squares.b, 10)
    url = f"/tiles/capacity/{z}/{x}/{y}.mvt"
    response = client.get(url, headers=coordinator)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    assert response.headers["cache-control"] == "private, max-age=60"
    assert response.headers["vary"] == "Authorization"
    assert response.headers["last-modified"].endswith("GMT")
    etag = response.headers["etag"]
    features = decode(response.content)
    assert [(f["properties"]["cell"], f["properties"]["volunteers"]) for f in features] == [
        (squares.one_km(2), 6)
    ]
    assert features[0]["geometry"]["type"] == "Polygon"
    assert features[0]["properties"]["cell_km"] == cell_km_for_zoom(10) == 1

    again = client.get(url, headers=coordinator | {"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag

    add_volunteer(db, km=0.1, centre=squares.a)  # A reaches five, but maps show the snapshot until a refresh
    for i in range(4):
        add_volunteer(db, km=0.05 * (i + 1), bearing=90 * i, centre=squares.d)  # and so does D
    db.commit()
    assert client.get(url, headers=coordinator | {"If-None-Match": etag}).status_code == 304
    refresh_capacity(db)
    db.commit()
    fresh = client.get(url, headers=coordinator | {"If-None-Match": etag})
    assert fresh.status_code == 200 and fresh.headers["etag"] != etag
    counts = sorted((f["properties"]["cell"], f["properties"]["volunteers"]) for f in decode(fresh.content))
    assert counts == [(squares.one_km(0), 5), (squares.one_km(2), 6), (squares.one_km(4), 5)]


def test_a_national_zoom_tile_shows_coarse_squares(
    client: TestClient, db: Session, squares: Squares, admin: dict[str, str]
) -> None:
    z, x, y = tile_of(*CARLISLE, 5)
    features = decode(client.get(f"/tiles/capacity/{z}/{x}/{y}.mvt", headers=admin).content)
    assert [(f["properties"]["cell_km"], f["properties"]["volunteers"]) for f in features] == [(25, 11)]
    skill = decode(client.get(f"/tiles/capacity/{z}/{x}/{y}.mvt?skill=chainsaw", headers=admin).content)
    assert skill == []


def test_a_forums_tiles_stop_at_its_area(client: TestClient, db: Session, squares: Squares) -> None:
    add_area(db, "FAR", (-1.6, 54.97), radius_km=10)  # Newcastle, 80 km east
    far = bearer(db, Role.lrf_viewer, area="FAR")
    home = bearer(db, Role.lrf_viewer, area="HOME")
    z, x, y = tile_of(*CARLISLE, 5)  # one tile holds both areas
    url = f"/tiles/capacity/{z}/{x}/{y}.mvt"
    assert len(decode(client.get(url, headers=home).content)) == 1
    assert decode(client.get(url, headers=far).content) == []
    z, x, y = tile_of(*squares.b, 10)
    assert client.get(f"/tiles/capacity/{z}/{x}/{y}.mvt", headers=far).status_code == 404
    etags = {client.get(url, headers=h).headers["etag"] for h in (home, far)}
    assert len(etags) == 2  # what a tile holds depends on the area, and so does its validator


def test_the_snapshot_is_built_on_first_use_and_then_refreshed(
    client: TestClient, db: Session, squares: Squares, admin: dict[str, str]
) -> None:
    assert db.scalar(select(func.count()).select_from(CapacityRefresh)) == 0
    client.get("/api/v1/map/capacity", params={"area": "HOME"}, headers=admin)
    client.get("/api/v1/map/capacity", params={"area": "HOME"}, headers=admin)
    first = db.scalars(select(CapacityRefresh)).all()
    assert len(first) == 1 and first[0].volunteers == 11
    later = refresh_capacity(db)
    assert later.id > first[0].id and later.cells == db.scalar(select(func.count()).select_from(CapacityCell))


def test_zoom_picks_a_cell_size_that_keeps_tiles_small() -> None:
    assert [cell_km_for_zoom(z) for z in (0, 5, 6, 7, 9, 10, 14)] == [25, 25, 25, 5, 5, 1, 1]


def test_bad_parameters_are_clear(
    client: TestClient, db: Session, squares: Squares, admin: dict[str, str]
) -> None:
    response = client.get("/api/v1/map/capacity", params={"area": "HOME", "cell_km": 2}, headers=admin)
    assert response.status_code == 422 and response.json()["detail"] == "cell_km must be one of 1, 5, 25"
    response = client.get("/api/v1/map/capacity", params={"area": "HOME", "skill": "unicorn"}, headers=admin)
    assert response.status_code == 422 and "unicorn" in response.json()["detail"]
    assert client.get("/tiles/capacity/23/0/0.mvt", headers=admin).status_code == 422
    assert client.get("/tiles/capacity/2/4/0.mvt", headers=admin).status_code == 404


def test_a_fine_square_is_withheld_when_it_would_single_out_the_rest_of_its_coarse_square(
    client: TestClient, db: Session, admin: dict[str, str]
) -> None:
    add_area(db, "HOME", CARLISLE, radius_km=30)
    s = Squares(db)
    for i in range(5):
        add_volunteer(db, km=0.05 + 0.04 * i, bearing=72 * i, centre=s.b)
    for i in range(3):
        add_volunteer(db, km=0.05 + 0.04 * i, bearing=120 * i, centre=s.a)
    db.commit()
    # 8 in the 5 km square, 5 of them in B: showing B would tell that 3 live in the other 24 squares.
    assert cells(client, admin, cell_km=1) == {}
    assert cells(client, admin, cell_km=5) == {s.five_km: 8}
    for i in range(2):
        add_volunteer(db, km=0.1 + 0.05 * i, bearing=90 * i, centre=s.d)
    db.commit()
    refresh_capacity(db)
    db.commit()
    # Now the rest is 5 (A's 3 and D's 2): B can be shown, and nothing smaller than five is implied.
    assert cells(client, admin, cell_km=1) == {s.one_km(2): 5}
    assert cells(client, admin, cell_km=5) == {s.five_km: 10}
