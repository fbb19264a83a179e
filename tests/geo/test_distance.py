import math

import pytest

from geo.distance import MEAN_RADIUS_KM, destination, haversine_km


def dms(degrees: int, minutes: int, seconds: float) -> float:
    sign = -1 if degrees < 0 else 1
    return sign * (abs(degrees) + minutes / 60 + seconds / 3600)


def test_destination_matches_vincentys_flinders_peak_to_buninyong():
    # Vincenty (1975) / Geoscience Australia worked example, distance 54,972.271 m.
    lon, lat = destination(dms(144, 25, 29.52440), dms(-37, 57, 3.72030), dms(306, 52, 5.37), 54.972271)
    assert lat == pytest.approx(dms(-37, 39, 10.15610), abs=2e-8)  # ~2 mm
    assert lon == pytest.approx(dms(143, 55, 35.38390), abs=2e-8)


@pytest.mark.parametrize(
    ("start", "bearing", "km", "expected"),
    [
        # References from GeographicLib's Geodesic.WGS84.Direct (what PostGIS geography uses).
        ((-2.9382, 54.8951), 37, 9.9, (-2.8451766359503385, 54.96608790674186)),
        ((-2.9382, 54.8951), 217, 10.1, (-3.032765886831439, 54.82260400821934)),
        ((-0.12574, 51.50853), 250, 5000, (-46.56416743912357, 23.763256136236702)),
        ((0.0, 0.0), 0, 10001.965729, (0.0, 89.99999999720018)),  # a quarter meridian reaches the pole
    ],
)
def test_destination_matches_geographiclib(start, bearing, km, expected):
    lon, lat = destination(*start, bearing, km)
    assert lon == pytest.approx(expected[0], abs=1e-8)
    assert lat == pytest.approx(expected[1], abs=1e-8)


def test_destination_wraps_across_the_antimeridian():
    lon, lat = destination(179.9, 0.0, 90, 100)
    assert lon == pytest.approx(-179.20168471588048, abs=1e-8)
    assert lat == pytest.approx(0.0, abs=1e-12)


def test_destination_of_zero_distance_is_the_start():
    assert destination(-2.9382, 54.8951, 123, 0) == pytest.approx((-2.9382, 54.8951), abs=1e-12)


def test_one_degree_of_latitude_on_the_mean_sphere():
    assert haversine_km(0, 0, 0, 1) == pytest.approx(2 * math.pi * MEAN_RADIUS_KM / 360, rel=1e-12)


def test_haversine_is_symmetric_and_zero_at_the_same_point():
    assert haversine_km(-0.12574, 51.50853, -2.9382, 54.8951) == haversine_km(
        -2.9382, 54.8951, -0.12574, 51.50853
    )
    assert haversine_km(-2.9382, 54.8951, -2.9382, 54.8951) == 0


@pytest.mark.parametrize(
    ("a", "b", "ellipsoid_km"),
    [
        ((-0.12574, 51.50853), (-2.9382, 54.8951), 421.0677881211484),  # London - Carlisle
        ((-0.12574, 51.50853), (2.3522, 48.8566), 343.95415212781944),  # London - Paris
    ],
)
def test_haversine_is_within_half_a_percent_of_the_ellipsoid(a, b, ellipsoid_km):
    assert haversine_km(*a, *b) == pytest.approx(ellipsoid_km, rel=0.005)


def test_antipodes_are_half_the_circumference_apart():
    assert haversine_km(0, 0, 180, 0) == pytest.approx(math.pi * MEAN_RADIUS_KM, rel=1e-12)
