"""Versioned schema migrations (Alembic), for SQLite and PostgreSQL alike.

A new, empty database gets the current tables and is stamped with the newest revision. A database of an
older version is never changed behind the user's back: opening it raises `SchemaOutdated`, naming the
command that upgrades it (`trade-monitor db upgrade`), which runs the migrations in
`monitor/store/migrations/versions/`. A database from before versioned migrations (release 0.1.0) is at
the baseline revision, 0001.
"""

from __future__ import annotations

import logging
from pathlib import Path

# Alembic reports each step at INFO; `db upgrade` prints its own summary, and every other command would
# otherwise start with a dozen lines about plugins (logged while alembic is imported, so set first).
logging.getLogger("alembic").setLevel(logging.WARNING)

from alembic.config import Config as AlembicConfig  # noqa: E402
from alembic.runtime.migration import MigrationContext  # noqa: E402
from alembic.script import ScriptDirectory  # noqa: E402
from sqlalchemy import inspect  # noqa: E402
from sqlalchemy.engine import Connection  # noqa: E402

from monitor.errors import StorageError  # noqa: E402

MIGRATIONS = Path(__file__).with_name("migrations")
BASELINE = "0001"  # the schema of 0.1.0, which had no alembic_version table
# Columns and indexes added by migrations after the baseline: the additive catch-up of a database from
# before 0.1.0 leaves them to their migration. Each new migration that adds a column lists it here.
AFTER_BASELINE = frozenset(
    {"entry.canonical_link", "evidence.canonical_link", "ix_evidence_commitment_signal_published"}
)


class SchemaOutdated(StorageError):
    """The database was made by an older version and needs `trade-monitor db upgrade`."""


def _config(connection: Connection | None = None) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships its migrations
        raise StorageError("no schema migrations found in the installed package")
    return head


def current_revision(conn: Connection) -> str | None:
    """The database's revision: None for an empty database, the baseline for a 0.1.0 one."""
    revision = MigrationContext.configure(conn).get_current_revision()
    if revision is None and inspect(conn).has_table("source"):
        return BASELINE
    return revision


def is_empty(conn: Connection) -> bool:
    return current_revision(conn) is None


def stamp_head(conn: Connection) -> None:
    """Record a database made from the current models as being at the newest revision."""
    from alembic import command

    command.stamp(_config(conn), "head")


def check_current(conn: Connection, where: str) -> None:
    """Raise `SchemaOutdated` unless the database is at this version's revision."""
    current, head = current_revision(conn), head_revision()
    if current == head:
        return
    scripts = ScriptDirectory.from_config(_config())
    known = {s.revision for s in scripts.walk_revisions()}
    if current not in known:
        raise StorageError(
            f"database {where} has schema revision {current}, which this version of trade-monitor does not "
            f"know (it expects {head}); it was made by a newer version: upgrade trade-monitor"
        )
    raise SchemaOutdated(
        f"database {where} has an older schema (revision {current}, this version needs {head}); back it "
        "up and run `trade-monitor db upgrade` to migrate it, keeping every row"
    )


def upgrade(conn: Connection) -> tuple[str | None, str]:
    """Run every migration the database lacks; returns (revision before, revision after)."""
    from alembic import command

    from monitor.store import add_missing_columns

    before = current_revision(conn)
    if before == BASELINE and MigrationContext.configure(conn).get_current_revision() is None:
        add_missing_columns(conn, AFTER_BASELINE)  # what 0.1.0 itself did on every start
        command.stamp(_config(conn), BASELINE)
    command.upgrade(_config(conn), "head")
    return before, head_revision()
