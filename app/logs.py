"""Structured logging set up once per process, with no personal data in it.

Exception messages are where personal data leaks: PostgreSQL reports a rejected row in full ("Failing row
contains (12, Ada Lovelace, +447911123456, ...)"), pydantic quotes the input it refused. Every traceback
this process logs, through structlog or the standard library (uvicorn's "Exception in ASGI application",
RQ), therefore shows exception types, frames and database codes, never messages, except for types whose
messages are known to hold only addresses of our own services.
"""

import logging
import sys
import traceback
from types import TracebackType
from typing import Any, TextIO

import psycopg
import structlog
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError

from app.settings import get_settings

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]

# Messages of these say what went wrong with a connection, a transaction or our own SQL (a host and
# port of ours, "too many clients", "the connection is closed"), never what a row held.
SAFE_MESSAGES: tuple[type[BaseException], ...] = (
    OSError,
    RedisConnectionError,
    RedisTimeoutError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
    psycopg.InternalError,
    psycopg.ProgrammingError,
)
# What psycopg's diagnostics say about a database error without quoting any data.
DIAGNOSTICS = ("sqlstate", "table_name", "column_name", "constraint_name")
WITHHELD = "message withheld: it may hold personal data"


def describe(exc: BaseException) -> str:
    """An exception's type and, for database errors, PostgreSQL's codes and our SQL; never its message."""
    name = f"{type(exc).__module__}.{type(exc).__qualname__}"
    if isinstance(exc, SAFE_MESSAGES):
        return f"{name}: {exc}"
    details = []
    # SQLAlchemy wraps the driver's error; PostgreSQL's diagnostics are on the driver's.
    diag = getattr(exc.orig if isinstance(exc, DBAPIError) else exc, "diag", None)
    for field in DIAGNOSTICS:
        value = getattr(diag, field, None) if diag is not None else None
        if value:
            details.append(f"{field}={value}")
    if isinstance(exc, DBAPIError) and exc.statement:
        # The statement has placeholders only: parameters stay out (and the engine hides them too).
        details.append(f"statement={' '.join(exc.statement.split())[:300]}")
    return f"{name} ({'; '.join([*details, WITHHELD])})"


def format_exception(exc: BaseException) -> str:
    """A traceback of the exception and its causes, each described without its message."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    parts = []
    for link in reversed(chain):
        frames = "".join(traceback.format_tb(link.__traceback__))
        parts.append(f"Traceback (most recent call last):\n{frames}{describe(link)}")
    return "\n\nThe above exception led to the following one:\n\n".join(parts)


def _structlog_exception(sio: TextIO, exc_info: ExcInfo) -> None:
    sio.write("\n" + format_exception(exc_info[1]))


_default_record_factory = logging.getLogRecordFactory()


def _redacting_record_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    """Every standard-library record carries its traceback already redacted, whatever formats it."""
    record = _default_record_factory(*args, **kwargs)
    if record.exc_info and record.exc_info[1] is not None:
        record.exc_text = format_exception(record.exc_info[1])
    # RQ formats a failed job's traceback into the message itself, while the exception is being handled.
    handling = sys.exc_info()[1]
    if handling is not None and isinstance(record.args, tuple):
        record.args = tuple(
            format_exception(handling) if isinstance(a, str) and a.startswith("Traceback") else a
            for a in record.args
        )
    return record


def configure_logging() -> None:
    """Key-value logs on stderr at the configured level, tracebacks without exception messages."""
    level = logging.getLevelName(get_settings().log_level.upper())
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    logging.setLogRecordFactory(_redacting_record_factory)
    # The twilio client logs every request and its headers at INFO.
    logging.getLogger("twilio").setLevel(max(level, logging.WARNING))
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.dev.ConsoleRenderer(colors=False, exception_formatter=_structlog_exception),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )
