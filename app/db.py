"""Database engine, session factory and the declarative base."""

import enum
import json
import typing
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from functools import lru_cache
from typing import Any

from geoalchemy2 import WKBElement
from sqlalchemy import (
    ARRAY,
    ColumnElement,
    DateTime,
    Enum,
    MetaData,
    String,
    Table,
    Text,
    any_,
    bindparam,
    cast,
    create_engine,
    func,
    insert,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, QueryableAttribute, Session, mapped_column, sessionmaker
from sqlalchemy.sql.dml import ReturningInsert
from sqlalchemy.types import TypeEngine

from app.settings import get_settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every table; a naming convention keeps migrations reviewable."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class TimestampMixin:
    """Created and updated times kept by the database clock."""

    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


@lru_cache
def get_engine(url: str | None = None) -> Engine:
    """One pooled engine per URL and process; pre-ping so a restarted PostgreSQL is survived.

    Parameters are hidden from error messages: they hold names, phones and homes, and errors get logged.
    """
    return create_engine(
        url or get_settings().database_url,
        pool_pre_ping=True,
        # Statement parameters are names, phones and homes: never put them in exception messages or logs.
        hide_parameters=True,
        # As many as the request thread pool (40): under a burst of webhooks a smaller pool opened and
        # closed a connection (a PostgreSQL backend) per request beyond it. Connections open on demand.
        pool_size=40,
        max_overflow=10,
        connect_args={"connect_timeout": 5},
    )


@lru_cache
def get_sessionmaker(url: str | None = None) -> sessionmaker[Session]:
    """Session factory bound to the engine for `url`."""
    return sessionmaker(bind=get_engine(url), expire_on_commit=False)


@contextmanager
def unit_of_work(url: str | None = None) -> Iterator[Session]:
    """A session that commits when the block succeeds and rolls back when it raises."""
    session = get_sessionmaker(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def insert_rows(session: Session, model: type[Base], rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """Insert rows of a model's table (each row with the same keys) in one statement and return their
    new ids, in order.

    Why not the ORM: its multi-row INSERT is new SQL for every number of rows, so SQLAlchemy compiles it
    and psycopg re-parses its text each time, which cost more than the writes themselves in a surge of
    sign-ups. Here each column travels as one array (`unnest`), so the statement is the same however
    many rows: compiled, parsed and planned once. Values go as text and PostgreSQL casts each to its
    column's type. The rows are inserted in the order given (ORDER BY their position), so the ids the
    sequence hands out rise in that order: sorted, they line up with `rows` (SQLAlchemy's own bulk
    INSERT relies on the same).
    """
    if not rows:
        return []
    columns = tuple(rows[0])
    params = {f"v{i}": [_as_text(row[c]) for row in rows] for i, c in enumerate(columns)}
    table = typing.cast(Table, model.__table__)
    return sorted(session.scalars(_insert_statement(table, columns), params))


def among(column: QueryableAttribute[str | None], values: Sequence[str]) -> ColumnElement[bool]:
    """`column = ANY(values)`: like `in_`, but the SQL is the same however many values (one array
    parameter), so it is compiled and parsed once; for the queries a surge runs once per batch."""
    return column == any_(bindparam(None, sorted(set(values)), type_=ARRAY(Text)))


@lru_cache
def _insert_statement(table: Table, columns: tuple[str, ...]) -> ReturningInsert[tuple[int]]:
    names = [f"v{i}" for i in range(len(columns))]
    values = (
        func.unnest(*[bindparam(n, type_=ARRAY(Text)) for n in names])
        .table_valued(*names, with_ordinality="position")
        .render_derived(name="v")
    )
    rows = select(*[_typed(values.c[n], table.c[c].type) for n, c in zip(names, columns, strict=True)])
    return insert(table).from_select(list(columns), rows.order_by(values.c.position)).returning(table.c.id)


def _typed(value: ColumnElement[str], target: TypeEngine[Any]) -> ColumnElement[Any]:
    """Text cast to a column's type; strings stay text, because a cast to VARCHAR(n) would silently cut
    what is too long, where storing text in the column refuses it."""
    if isinstance(target, String) and not isinstance(target, Enum):
        return value
    return cast(value, target)


def _as_text(value: object) -> str | None:
    """A value as PostgreSQL reads it from text (a cast to its column's type follows)."""
    if isinstance(value, enum.Enum):
        return str(value.value)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, WKBElement):
        return str(value.desc)  # hex WKB, which geometry and geography read
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)
