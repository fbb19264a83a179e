"""Database engine, session factory and the declarative base."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import lru_cache

from sqlalchemy import DateTime, MetaData, create_engine, func
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

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
