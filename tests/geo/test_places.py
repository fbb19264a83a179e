import random

import pytest

from geo.distance import haversine_km
from geo.places import (
    UK_BBOX,
    Town,
    describe_location,
    find_settlement,
    find_town,
    nearest_settlement,
    outside_uk,
    sample_homes,
    sample_homes_near,
    uk_towns,
)


def in_uk_bbox(lon, lat):
    min_lon, min_lat, max_lon, max_lat = UK_BBOX
    return min_lon <= lon <= max_lon and min_lat <= lat <= max_lat


def share_within(homes, town, km):
    return sum(1 for lon, lat in homes if haversine_km(lon, lat, town.lon, town.lat) <= km) / len(homes)


@pytest.fixture(scope="module")
def homes():
    return sample_homes(20_000, random.Random(20240601))


def test_uk_towns_cover_the_four_nations_most_populous_first():
    towns = uk_towns()
    assert len(towns) > 800
    assert towns[0].name == "London"
    assert [t.population for t in towns] == sorted((t.population for t in towns), reverse=True)
    assert all(t.population >= 15_000 and in_uk_bbox(t.lon, t.lat) for t in towns)
    names = {t.name for t in towns}
    assert {"Belfast", "Cardiff", "Glasgow", "Carlisle", "Inverness"} <= names


def test_uk_towns_returns_a_copy_callers_cannot_corrupt():
    uk_towns().clear()
    assert len(uk_towns()) > 800


@pytest.mark.parametrize("name", ["carlisle", "Carlisle", "  CARLISLE "])
def test_find_town_ignores_case_and_spaces(name):
    town = find_town(name)
    assert town == Town(name="Carlisle", lon=-2.9382, lat=54.8951, population=78470)


def test_find_town_picks_the_most_populous_of_a_shared_name():
    newport = find_town("newport")
    assert newport.population == max(t.population for t in uk_towns() if t.name == "Newport")
    assert newport.lon == pytest.approx(-2.998, abs=0.01)  # Newport, Wales


def test_find_town_suggests_close_matches_for_a_typo():
    with pytest.raises(KeyError, match=r"called 'Carlise'; did you mean 'Carlisle'"):
        find_town("Carlise")


def test_find_town_says_plainly_when_nothing_is_close():
    with pytest.raises(KeyError) as caught:
        find_town("Xyzzyq")
    assert caught.value.args[0] == "no UK town of 15,000+ people called 'Xyzzyq'"


def test_sample_homes_are_all_in_the_uk(homes):
    assert len(homes) == 20_000
    assert all(in_uk_bbox(lon, lat) for lon, lat in homes)


def test_sample_homes_is_reproducible_from_a_seed(homes):
    assert sample_homes(20_000, random.Random(20240601)) == homes
    assert sample_homes(100, random.Random(1)) != sample_homes(100, random.Random(2))


def test_sample_homes_puts_londons_share_near_its_population_share(homes):
    towns = uk_towns()
    london = find_town("London")
    population_share = london.population / sum(t.population for t in towns)  # 15.5%
    # Greater London plus the towns around it; its districts (Croydon, ...) are not counted twice.
    assert 0.9 * population_share <= share_within(homes, london, 25) <= 1.4 * population_share


def test_sample_homes_reach_every_nation(homes):
    total = sum(t.population for t in uk_towns())
    for name in ("Glasgow", "Cardiff", "Belfast", "Carlisle"):
        town = find_town(name)
        assert share_within(homes, town, 15) > town.population / total


def test_sample_homes_spread_bigger_towns_further(homes):
    # Homes near Birmingham (1.16M) reach further from its centre than homes near Carlisle (78k).
    def spread(town):
        distances = [haversine_km(lon, lat, town.lon, town.lat) for lon, lat in homes]
        near = sorted(d for d in distances if d <= 20)
        return near[len(near) // 2]

    assert spread(find_town("Birmingham")) > 2 * spread(find_town("Carlisle"))


def test_sample_homes_of_none_is_empty():
    assert sample_homes(0, random.Random(1)) == []


def test_sample_homes_gives_as_many_as_asked():
    assert len(sample_homes(100_000, random.Random(0))) == 100_000


def test_sample_homes_near_fill_a_disc_uniformly():
    carlisle = find_town("Carlisle")
    homes = sample_homes_near(carlisle, 5_000, 12.0, random.Random(7))
    distances = [haversine_km(lon, lat, carlisle.lon, carlisle.lat) for lon, lat in homes]
    assert len(homes) == 5_000
    assert max(distances) <= 12.0 * 1.005  # haversine is within 0.5% of the ellipsoid
    # Uniform over the area: half the homes lie within radius / sqrt(2), a quarter within radius / 2.
    assert sum(d <= 12.0 / 2**0.5 for d in distances) / 5_000 == pytest.approx(0.5, abs=0.03)
    assert sum(d <= 6.0 for d in distances) / 5_000 == pytest.approx(0.25, abs=0.03)
    east = sum(lon > carlisle.lon for lon, _ in homes) / 5_000
    north = sum(lat > carlisle.lat for _, lat in homes) / 5_000
    assert east == pytest.approx(0.5, abs=0.03)
    assert north == pytest.approx(0.5, abs=0.03)


@pytest.mark.parametrize(
    ("lon", "lat", "expected"),
    [
        (-1.14427, 60.15339, "Lerwick"),  # once texted as Peterhead, 200 km away
        (-2.95873, 58.98479, "Kirkwall"),  # once texted as Elgin
        (-2.85, 54.95, "8 km NE of Carlisle"),  # from the biggest place around, not the nearest hamlet
        (-3.64, 57.07, "NO 006 988"),  # the Cairngorms: no place near, a grid reference
        (-6.45, 54.6, "J 002 735"),  # Lough Neagh: Northern Ireland is on the Irish Grid
    ],
)
def test_a_location_is_named_only_when_a_place_is_near(lon, lat, expected):
    assert describe_location(lon, lat) == expected


@pytest.mark.parametrize(
    ("lon", "lat", "needle"),
    [
        (-74.006, 40.7128, "outside the United Kingdom"),  # New York, once accepted as "Isle of Lewis"
        (-6.26, 53.35, "Dublin"),  # inside the UK's bounding box, but in Ireland
        (1.61, 50.72, "Boulogne"),
        (-4.48, 54.15, "Douglas"),  # the Isle of Man is not in the UK
        (-15.0, 57.0, "outside"),
    ],
)
def test_points_outside_the_uk_are_named_as_such(lon, lat, needle):
    reason = outside_uk(lon, lat)
    assert reason is not None and needle in reason


@pytest.mark.parametrize(
    ("lon", "lat"),
    [(-1.14427, 60.15339), (-1.63, 59.53), (-5.93, 54.597), (-7.46, 54.83), (-6.3, 49.93), (1.31, 51.13)],
)
def test_uk_points_are_in_the_uk(lon, lat):
    # Lerwick, Fair Isle, Belfast, Strabane on the border, the Scilly Isles, Dover.
    assert outside_uk(lon, lat) is None


def test_find_settlement_knows_small_places():
    assert find_settlement("lerwick").country == "GB"
    with pytest.raises(KeyError, match="did you mean"):
        find_settlement("Lerwik")


def test_nearest_settlement_of_a_country():
    settlement, km = nearest_settlement(-6.26, 53.35, country="GB")
    assert settlement.region == "NIR" and km > 50


def test_far_out_at_sea_west_of_the_grid_a_location_is_coordinates():
    assert outside_uk(-8.69, 57.0) is None  # 75 km west of Barra
    assert describe_location(-8.69, 57.0) == "57.000N 8.690W"
