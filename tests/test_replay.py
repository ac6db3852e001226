"""`trade-monitor replay`: corroboration across publishers, copies counted once, real feeds, PostgreSQL."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.store import Store, utcnow


def feed(site: str, title: str, items: list[tuple[str, str, str, str]]) -> bytes:
    """items: (guid, title, summary, RFC 822 date)."""
    body = "".join(
        f"<item><title>{t}</title><link>{site}/{g}</link><guid>{g}</guid><pubDate>{d}</pubDate>"
        f"<description>{s}</description></item>"
        for g, t, s, d in items
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title><link>{site}</link>'
        f"{body}</channel></rss>"
    ).encode()


IN_FORCE_A = (
    "a1",
    "Lower US tariff on Chinese goods takes effect",
    "The cut in the fentanyl tariff on goods from China, to 10 percent from 20 percent, took effect "
    "on Monday, customs brokers said.",
    "Mon, 10 Nov 2025 14:00:00 GMT",
)
IN_FORCE_B = (
    "b1",
    "China fentanyl tariff cut comes into force",
    "Washington's reduction of the fentanyl tariff on Chinese products to 10 percent took effect on "
    "November 10, according to a customs notice.",
    "Mon, 10 Nov 2025 16:00:00 GMT",
)


def _replay(
    capsys: pytest.CaptureFixture[str], config_dir: Path, db: str, *files: Path
) -> list[dict[str, object]]:
    assert main(["replay", "--config-dir", str(config_dir), "--db", db, *map(str, files)]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]


def test_one_publisher_is_not_enough_two_are(
    tmp_path: Path, config_dir: Path, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    a = tmp_path / "a.xml"
    a.write_bytes(feed("https://ledger.example", "Ledger", [IN_FORCE_A]))
    b = tmp_path / "b.xml"
    b.write_bytes(feed("https://wire.example", "Wire", [IN_FORCE_B]))
    first = _replay(capsys, config_dir, sqlite_url, a)
    assert not [c for c in first if c["commitment"] == "us-fentanyl-tariff-cut" and c["to"] == "fulfilled"]
    assert main(["status", "--json", "--config-dir", str(config_dir), "--db", sqlite_url]) == 0
    rows = {r["commitment"]: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    assert rows["us-fentanyl-tariff-cut"]["unconfirmed"] == "fulfilled (ledger.example)"
    assert rows["us-reciprocal-tariff-truce"]["unconfirmed"] == "-"
    second = _replay(capsys, config_dir, sqlite_url, b)
    fulfilled = [c for c in second if c["commitment"] == "us-fentanyl-tariff-cut" and c["to"] == "fulfilled"]
    assert len(fulfilled) == 1
    assert set(fulfilled[0]["evidence"]) == {"https://ledger.example/a1", "https://wire.example/b1"}  # type: ignore[arg-type]


def test_copies_of_one_story_count_once(
    tmp_path: Path, config_dir: Path, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """An aggregator re-publishing the same headline is not a second independent confirmation."""
    a = tmp_path / "a.xml"
    a.write_bytes(feed("https://ledger.example", "Ledger", [IN_FORCE_A]))
    copy = ("c1", IN_FORCE_A[1] + " - Ledger", IN_FORCE_A[2], "Mon, 10 Nov 2025 15:00:00 GMT")
    c = tmp_path / "c.xml"
    c.write_bytes(feed("https://aggregator.example", "Aggregator", [copy]))
    changes = _replay(capsys, config_dir, sqlite_url, a, c)
    assert not [x for x in changes if x["commitment"] == "us-fentanyl-tariff-cut" and x["to"] == "fulfilled"]


def test_old_news_never_counts(
    tmp_path: Path, config_dir: Path, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    old = [(g, t, s, d.replace("2025", "2019")) for g, t, s, d in (IN_FORCE_A, IN_FORCE_B)]
    path = tmp_path / "old.xml"
    path.write_bytes(feed("https://www.whitehouse.gov", "Archive", old))
    assert _replay(capsys, config_dir, sqlite_url, path) == []


def test_not_a_feed_is_reported_and_others_still_run(
    tmp_path: Path, config_dir: Path, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "page.html"
    page.write_bytes(b"<html><body><p>Not a feed</p></body></html>")
    good = tmp_path / "good.xml"
    good.write_bytes(feed("https://www.whitehouse.gov", "WH", [IN_FORCE_A]))
    code = main(["replay", "--config-dir", str(config_dir), "--db", sqlite_url, str(page), str(good)])
    captured = capsys.readouterr()
    assert code == 1 and "page.html" in captured.err
    assert any(json.loads(line)["to"] == "fulfilled" for line in captured.out.splitlines())


@pytest.mark.corpus
def test_replay_of_the_real_feeds_finishes(
    corpus: Path, config_dir: Path, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    files = sorted((corpus / "feeds").glob("*.xml"), key=lambda p: p.name.rsplit("_", 1)[-1])
    assert files, "no feed documents in the corpus"
    changes = _replay(capsys, config_dir, sqlite_url, *files)
    for change in changes:
        assert change["kind"] == "evidence" and change["evidence"], change  # every change cites its evidence
    print(f"{len(files)} documents replayed, {len(changes)} status changes")


@pytest.mark.postgres
def test_postgres_replay_and_exclusive_claims(
    tmp_path: Path, config_dir: Path, pg_url: str, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    a = tmp_path / "a.xml"
    a.write_bytes(feed("https://ledger.example", "Ledger", [IN_FORCE_A]))
    b = tmp_path / "b.xml"
    b.write_bytes(feed("https://wire.example", "Wire", [IN_FORCE_B]))
    on_pg = _replay(capsys, config_dir, pg_url, a, b)
    on_sqlite = _replay(capsys, config_dir, sqlite_url, a, b)
    strip = [(c["commitment"], c["from"], c["to"]) for c in on_pg]
    assert strip == [(c["commitment"], c["from"], c["to"]) for c in on_sqlite] and strip

    from monitor.config import load_config
    from monitor.pipeline import Monitor

    config = load_config(config_dir)
    store = Store(pg_url)
    Monitor(config, store)  # syncs the shipped sources into the shared database
    claimed: list[list[str]] = []

    def worker() -> None:
        other = Store(pg_url)
        claimed.append([r.name for r in other.claim_due_sources(utcnow(), 60, limit=100)])
        other.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    names = [n for batch in claimed for n in batch]
    assert len(names) == len(set(names)) == len(config.sources.sources), claimed
    store.close()


def test_deadlines_flag_marks_overdue_and_expired(
    tmp_path: Path, config_dir: Path, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    late = tmp_path / "late.xml"
    late.write_bytes(
        feed(
            "https://ledger.example",
            "Ledger",
            [("z1", "Port operators weigh a busy winter", "Volumes rise.", "Sat, 28 Nov 2026 10:00:00 GMT")],
        )
    )
    assert _replay(capsys, config_dir, sqlite_url, late) == []
    assert (
        main(["replay", "--deadlines", "--config-dir", str(config_dir), "--db", sqlite_url, str(late)]) == 0
    )
    out = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    got = {(c["commitment"], c["to"]) for c in out}
    # Both dates passed before this database began watching, and no search read that period: the
    # calendar alone does not make them facts (issue 11's honest calendar); `status` says so.
    assert ("trump-beijing-visit", "delayed") not in got  # due 2026-04-30
    assert ("cn-gallium-germanium-ban-suspension", "expired") not in got  # ended 2026-11-27
    assert ("cn-soybean-purchases-2026", "delayed") not in got  # due 2026-12-31, not yet
    assert all(c["kind"] == "deadline" for c in out)
    assert main(["status", "--config-dir", str(config_dir), "--db", sqlite_url]) == 0
    table = capsys.readouterr().out
    assert "pending (overdue, unverified)" in table and "commitments overdue, unverified" in table


@pytest.mark.corpus
def test_replay_of_1987_reuters_stories_changes_nothing(
    corpus: Path, tmp_path: Path, config_dir: Path, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Old trade and soybean news, wrapped as feeds and replayed: it predates every commitment."""
    import datetime as dt
    from email.utils import format_datetime
    from xml.sax.saxutils import escape

    rows = [
        json.loads(line) for line in (corpus / "reuters21578" / "reuters21578_trade_ag_subset.jsonl").open()
    ]
    files = []
    for start in range(0, len(rows), 500):
        items = []
        for row in rows[start : start + 500]:
            when = dt.datetime.strptime(row["date"].split(".")[0].strip(), "%d-%b-%Y %H:%M:%S").replace(
                tzinfo=dt.UTC
            )
            items.append(
                f"<item><title>{escape(row.get('title') or '')}</title><guid>reuters-{row['newid']}</guid>"
                f"<pubDate>{format_datetime(when, usegmt=True)}</pubDate>"
                f"<description>{escape(row.get('body') or '')}</description></item>"
            )
        path = tmp_path / f"reuters-{start}.xml"
        channel = f"<channel><title>Reuters 1987</title>{''.join(items)}</channel>"
        path.write_text(f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>')
        files.append(path)
    assert _replay(capsys, config_dir, sqlite_url, *files) == []
    store = Store(sqlite_url)
    try:
        from sqlmodel import func, select

        from monitor.store import EntryRow, EvidenceRow

        with store.session() as s:
            assert s.exec(select(func.count()).select_from(EntryRow)).one() == len(rows)
            assert s.exec(select(func.count()).select_from(EvidenceRow)).one() == 0
    finally:
        store.close()


def test_a_database_from_an_older_version_gains_new_columns(tmp_path: Path) -> None:
    """Upgrading must not lose the user's data: missing columns are added, rows are kept."""
    import sqlite3

    path = tmp_path / "old.sqlite"
    Store(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as conn:  # make it look like a database from before these columns existed
        conn.execute(
            "INSERT INTO source (name, url, configured_url, official, enabled, interval_seconds, "
            "consecutive_failures, failure_alerted, entries_seen, polls) "
            "VALUES ('Old feed', 'https://old.example/f', 'https://old.example/f', 0, 1, 900, 0, 0, 7, 3)"
        )
        conn.execute("ALTER TABLE evidence DROP COLUMN official_party")
        conn.execute("ALTER TABLE source DROP COLUMN polls")
        conn.execute("DROP INDEX ix_entry_story_key")
    store = Store(f"sqlite:///{path}")
    try:
        row = store.source_by_name("Old feed")
        assert row is not None and row.entries_seen == 7 and row.polls == 0
        with sqlite3.connect(path) as conn:
            columns = {r[1] for r in conn.execute("PRAGMA table_info(evidence)")}
            indexes = {r[1] for r in conn.execute("PRAGMA index_list(entry)")}
        assert "official_party" in columns and "ix_entry_story_key" in indexes
    finally:
        store.close()


def test_replay_skips_only_its_own_alerts(
    tmp_path: Path, config_dir: Path, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A daemon's undelivered alert in the same database survives a plain replay."""
    from monitor.config import load_config
    from monitor.delivery import Alerter

    store = Store(sqlite_url)
    with store.session() as s:
        Alerter(load_config(config_dir)).enqueue_ops(s, "daemon-alert", "Source failing: X", "down", utcnow())
    a = tmp_path / "a.xml"
    a.write_bytes(feed("https://www.whitehouse.gov", "WH", [IN_FORCE_A]))
    assert _replay(capsys, config_dir, sqlite_url, a)  # the official report moves the status
    states = {x.key: x.state for x in store.alerts()}
    store.close()
    assert states.pop("daemon-alert") == "pending"
    assert states and set(states.values()) == {"skipped"}
