"""Alembic environment: runs on the connection `monitor.store.schema` hands in, never on its own URL."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import monitor.store  # noqa: F401  (registers the tables on SQLModel.metadata)

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=SQLModel.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
