"""Alembic environment: run with a connection handed over by ``server.store.migrate``."""

from alembic import context

from server.store.tables import SQLModel  # noqa: F401  (metadata for autogenerate)

connection = context.config.attributes.get("connection")
if connection is None:  # `alembic` CLI use: build an engine from the configured URL
    from sqlalchemy import create_engine

    engine = create_engine(context.config.get_main_option("sqlalchemy.url") or "")
    connection = engine.connect()

context.configure(connection=connection, target_metadata=SQLModel.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
