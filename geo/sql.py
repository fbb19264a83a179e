"""Spatial SQL expressions in one place, so every query measures on geography in metres the same way."""

from typing import Any

from geoalchemy2 import functions
from sqlalchemy import Float, bindparam, type_coerce
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import SQLColumnExpression

GeogExpr = SQLColumnExpression[Any]


def geog_from_ewkt(ewkt: str) -> ColumnElement[Any]:
    """ST_GeogFromText on a bound parameter: user geometry never becomes SQL text."""
    return functions.ST_GeogFromText(bindparam("ewkt", ewkt, unique=True))


def within_km(geog_col: GeogExpr, geog_expr: GeogExpr, km: float | GeogExpr) -> ColumnElement[bool]:
    """ST_DWithin on geography in metres (spheroid), which a GIST index on the column can serve.

    `km` may be a column (a volunteer's own travel limit) as well as a number.
    """
    return functions.ST_DWithin(geog_col, geog_expr, km * 1000.0)


def distance_km(geog_col: GeogExpr, geog_expr: GeogExpr) -> ColumnElement[float]:
    """ST_Distance on geography (spheroid) in kilometres."""
    return type_coerce(functions.ST_Distance(geog_col, geog_expr) / 1000.0, Float)


def knn(geog_col: GeogExpr, geog_expr: GeogExpr) -> ColumnElement[float]:
    """The <-> operator for ORDER BY: nearest first, served by the GIST index (distance on the sphere)."""
    return geog_col.op("<->", return_type=Float)(geog_expr)
