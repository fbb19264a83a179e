"""Tracebacks in logs: types, frames and database codes, never the data an exception message quotes."""

import io
import logging
import sys
import traceback

import psycopg
import pytest
import structlog
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db import get_engine
from app.logs import configure_logging, format_exception
from tests.app.reserve import add_volunteer

NAME = "Hermione Applegarth"


def rejected_insert(db: Session) -> IntegrityError:
    """A real IntegrityError whose PostgreSQL message contains the whole failing row."""
    db.execute(text("ALTER TABLE volunteers ADD CONSTRAINT ck_test_refuse CHECK (false) NOT VALID"))
    try:
        with db.begin_nested():
            add_volunteer(db, km=1, name=NAME)
    except IntegrityError as exc:
        assert NAME in str(exc.orig)  # what PostgreSQL says, and what used to reach the log
        return exc
    raise AssertionError("the insert was not rejected")


def test_a_database_error_is_described_by_its_codes(db: Session) -> None:
    exc = rejected_insert(db)
    described = format_exception(exc)
    assert NAME not in described and "+4479" not in described
    assert "sqlstate=23514" in described and "constraint_name=ck_test_refuse" in described
    assert "table_name=volunteers" in described and "INSERT INTO volunteers" in described
    assert "psycopg.errors.CheckViolation" in described and "Traceback" in described


def test_the_engine_keeps_parameters_out_of_exception_messages() -> None:
    assert get_engine().hide_parameters is True


def test_standard_and_structlog_tracebacks_are_redacted(db: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    exc = rejected_insert(db)
    stderr = io.StringIO()  # structlog keeps writing to it after the test: it must stay open
    monkeypatch.setattr(sys, "stderr", stderr)
    configure_logging()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("uvicorn.error")
    logger.addHandler(handler)
    try:
        logger.error("Exception in ASGI application\n", exc_info=exc)
    finally:
        logger.removeHandler(handler)
    try:
        raise exc
    except IntegrityError:
        structlog.get_logger("test").exception("request.failed")
    logged = stream.getvalue() + stderr.getvalue()
    # Each of the two logs names it twice: on the driver's error and on SQLAlchemy's wrapper of it.
    assert logged.count("constraint_name=ck_test_refuse") == 4, logged
    assert NAME not in logged


def test_messages_of_connection_errors_are_kept() -> None:
    described = format_exception(ConnectionRefusedError(111, "Connection refused"))
    assert "Connection refused" in described
    too_many = psycopg.OperationalError("FATAL:  sorry, too many clients already")
    assert "too many clients" in format_exception(too_many)
    assert "secret value" not in format_exception(ValueError("secret value"))


def test_a_traceback_formatted_into_a_message_is_redacted_too(db: Session) -> None:
    exc = rejected_insert(db)
    configure_logging()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("rq.worker")
    logger.addHandler(handler)
    try:
        raise exc
    except IntegrityError:
        # What RQ's Worker.handle_exception does with a failed job.
        logger.error("job %s: exception raised\n%s", "j1", "".join(traceback.format_exc()))
    finally:
        logger.removeHandler(handler)
    logged = stream.getvalue()
    assert "job j1" in logged and "constraint_name=ck_test_refuse" in logged, logged
    assert NAME not in logged
