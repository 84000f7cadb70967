"""Alembic environment: hefa runs migrations programmatically (``review/records/db.py``)."""

from alembic import context
from sqlmodel import SQLModel

from hefa.review.records import models  # noqa: F401 - registers the tables

target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    connection = context.config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
