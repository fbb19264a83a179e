"""Grid references: the Ordnance Survey National Grid (Great Britain) and the Irish Grid (Northern Ireland).

A grid reference is how people who go out to incidents (rescue teams, the services, walkers) name a
spot with no town near it. Coordinates are transformed with PROJ (pyproj) from WGS84 to OSGB36 / British
National Grid (EPSG:27700) or TM75 / Irish Grid (EPSG:29903); without PROJ's network grids that uses
the published Helmert parameters, good to a few metres, far inside a 6-figure reference's 100 m.
"""

import re
import threading
import warnings
from enum import StrEnum

from pyproj import Transformer
from pyproj.transformer import AreaOfInterest

from geo.errors import GeometryError


class Grid(StrEnum):
    """The national grid a reference is on."""

    british = "EPSG:27700"
    irish = "EPSG:29903"


# Where each grid is used: PROJ then picks one transformation valid over all of it (for Great Britain
# "OSGB36 to WGS 84 (6)", 2 m), the same for every point, instead of a "ballpark" one out at sea.
_AREA = {
    Grid.british: AreaOfInterest(-8.82, 49.79, 1.92, 60.94),
    Grid.irish: AreaOfInterest(-8.2, 54.0, -5.4, 55.4),
}


_LETTERS = "ABCDEFGHJKLMNOPQRSTUVWXYZ"  # the 5 x 5 letters of the 100 km squares: no I
_BRITISH_RANGE = (700_000, 1_300_000)  # the lettered squares: eastings and northings below these
_IRISH_RANGE = (500_000, 500_000)
_local = threading.local()


def _transformer(grid: Grid, inverse: bool) -> Transformer:
    """One transformer per thread and direction (pyproj objects should not be shared across threads)."""
    key = (grid, inverse)
    cache: dict[tuple[Grid, bool], Transformer] = _local.__dict__.setdefault("transformers", {})
    if key not in cache:
        source, target = ("EPSG:4326", grid.value) if not inverse else (grid.value, "EPSG:4326")
        with warnings.catch_warnings():
            # PROJ says the OSTN15 grid would be better: a download, and a 100 m reference needs none.
            warnings.simplefilter("ignore", UserWarning)
            cache[key] = Transformer.from_crs(source, target, always_xy=True, area_of_interest=_AREA[grid])
    return cache[key]


def to_grid(lon: float, lat: float, grid: Grid) -> tuple[float, float]:
    """Easting and northing in metres of a WGS84 position."""
    easting, northing = _transformer(grid, inverse=False).transform(lon, lat)
    return float(easting), float(northing)


def grid_reference(lon: float, lat: float, grid: Grid, *, digits: int = 6) -> str:
    """A grid reference like "NY 401 559" (British) or "J 338 743" (Irish), to 100 m with 6 digits."""
    if digits not in (4, 6, 8, 10):
        raise ValueError("a grid reference has 4, 6, 8 or 10 digits")
    easting, northing = to_grid(lon, lat, grid)
    max_e, max_n = _BRITISH_RANGE if grid is Grid.british else _IRISH_RANGE
    if not (0 <= easting < max_e and 0 <= northing < max_n):
        raise GeometryError(f"({lon}, {lat}) is outside the {grid.name} grid")
    e100k, n100k = int(easting // 100_000), int(northing // 100_000)
    if grid is Grid.british:
        # Two letters: a 500 km square (from S, offset so the grid's origin is in S), then a 100 km one.
        first = (19 - n100k) - (19 - n100k) % 5 + (e100k + 10) // 5
        second = (19 - n100k) * 5 % 25 + e100k % 5
        letters = _LETTERS[first] + _LETTERS[second]
    else:
        letters = _LETTERS[(4 - n100k) * 5 + e100k]
    half = digits // 2
    scale = 10 ** (5 - half)
    east = int(easting % 100_000 // scale)
    north = int(northing % 100_000 // scale)
    return f"{letters} {east:0{half}d} {north:0{half}d}"


# "NY 401 559" (easting and northing apart) or "NY401559" / "NY 401559" (one run of digits, halved).
_REFERENCE = re.compile(
    r"^\s*([A-HJ-Z]{1,2})\s*(\d{1,5})\s+(\d{1,5})\s*$|^\s*([A-HJ-Z]{1,2})\s*(\d{2,10})\s*$"
)


def parse_grid_reference(text: str) -> tuple[float, float]:
    """The WGS84 (lon, lat) at the centre of the square a reference names: "NY 401 559", "J3374", "HU4741"."""
    match = _REFERENCE.match(text.upper())
    if match is None:
        raise GeometryError(f"{text!r} is not a grid reference like 'NY 401 559'")
    if match.group(1):
        letters, east, north = match.group(1), match.group(2), match.group(3)
    else:
        letters, digits = match.group(4), match.group(5)
        east, north = digits[: len(digits) // 2], digits[len(digits) // 2 :]
    if len(east) != len(north):
        raise GeometryError(f"{text!r} has {len(east)} digits of easting but {len(north)} of northing")
    grid = Grid.british if len(letters) == 2 else Grid.irish
    if grid is Grid.british:
        first, second = _LETTERS.index(letters[0]), _LETTERS.index(letters[1])
        e100k = (first - 2) % 5 * 5 + second % 5
        n100k = 19 - first // 5 * 5 - second // 5
    else:
        index = _LETTERS.index(letters)
        e100k, n100k = index % 5, 4 - index // 5
    max_e, max_n = _BRITISH_RANGE if grid is Grid.british else _IRISH_RANGE
    if not (0 <= e100k * 100_000 < max_e and 0 <= n100k * 100_000 < max_n):
        raise GeometryError(f"{letters} is not a square of the {grid.name} grid")
    scale = 10 ** (5 - len(east))
    easting = e100k * 100_000 + (int(east) + 0.5) * scale
    northing = n100k * 100_000 + (int(north) + 0.5) * scale
    lon, lat = _transformer(grid, inverse=True).transform(easting, northing)
    return float(lon), float(lat)
