"""Alembic environment: the URL comes from settings unless the caller passes a connection."""

from alembic import context
from geoalchemy2 import alembic_helpers
from sqlalchemy import engine_from_config, pool

from app.models import Base
from app.settings import get_settings

config = context.config
target_metadata = Base.metadata

# Tables that PostGIS owns; autogenerate must not try to drop them.
POSTGIS_TABLES = {"spatial_ref_sys", "topology", "layer"}


def include_object(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    """Skip PostGIS's own tables and defer to GeoAlchemy2 for spatial indexes."""
    if type_ == "table" and name in POSTGIS_TABLES:
        return False
    return alembic_helpers.include_object(obj, name, type_, reflected, compare_to)


def run_migrations_online() -> None:
    """Run migrations on the connection given by the caller or on DATABASE_URL."""
    connection = config.attributes.get("connection")
    common = {
        "target_metadata": target_metadata,
        "include_object": include_object,
        "process_revision_directives": alembic_helpers.writer,
        "render_item": alembic_helpers.render_item,
        "compare_type": True,
    }
    if connection is not None:
        context.configure(connection=connection, **common)
        with context.begin_transaction():
            context.run_migrations()
        return
    section = config.get_section(config.config_ini_section) or {}
    section["sqlalchemy.url"] = config.get_main_option("sqlalchemy.url") or get_settings().database_url
    engine = engine_from_config(section, prefix="sqlalchemy.", poolclass=pool.NullPool)
    with engine.connect() as conn:
        context.configure(connection=conn, **common)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
