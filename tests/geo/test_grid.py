"""Grid references against published ones, and back."""

import pytest

from geo.errors import GeometryError
from geo.grid import Grid, grid_reference, parse_grid_reference


@pytest.mark.parametrize(
    ("lon", "lat", "grid", "expected"),
    [
        (-5.0036, 56.7969, Grid.british, "NN 166 712"),  # Ben Nevis summit, as on the OS map
        (-1.14427, 60.15339, Grid.british, "HU 476 412"),  # Lerwick
        (-2.95873, 58.98479, Grid.british, "HY 449 112"),  # Kirkwall
        (-5.9208, 54.1796, Grid.irish, "J 358 276"),  # Slieve Donard, on the Irish Grid
    ],
)
def test_grid_references_match_the_published_ones(lon, lat, grid, expected):
    assert grid_reference(lon, lat, grid) == expected


def test_more_digits_are_more_precise():
    assert grid_reference(-0.1276, 51.5072, Grid.british, digits=4) == "TQ 30 80"
    assert grid_reference(-0.1276, 51.5072, Grid.british, digits=10).startswith("TQ 300")


@pytest.mark.parametrize("text", ["NN 166 712", "nn166712", "NN 166712"])
def test_a_reference_parses_back_to_its_square(text):
    lon, lat = parse_grid_reference(text)
    assert grid_reference(lon, lat, Grid.british) == "NN 166 712"


def test_an_irish_reference_parses_on_the_irish_grid():
    lon, lat = parse_grid_reference("J 358 276")
    assert grid_reference(lon, lat, Grid.irish) == "J 358 276"


@pytest.mark.parametrize("text", ["Carlisle", "NN 16 712", "NI 123 456", "ZZ 100 100"])
def test_not_a_reference_says_so(text):
    with pytest.raises(GeometryError):
        parse_grid_reference(text)


def test_a_point_off_the_grid_is_refused():
    with pytest.raises(GeometryError, match="outside the british grid"):
        grid_reference(-74.0, 40.7, Grid.british)
