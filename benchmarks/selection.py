"""Selection latency on 100,000 volunteers for random incidents across the UK, with and without the
spatial index: p50 and p95 of the real selection query (app/callout/selection.py).

    python -m benchmarks.selection [--volunteers 100000] [--incidents 200] [--unindexed 200]

`--unindexed` times only the first so many incidents without the index: on a million volunteers each
such query is a scan of the whole reserve, and a sample is enough for the ratio.
"""

import argparse
import os
import random
import time
from datetime import UTC, datetime

from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from app.callout.selection import candidates_query
from app.incident.models import Incident, IncidentKind, IncidentStatus
from benchmarks.database import fresh_database, percentile
from geo.places import sample_homes
from tools.reserve import analyze_reserve, seed_volunteers

SKILLS = ("first_aid", "flood_rescue", "chainsaw", "driver_4x4")


def run(volunteers: int, incidents: int, unindexed: int | None = None) -> None:
    """Seed, declare incidents where people live, time the query both ways and print the figures."""
    url = fresh_database("nvr_bench_selection")
    engine = create_engine(url)
    rng = random.Random(42)
    with Session(engine) as session:
        started = time.perf_counter()
        seed_volunteers(session, count=volunteers, actor="benchmark", seed=1)
        analyze_reserve(session)
        session.commit()
        print(f"seeded {volunteers:,} volunteers in {time.perf_counter() - started:.1f} s")
        ids = []
        for lon, lat in sample_homes(incidents, rng):
            incident = Incident(
                title="bench",
                kind=IncidentKind.flood,
                area=from_shape(Point(lon, lat), srid=4326),
                radius_km=10,
                place="bench",
                exercise=True,
                status=IncidentStatus.open,
                overask=2,
                wave_timeout_s=600,
                max_radius_km=80,
                radius_step_km=10,
                created_by="benchmark",
                notes="",
            )
            session.add(incident)
            session.flush()
            ids.append(incident.id)
        session.commit()
        p50s = []
        for label, settings, timed in (
            ("with spatial index", [], ids),
            (
                "index scans disabled",
                ["SET enable_indexscan = off", "SET enable_bitmapscan = off"],
                ids[: unindexed or len(ids)],
            ),
        ):
            for statement in settings:
                session.execute(text(statement))
            timings, found = [], 0
            for incident_id in timed:
                query = candidates_query(
                    incident_id=incident_id,
                    skill=rng.choice(SKILLS),
                    radius_km=10,
                    starts_at=datetime.now(UTC),
                    limit=50,
                )
                started = time.perf_counter()
                found += len(session.execute(query).all())
                timings.append((time.perf_counter() - started) * 1000)
            session.rollback()
            p50s.append(percentile(timings, 50))
            print(
                f"selection {label:22s}: "
                f"p50 {percentile(timings, 50):7.2f} ms  p95 {percentile(timings, 95):7.2f} ms"
                f"  ({len(timed)} incidents, {found / len(timed):.1f} candidates each)"
            )
    print(
        f"selection: the spatial index is {p50s[1] / p50s[0]:,.0f}x faster at p50 ({volunteers:,} volunteers)"
    )
    engine.dispose()


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--volunteers", type=int, default=100_000)
    parser.add_argument("--incidents", type=int, default=200)
    parser.add_argument("--unindexed", type=int, default=None, help="incidents timed without the index")
    args = parser.parse_args()
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    run(args.volunteers, args.incidents, args.unindexed)


if __name__ == "__main__":
    main()
