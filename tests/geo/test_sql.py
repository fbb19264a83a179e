import pytest
from geoalchemy2 import Geography
from sqlalchemy import Column, Integer, MetaData, Table, select
from sqlalchemy.dialects import postgresql

from geo.sql import distance_km, geog_from_ewkt, knn, within_km

volunteer = Table(
    "volunteer",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("home", Geography("POINT", srid=4326)),
)
EWKT = "SRID=4326;POINT(-2.9382 54.8951)"
POINT_SQL = "ST_GeogFromText(%(ewkt_1)s::VARCHAR)"


def compile_pg(statement):
    """SQL on one line with the bound point shown as <point>, and the bound parameters."""
    compiled = statement.compile(dialect=postgresql.psycopg.dialect())
    return " ".join(str(compiled).split()).replace(POINT_SQL, "<point>"), compiled.params


def test_geog_from_ewkt_binds_the_text_as_a_parameter():
    hostile = "SRID=4326;POINT(0 0)'); DROP TABLE volunteer; --"
    sql, params = compile_pg(geog_from_ewkt(hostile))
    assert sql == "<point>"
    assert params == {"ewkt_1": hostile}
    assert "DROP" not in sql


def test_within_km_is_st_dwithin_in_metres():
    sql, params = compile_pg(
        select(volunteer.c.id).where(within_km(volunteer.c.home, geog_from_ewkt(EWKT), 9.9))
    )
    assert sql == (
        "SELECT volunteer.id FROM volunteer WHERE ST_DWithin(volunteer.home, <point>, %(ST_DWithin_1)s)"
    )
    assert params == {"ewkt_1": EWKT, "ST_DWithin_1": pytest.approx(9900.0)}


def test_distance_km_divides_st_distance_by_1000():
    sql, params = compile_pg(select(distance_km(volunteer.c.home, geog_from_ewkt(EWKT)).label("km")))
    assert sql == (
        "SELECT ST_Distance(volunteer.home, <point>) / CAST(%(ST_Distance_1)s AS FLOAT) AS km FROM volunteer"
    )
    assert params == {"ewkt_1": EWKT, "ST_Distance_1": 1000.0}


def test_knn_orders_by_the_distance_operator():
    point = geog_from_ewkt(EWKT)
    sql, params = compile_pg(select(volunteer.c.id).order_by(knn(volunteer.c.home, point)).limit(5))
    assert sql == (
        "SELECT volunteer.id FROM volunteer ORDER BY volunteer.home <-> <point> LIMIT %(param_1)s::INTEGER"
    )
    assert params == {"ewkt_1": EWKT, "param_1": 5}


def test_one_point_expression_is_bound_once_across_a_whole_query():
    point = geog_from_ewkt(EWKT)
    query = (
        select(volunteer.c.id, distance_km(volunteer.c.home, point).label("km"))
        .where(within_km(volunteer.c.home, point, 10))
        .order_by(knn(volunteer.c.home, point))
    )
    sql, params = compile_pg(query)
    assert sql.count("<point>") == 3
    assert params["ewkt_1"] == EWKT
    assert params["ST_DWithin_1"] == 10_000.0
