"""Alembic environment for the session database: runs on the connection kb opened (database.upgrade)."""

from alembic import context

from kbengine.walk.database import METADATA

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=METADATA, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
