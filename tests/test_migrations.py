"""Versioned migrations: a database of the current release (0.1.0) is refused until `db upgrade`, which
keeps every row; SQLite and PostgreSQL. The 0.1.0 schema is the DDL its models produced
(tests/data/schema-0.1.0.*.sql), so the test does not depend on the code it checks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import text

from monitor.cli import main
from monitor.scheduler import Daemon
from monitor.store import Store, make_engine, schema
from monitor.store.schema import SchemaOutdated

DATA = Path(__file__).parent / "data"
NOW = dt.datetime(2026, 11, 20, 12, 0, 0)

ROWS = [
    "INSERT INTO source (id, name, url, configured_url, official, enabled, interval_seconds, "
    "consecutive_failures, failure_alerted, entries_seen, polls, etag) VALUES "
    "(1, 'Old feed', 'https://old.example/f', 'https://old.example/f', FALSE, TRUE, 900, 0, FALSE, 2, 5, "
    "'\"e1\"')",
    "INSERT INTO commitment (id, status, status_since, updated_at, archived, progress_alerted, pace_alerted) "
    "VALUES ('us-fentanyl-tariff-cut', 'fulfilled', :now, :now, FALSE, 0, FALSE)",
    *(
        "INSERT INTO entry (id, source_id, dedup_key, guid, link, title, summary, fetched_at, content_hash, "
        f"publisher, story_key) VALUES ({i}, 1, 'k{i}', 'g{i}', 'https://old.example/n/{i}?utm_source=x', "
        f"'Title {i}', 'Summary {i}', :now, 'h{i}', 'old.example', 'title {i}')"
        for i in (1, 2)
    ),
    "INSERT INTO evidence (id, entry_id, commitment_id, signal, confidence, sentence, cue, explanation, "
    "publisher, official, story_key, link, title, source_name, quantity_cumulative, created_at, published) "
    "VALUES (1, 1, 'us-fentanyl-tariff-cut', 'fulfilled', 0.9, 'It took effect.', 'took effect', '', "
    "'old.example', TRUE, 'title 1', 'https://old.example/n/1', 'Title 1', 'Old feed', TRUE, :now, :now)",
    "INSERT INTO status_change (id, commitment_id, from_status, to_status, at, kind, reason, evidence_ids, "
    "created_at) VALUES (1, 'us-fentanyl-tariff-cut', 'pending', 'fulfilled', :now, 'evidence', 'r', "
    "'[1]', :now)",
    "INSERT INTO alert (id, key, kind, severity, commitment_id, change_id, route, tags, subject, body, "
    "payload, mode, state, attempts, created_at, body_text, body_html, in_digest) VALUES "
    "(1, 'k1', 'status_change', "
    "'notice', 'us-fentanyl-tariff-cut', 1, 'default', '[]', 's', 'b', '{}', 'immediate', 'sent', 1, :now, "
    "'t', 'h', FALSE)",
    "INSERT INTO delivery (id, alert_id, target_hash, target, state, attempts, redeliveries) "
    "VALUES (1, 1, 'abc', 'json://***', 'sent', 1, 0)",
]
TABLES = ("source", "commitment", "entry", "evidence", "status_change", "alert", "delivery", "digest_item")


def build_release_db(url: str, dialect: str) -> dict[str, int]:
    """A database exactly as 0.1.0 made it, with rows in it; returns the row count per table."""
    engine = make_engine(url)
    lines = (DATA / f"schema-0.1.0.{dialect}.sql").read_text().splitlines()
    ddl = "\n".join(line for line in lines if not line.startswith("--"))
    with engine.begin() as conn:
        for statement in ddl.split(";"):
            if statement.strip():
                conn.execute(text(statement))
        for statement in ROWS:
            conn.execute(text(statement), {"now": NOW})
        counts = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}
    engine.dispose()
    return counts


def check_upgrade(url: str, dialect: str, config_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    counts = build_release_db(url, dialect)
    with pytest.raises(SchemaOutdated, match="db upgrade"):
        Store(url)
    with pytest.raises(SchemaOutdated, match="older schema"):
        Daemon(config_dir, url)  # a daemon on the old schema refuses to start
    assert main(["run", "--config-dir", str(config_dir), "--db", url, "--no-watch"]) == 1
    assert "run `trade-monitor db upgrade`" in capsys.readouterr().err

    assert main(["db", "upgrade", "--db", url]) == 0
    assert f"0001 -> {schema.head_revision()}" in capsys.readouterr().out
    assert schema.head_revision() == "0003"  # canonical links (0002), backfill windows (0003)
    store = Store(url)  # opens now
    try:
        with store.engine.connect() as conn:
            after = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}
            assert after == counts  # every row kept
            assert schema.current_revision(conn) == schema.head_revision()
            links = conn.execute(text("SELECT canonical_link FROM entry ORDER BY id")).scalars().all()
            assert links == ["", ""]  # older rows: computed from the link when read
            assert conn.execute(text("SELECT count(*) FROM backfill_window")).scalar_one() == 0
        source = store.source_by_name("Old feed")
        assert source is not None and source.etag == '"e1"' and source.polls == 5
        row = store.commitment("us-fentanyl-tariff-cut")
        assert row is not None and row.status == "fulfilled"
        assert [c.to_status for c in store.history("us-fentanyl-tariff-cut")[0]] == ["fulfilled"]
        assert [a.state for a in store.alerts()] == ["sent"]
    finally:
        store.close()
    assert main(["db", "upgrade", "--db", url]) == 0
    assert "up to date" in capsys.readouterr().out


def test_sqlite_upgrade_from_the_release_keeps_every_row(
    tmp_path: Path, config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    check_upgrade(f"sqlite:///{tmp_path / 'release.sqlite'}", "sqlite", config_dir, capsys)


@pytest.mark.postgres
def test_postgresql_upgrade_from_the_release_keeps_every_row(
    pg_url: str, config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    check_upgrade(pg_url, "postgresql", config_dir, capsys)


def test_a_new_database_starts_at_the_newest_revision(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'new.sqlite'}"
    Store(url).close()
    assert main(["db", "current", "--db", url]) == 0
    assert f"schema revision {schema.head_revision()}: up to date" in capsys.readouterr().out


def test_a_database_from_before_the_release_catches_up_on_upgrade(tmp_path: Path) -> None:
    """Releases before 0.1.0 lacked some columns; `db upgrade` adds them as 0.1.0 did, keeping rows."""
    import sqlite3

    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    build_release_db(url, "sqlite")
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("ALTER TABLE evidence DROP COLUMN official_party")
        conn.execute("ALTER TABLE source DROP COLUMN polls")
        conn.execute("DROP INDEX ix_entry_story_key")
    Store(url, migrate=True).close()
    store = Store(url)
    try:
        row = store.source_by_name("Old feed")
        assert row is not None and row.entries_seen == 2 and row.polls == 0
        with sqlite3.connect(path) as conn:
            columns = {r[1] for r in conn.execute("PRAGMA table_info(evidence)")}
            indexes = {r[1] for r in conn.execute("PRAGMA index_list(entry)")}
        assert {"official_party", "canonical_link"} <= columns and "ix_entry_story_key" in indexes
    finally:
        store.close()
