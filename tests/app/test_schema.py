"""The migrations go up from empty, down to base and up again, and match the models."""

from alembic import command
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from app.schema import alembic_config
from tests.conftest import TEST_DATABASE_URL, reset_schema

# A scratch database named after the test database, so suites on other test databases never share it.
SCRATCH_NAME = f"{make_url(TEST_DATABASE_URL).database}_migrations"
SCRATCH_URL = make_url(TEST_DATABASE_URL).set(database=SCRATCH_NAME)


def ensure_database() -> None:
    admin = create_engine(make_url(TEST_DATABASE_URL).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(text("select 1 from pg_database where datname = :name"), {"name": SCRATCH_NAME})
        if not exists:
            conn.execute(text(f'create database "{SCRATCH_NAME}"'))
    admin.dispose()


def test_up_down_up_and_check() -> None:
    ensure_database()
    url = SCRATCH_URL.render_as_string(hide_password=False)
    engine = create_engine(url)
    reset_schema(engine)
    config = alembic_config(url)
    command.upgrade(config, "head")
    assert "volunteers" in inspect(engine).get_table_names()
    command.downgrade(config, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version", "spatial_ref_sys"}
    command.upgrade(config, "head")
    command.check(config)  # raises when autogenerate would find differences
    with engine.connect() as conn:
        indexes = conn.scalars(text("select indexdef from pg_indexes where tablename = 'volunteers'")).all()
    assert any("gist (location)" in i for i in indexes)
    engine.dispose()
