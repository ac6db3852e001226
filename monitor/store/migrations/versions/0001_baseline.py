"""The schema of trade-monitor 0.1.0, the last release before versioned migrations.

A database that release made (or opened: it added missing columns on every start) has every table but
no ``alembic_version``; `monitor.store.schema` treats it as this revision. Nothing to do.

Revision ID: 0001
"""

from __future__ import annotations

revision = "0001"
down_revision: str | None = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
