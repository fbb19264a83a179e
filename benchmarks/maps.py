"""Map latency on 1,000,000 synthetic volunteers, through the real API over HTTP (uvicorn, auth, scope,
SQL, response):
the capacity layer of one LRF as GeoJSON, national-zoom capacity vector tiles, and coverage gaps of
an LRF (read from the snapshot's precomputed gap counts); p50 and p95, and the snapshot's refresh time.

    python -m benchmarks.maps [--volunteers 1000000] [--requests 200] [--reuse] [--database NAME]

The reserve is seeded by COPY (tools/reserve.py) into its own database, `nvr_bench_maps` unless
`--database` names another; `--reuse` keeps a database seeded by an earlier run. Areas come from
../shared/data when present, otherwise a round area around London stands in for the London LRF.
"""

import argparse
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from app.api import create_app
from app.api.deps import get_session
from app.area.service import area_around, import_areas
from app.auth.models import Role
from app.auth.service import create_token
from app.db import get_sessionmaker
from app.map.capacity import refresh_capacity
from app.volunteer.models import Volunteer
from benchmarks.database import BASE_URL, fresh_database, percentile
from geo.features import read_feature_collection
from tools.reserve import analyze_reserve, seed_volunteers

DATABASE = "nvr_bench_maps"
UK_AREAS = Path(__file__).resolve().parents[2] / "shared" / "data" / "resilience_areas_uk.geojson"
LONDON = "E48000021"
CHUNK = 100_000
# National zoom: the z5 and z6 tiles that cover Great Britain and Northern Ireland.
# Gaps of a large rural LRF (Cumbria, 6,839 km²) and of London, in 5 km squares, at each distance.
GAPS = [
    ("Cumbria, <5 in 10 km", "E48000006", "cell_km=5&within_km=10&min_volunteers=5"),
    (
        "Cumbria, <50 flood in 25 km",
        "E48000006",
        "cell_km=5&within_km=25&min_volunteers=50&skill=flood_rescue",
    ),
    ("London, <100 in 5 km", LONDON, "cell_km=5&within_km=5&min_volunteers=100"),
]
NATIONAL_TILES = [(5, x, y) for x in (14, 15, 16) for y in (9, 10)] + [
    (6, x, y) for x in range(28, 33) for y in range(17, 22)
]


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """The app under uvicorn on a free port, uvicorn binding the socket itself.

    Not alerts' BackgroundServer: it binds a socket with protocol 0, so asyncio does not set TCP_NODELAY
    on accepted connections, and every keep-alive request then waits ~40 ms for a delayed ACK.
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def seed(url: str, volunteers: int) -> None:
    """Seed the reserve in chunks (each its own COPY and commit), then the areas and the snapshot."""
    engine = create_engine(url)
    with Session(engine) as session:
        started = time.perf_counter()
        for chunk, offset in enumerate(range(0, volunteers, CHUNK)):
            seed_volunteers(session, count=min(CHUNK, volunteers - offset), actor="benchmark", seed=chunk)
            session.commit()
        analyze_reserve(session)
        session.commit()
        print(f"seeded {volunteers:,} volunteers in {time.perf_counter() - started:.0f} s")
        if UK_AREAS.exists():
            uk = read_feature_collection(json.loads(UK_AREAS.read_text()))
            import_areas(
                session, collection=uk, code_field="LRFCode", name_field="LRFName", actor="benchmark"
            )
        else:
            area_around(
                session, code=LONDON, name="London", lon=-0.1276, lat=51.5072, radius_km=30, actor="benchmark"
            )
        session.commit()
    engine.dispose()


def timed(call: Callable[[], int], requests: int) -> tuple[list[float], int]:
    """Milliseconds per call after a short warm-up, and the bytes the last call returned."""
    for _ in range(5):
        call()
    timings, size = [], 0
    for _ in range(requests):
        started = time.perf_counter()
        size = call()
        timings.append((time.perf_counter() - started) * 1000)
    return timings, size


def report(label: str, timings: list[float], detail: str) -> None:
    p50, p95 = percentile(timings, 50), percentile(timings, 95)
    print(f"{label:46s} p50 {p50:6.1f} ms   p95 {p95:6.1f} ms   {detail}")


def run(volunteers: int, requests: int, reuse: bool, database: str = DATABASE) -> None:
    """Seed (unless reused), rebuild the capacity snapshot, then time the map endpoints."""
    url = make_url(BASE_URL).set(database=database).render_as_string(hide_password=False)
    if not reuse:
        url = fresh_database(database)
        seed(url, volunteers)
    sessions = get_sessionmaker(url)
    with sessions() as session:
        people = session.scalar(select(func.count()).select_from(Volunteer))
        started = time.perf_counter()
        refreshed = refresh_capacity(session)
        session.commit()
        print(
            f"capacity snapshot of {people:,} volunteers: {refreshed.cells:,} cells "
            f"in {time.perf_counter() - started:.1f} s"
        )
        viewer = create_token(session, name="bench viewer", role=Role.lrf_viewer, area_code=LONDON)
        admin = create_token(session, name="bench admin", role=Role.admin)
        session.commit()

    app = create_app()

    def bench_session() -> Iterator[Session]:
        with sessions() as session:
            yield session
            session.commit()

    app.dependency_overrides[get_session] = bench_session
    with serving(app) as base_url, httpx.Client(base_url=base_url, timeout=30) as client:

        def get(path: str, token: str) -> Callable[[], int]:
            def call() -> int:
                response = client.get(path, headers={"Authorization": f"Bearer {token}"})
                assert response.status_code == 200, response.text
                return len(response.content)

            return call

        for km in (5, 1):
            path = f"/api/v1/map/capacity?cell_km={km}"
            features = len(client.get(path, headers={"Authorization": f"Bearer {viewer}"}).json()["features"])
            timings, size = timed(get(path, viewer), requests)
            report(
                f"LRF capacity GeoJSON (London, {km} km cells)", timings, f"{features} cells, {size:,} bytes"
            )
        path = "/api/v1/map/capacity?cell_km=5&skill=flood_rescue"
        timings, size = timed(get(path, viewer), requests)
        report("LRF capacity GeoJSON (London, 5 km, one skill)", timings, f"{size:,} bytes")

        tiles = [get(f"/tiles/capacity/{z}/{x}/{y}.mvt", admin) for z, x, y in NATIONAL_TILES]
        rounds = iter(range(10**9))
        timings, _ = timed(lambda: tiles[next(rounds) % len(tiles)](), requests)
        sizes = [tile() for tile in tiles]
        report(
            "national-zoom MVT tile (z5-z6, all skills)",
            timings,
            f"{len(tiles)} tiles, largest {max(sizes):,} bytes",
        )
        skill_tiles = [
            get(f"/tiles/capacity/{z}/{x}/{y}.mvt?skill=first_aid", admin) for z, x, y in NATIONAL_TILES
        ]
        timings, _ = timed(lambda: skill_tiles[next(rounds) % len(skill_tiles)](), requests)
        report("national-zoom MVT tile (z5-z6, first aid)", timings, "")
        london_tile = get("/tiles/capacity/10/511/340.mvt", admin)
        timings, size = timed(london_tile, requests)
        report("city-zoom MVT tile (z10, central London)", timings, f"{size:,} bytes")
        for label, area, query in GAPS if UK_AREAS.exists() else GAPS[-1:]:
            path = f"/api/v1/map/gaps?area={area}&{query}"
            gaps = len(client.get(path, headers={"Authorization": f"Bearer {admin}"}).json()["features"])
            timings, size = timed(get(path, admin), requests)
            report(f"gaps ({label})", timings, f"{gaps} of 5 km squares, {size:,} bytes")
    with sessions() as session:
        session.execute(text("DELETE FROM api_tokens WHERE name LIKE 'bench %'"))
        session.commit()


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--volunteers", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--reuse", action="store_true", help="keep the database an earlier run seeded")
    parser.add_argument("--database", default=DATABASE, help="the scratch database to seed and use")
    args = parser.parse_args()
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    run(args.volunteers, args.requests, args.reuse, args.database)


if __name__ == "__main__":
    main()
