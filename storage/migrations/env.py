"""Alembic environment. Run through ``storage.migrate``, which hands over a live connection."""

from alembic import context

from storage.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite needs table rebuilds for most ALTERs
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
