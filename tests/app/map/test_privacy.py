"""A forum viewer, sending any map request it likes, learns no home more precisely than its 1 km square,
and no two answers differ by one to four people (k = 5, the capacity layer's suppression floor).

The attacker is a script with a viewer token. It knows the village its target lives in (within
`PRIOR_KM` of a point) and that nobody else lives within `ALONE_KM` of it, and reads everything a
viewer can: capacity at every cell size and skill, tiles at every zoom, incidents, the live stream, and
gaps at every threshold, distance and cell size it can get accepted. Each answer that tells it
something about the target becomes a fact "the home is (or is not) within d metres of this point";
the homes consistent with every fact are then found on a grid by PostGIS with the server's own
geodesic test, and the attack's precision is the radius of that set.
"""

import json
import math
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import mapbox_vector_tile
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.api.maps import MAX_ZOOM
from app.auth.models import Role
from app.map.capacity import CELL_SIZES_KM, MIN_CELL_COUNT
from geo.distance import destination
from tests.app.mapdata import CARLISLE, add_area, bng_cell, bng_centre, forget_stream_slots, tile_of
from tests.app.reserve import add_volunteer
from tests.conftest import bearer

VILLAGE = (-2.58, 55.23)
HOME = destination(*VILLAGE, 37, 0.45)
PRIOR_KM = 2.5  # the attacker knows the target lives this close to the village
ALONE_KM = 6.0  # and that nobody else does this close
PROBE_KM = 2.5  # the farthest the attacker measures from a square's centre
STEP_M = 25.0
SLACK_M = 18.0  # a consistent home is within 25 / sqrt(2) m of some grid point
FINE_STEP_M = 1.0


@dataclass
class Fact:
    """The target's home is within `metres` of (lon, lat), or is not."""

    lon: float
    lat: float
    metres: float
    inside: bool


@dataclass
class Attacker:
    """A viewer script: sends map requests, turns answers into facts, and infers the target's home."""

    client: TestClient
    headers: dict[str, str]
    db: Session
    facts: list[Fact] = field(default_factory=list)
    sent: int = 0
    refused: int = 0
    _centres: dict[str, tuple[tuple[float, float], float]] = field(default_factory=dict)
    _all: dict[tuple[float, int], list[str]] = field(default_factory=dict)

    def get(self, path: str, **params: Any) -> Any:
        """One request; None when it is refused (4xx)."""
        self.sent += 1
        response = self.client.get(path, params={"area": "MOOR", **params}, headers=self.headers)
        if 400 <= response.status_code < 500:
            self.refused += 1
            return None
        assert response.status_code == 200, response.text
        return response

    def read_everything_else(self, skills: list[str]) -> None:
        """Capacity, tiles, incidents and the live stream: counts only, and none below five."""
        for km in CELL_SIZES_KM:
            for skill in ["*", *skills]:
                response = self.get("/api/v1/map/capacity", cell_km=km, skill=skill)
                if response is not None:
                    assert all(f["properties"]["volunteers"] >= 5 for f in response.json()["features"])
        for z in range(MAX_ZOOM + 1):
            _, x, y = tile_of(*VILLAGE, z)
            response = self.get(f"/tiles/capacity/{z}/{x}/{y}.mvt")
            if response is not None and response.content:
                layer = mapbox_vector_tile.decode(response.content).get("capacity", {"features": []})
                assert all(f["properties"]["volunteers"] >= 5 for f in layer["features"])
        incidents = self.get("/api/v1/map/incidents", status="open")
        assert incidents is not None
        assert all(
            f["properties"]["layer"] in ("incident", "rendezvous") for f in incidents.json()["features"]
        )
        live = self.get("/api/v1/map/live", max_seconds=0.5)
        assert live is not None and "callouts" not in live.text

    def gaps(self, *, n: int, within_km: float, cell_km: int) -> dict[str, dict[str, Any]] | None:
        """A gaps answer by square id, or None when refused."""
        response = self.get("/api/v1/map/gaps", min_volunteers=n, within_km=within_km, cell_km=cell_km)
        return None if response is None else {f["id"]: f for f in response.json()["features"]}

    def centre(self, square: str) -> tuple[tuple[float, float], float]:
        """A square's centre, and how far it lies from the village."""
        if square not in self._centres:
            km, i, j = square.split(":")
            centre = bng_centre(self.db, int(i), int(j), int(km.removesuffix("km")))
            self._centres[square] = centre, distance_m(self.db, centre, VILLAGE)
        return self._centres[square]

    def squares(self, within_km: float, cell_km: int) -> list[str]:
        """Every square of the area (the gaps at a threshold nobody reaches)."""
        if (within_km, cell_km) not in self._all:
            self._all[(within_km, cell_km)] = list(
                self.gaps(n=1000, within_km=within_km, cell_km=cell_km) or {}
            )
        return self._all[(within_km, cell_km)]

    def learn(self, answer: dict[str, dict[str, Any]], squares: list[str], n: int, within_km: float) -> None:
        """Facts from one gaps answer, for squares whose disc lies where only the target can live.

        A square is listed when fewer than n people are within the distance; only the target is, so
        with n = 1 a listed square means "not within" and an unlisted one "within". With n >= 2 the
        count (0 or 1) is always under n, so the answer says nothing about the target.
        """
        metres = within_km * 1000.0
        for square in squares:
            (lon, lat), far = self.centre(square)
            if far + metres > ALONE_KM * 1000.0:
                continue
            if n == 1:
                self.facts.append(Fact(lon, lat, metres, inside=square not in answer))

    def attack(self) -> None:
        """Everything a viewer can send, and bisection on the distance wherever it is accepted."""
        for cell_km in (1, 5, 25):
            for n in (1, 2, 5, 6, 10, 1000):
                for within_km in (0.5, 1, 2, 5, 10, 25):
                    answer = self.gaps(n=n, within_km=within_km, cell_km=cell_km)
                    if answer is not None:
                        self.learn(answer, self.squares(within_km, cell_km), n, within_km)
        every = self.squares(1, 1) or self.squares(5, 5)
        near = sorted(every, key=lambda s: self.centre(s)[1])[:3]
        for square in near:
            low, high = 0.0, PROBE_KM
            for _ in range(12):
                middle = (low + high) / 2
                answer = self.gaps(n=1, within_km=round(middle, 6), cell_km=int(square.split("km")[0]))
                if answer is None:
                    break
                self.learn(answer, [square], 1, round(middle, 6))
                low, high = (middle, high) if square in answer else (low, middle)


def distance_m(db: Session, a: tuple[float, float], b: tuple[float, float]) -> float:
    """Geodesic metres between two (lon, lat) points, as PostGIS measures them."""
    return float(
        db.scalar(
            text(
                "SELECT ST_Distance(ST_SetSRID(ST_MakePoint(:a, :b), 4326)::geography, "
                "ST_SetSRID(ST_MakePoint(:c, :d), 4326)::geography)"
            ),
            {"a": a[0], "b": a[1], "c": b[0], "d": b[1]},
        )
    )


_CONSISTENT = text(
    """
    WITH facts AS (
        SELECT ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography AS c, metres, inside
        FROM unnest(CAST(:lon AS float8[]), CAST(:lat AS float8[]), CAST(:metres AS float8[]),
                    CAST(:inside AS bool[])) AS f(lon, lat, metres, inside)
    ),
    grid AS (
        SELECT x, y, ST_Transform(ST_SetSRID(ST_MakePoint(x, y), 27700), 4326)::geography AS p
        FROM generate_series(0, :nx) AS i, generate_series(0, :ny) AS j,
             LATERAL (SELECT :x0 + i * :step AS x, :y0 + j * :step AS y) AS at
    )
    SELECT x, y FROM grid
    WHERE ST_DWithin(p, ST_SetSRID(ST_MakePoint(:vlon, :vlat), 4326)::geography, :prior_m + :slack)
      AND NOT EXISTS (
          SELECT 1 FROM facts
          WHERE (inside AND NOT ST_DWithin(p, c, metres + :slack))
             OR (NOT inside AND ST_DWithin(p, c, metres - :slack)))
    """
)


def consistent_homes(
    db: Session, facts: list[Fact], box: tuple[float, ...], step: float, slack: float
) -> list[tuple[float, float]]:
    """Grid points (BNG metres) in `box` consistent with every fact, each fact widened by `slack`."""
    x0, y0, x1, y1 = box
    rows = db.execute(
        _CONSISTENT,
        {
            "lon": [f.lon for f in facts],
            "lat": [f.lat for f in facts],
            "metres": [f.metres for f in facts],
            "inside": [f.inside for f in facts],
            "x0": x0,
            "y0": y0,
            "nx": int((x1 - x0) // step),
            "ny": int((y1 - y0) // step),
            "step": step,
            "slack": slack,
            "vlon": VILLAGE[0],
            "vlat": VILLAGE[1],
            "prior_m": PRIOR_KM * 1000.0,
        },
    )
    return [(float(x), float(y)) for x, y in rows]


def bng(db: Session, lon: float, lat: float) -> tuple[float, float]:
    row = db.execute(
        text(
            "SELECT ST_X(p), ST_Y(p) FROM ST_Transform(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), 27700) p"
        ),
        {"lon": lon, "lat": lat},
    ).one()
    return float(row[0]), float(row[1])


def infer(db: Session, facts: list[Fact]) -> tuple[list[tuple[float, float]], float]:
    """Every home consistent with the facts: a 25 m grid over the prior, then 1 m where that is small."""
    vx, vy = bng(db, *VILLAGE)
    reach = PRIOR_KM * 1000.0 + 100
    x0, y0 = math.floor((vx - reach) / 1000) * 1000.0, math.floor((vy - reach) / 1000) * 1000.0
    box = (x0 + STEP_M / 2, y0 + STEP_M / 2, vx + reach, vy + reach)
    coarse = consistent_homes(db, facts, box, STEP_M, SLACK_M)
    assert coarse, "the true home is consistent, so the widened search must keep a point near it"
    xs, ys = [p[0] for p in coarse], [p[1] for p in coarse]
    if max(xs) - min(xs) > 300 or max(ys) - min(ys) > 300:
        return consistent_homes(db, facts, box, STEP_M, 0.0), STEP_M
    fine = (min(xs) - STEP_M, min(ys) - STEP_M, max(xs) + STEP_M, max(ys) + STEP_M)
    return consistent_homes(db, facts, fine, FINE_STEP_M, 0.0), FINE_STEP_M


def radius_m(points: list[tuple[float, float]]) -> float:
    """How far the farthest consistent home lies from their centre: the attack's precision."""
    cx = sum(p[0] for p in points) / len(points)
    cy = sum(p[1] for p in points) / len(points)
    return max(math.hypot(x - cx, y - cy) for x, y in points)


def test_a_viewer_cannot_place_an_isolated_volunteer_inside_their_1_km_square(
    client: TestClient, db: Session
) -> None:
    add_area(db, "MOOR", VILLAGE, radius_km=15)
    add_volunteer(db, km=0, centre=HOME, skills=("flood_rescue",))
    hamlet = destination(*VILLAGE, 100, 9)
    for i in range(5):
        add_volunteer(db, km=0.05 * (i + 1), bearing=72 * i, centre=hamlet)
    db.commit()
    forget_stream_slots()
    attacker = Attacker(client, bearer(db, Role.lrf_viewer, area="MOOR"), db)
    attacker.read_everything_else(["flood_rescue", "first_aid"])
    attacker.attack()

    homes, step = infer(db, attacker.facts)
    precision = radius_m(homes) + step  # the set's radius, give or take the grid it was found on
    hx, hy = bng(db, *HOME)
    cx, cy = sum(p[0] for p in homes) / len(homes), sum(p[1] for p in homes) / len(homes)
    print(
        f"\nviewer attack: {attacker.sent} requests ({attacker.refused} refused), "
        f"{len(attacker.facts)} facts; "
        f"home inferred within {precision:,.1f} m (estimate {math.hypot(cx - hx, cy - hy):,.1f} m off)"
    )
    square = bng_cell(db, *HOME, 1)
    in_square = [
        p for p in homes if math.floor(p[0] / 1000) == square[0] and math.floor(p[1] / 1000) == square[1]
    ]
    every_point = (1000 / STEP_M) ** 2
    assert len(in_square) == every_point, (
        f"only {len(in_square)} of {every_point:.0f} points of the 1 km square"
    )
    assert precision >= 1000 / math.sqrt(2)


@dataclass
class Bounds:
    """What the answers say about how many people are in one region: between `low` and `high`."""

    low: int = 0
    high: float = math.inf

    def narrow(self, low: int = 0, high: float = math.inf) -> None:
        self.low, self.high = max(self.low, low), min(self.high, high)


def singles_out(low: float, high: float) -> bool:
    """A region known to hold between one and four people singles them out."""
    return low >= 1 and high < MIN_CELL_COUNT


def test_no_two_answers_differ_by_fewer_than_five_people(client: TestClient, db: Session) -> None:
    add_area(db, "MOOR", CARLISLE, radius_km=12)
    x, y = bng_cell(db, *CARLISLE, 1)
    x0, y0 = x - x % 5, y - y % 5  # one 5 km square: 1 km squares of 5, 3 and 1 people, 6 more nearby
    for column, people in ((0, 5), (2, 3), (4, 1)):
        centre = bng_centre(db, x0 + column, y0 + 2, 1)
        for i in range(people):
            add_volunteer(db, km=0.04 * (i + 1), bearing=80 * i, centre=centre)
    centre = bng_centre(db, x0 + 7, y0 + 2, 1)
    for i in range(6):
        add_volunteer(db, km=0.04 * (i + 1), bearing=60 * i, centre=centre)
    db.commit()
    viewer = bearer(db, Role.lrf_viewer, area="MOOR")

    shown: dict[str, int] = {}
    for km in CELL_SIZES_KM:
        response = client.get("/api/v1/map/capacity", params={"cell_km": km}, headers=viewer)
        assert response.status_code == 200
        shown |= {f["properties"]["cell"]: f["properties"]["volunteers"] for f in response.json()["features"]}
    for coarse, count in shown.items():
        km, i, j = (int(p) for p in coarse.replace("km", "").split(":"))
        for fine_km in (k for k in CELL_SIZES_KM if k < km):
            ratio = km // fine_km
            inside = [
                n
                for cell, n in shown.items()
                if cell.startswith(f"{fine_km}km:")
                and int(cell.split(":")[1]) // ratio == i
                and int(cell.split(":")[2]) // ratio == j
            ]
            residual = count - sum(inside)
            assert not singles_out(residual, residual), (
                f"{coarse} ({count}) minus its {fine_km} km squares: {residual}"
            )

    bounds: dict[tuple[str, float], Bounds] = {}
    for cell_km in (1, 5, 25):
        for within_km in (1, 2, 5, 10, 25):
            every = gaps_answer(client, viewer, n=1000, within_km=within_km, cell_km=cell_km)
            if every is None:
                continue
            for n in (1, 2, 3, 4, 5, 6, 8, 10, 1000):
                answer = gaps_answer(client, viewer, n=n, within_km=within_km, cell_km=cell_km)
                if answer is None:
                    continue
                for square in every:
                    known = bounds.setdefault((square, within_km), Bounds())
                    if square in answer:
                        volunteers = answer[square]["properties"]["volunteers"]
                        known.narrow(high=n - 1)
                        if volunteers is not None:
                            known.narrow(volunteers, volunteers)
                    else:
                        known.narrow(low=n)
    assert bounds, "some gaps answers were accepted"
    for (square, within_km), known in bounds.items():
        assert not singles_out(known.low, known.high), f"{square} within {within_km} km: {known}"
    squares = {square for square, _ in bounds}
    for square in squares:
        distances = sorted(w for s, w in bounds if s == square)
        for near, far in combinations(distances, 2):
            inner, outer = bounds[(square, near)], bounds[(square, far)]
            ring = (max(0, outer.low - inner.high), outer.high - inner.low)
            assert not singles_out(*ring), f"{square} between {near} and {far} km: {ring}"


def gaps_answer(
    client: TestClient, headers: dict[str, str], *, n: int, within_km: float, cell_km: int
) -> dict[str, dict[str, Any]] | None:
    params = {"min_volunteers": n, "within_km": within_km, "cell_km": cell_km}
    response = client.get("/api/v1/map/gaps", params=params, headers=headers)
    if response.status_code == 422:
        return None
    assert response.status_code == 200, response.text
    return {f["id"]: f for f in json.loads(response.text)["features"]}
