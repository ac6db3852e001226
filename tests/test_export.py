"""`trade-monitor export` (json, csv, ics) and the retention of entries."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from icalendar import Calendar
from sqlmodel import select

from monitor.cli import main
from monitor.config import load_config
from monitor.pipeline import Monitor
from monitor.store import CommitmentRow, EntryRow, Store, utcnow
from tests.ops_fixtures import BEEF_ITEM, FENTANYL_ITEM, rss, write_config


@pytest.fixture
def world(tmp_path: Path) -> tuple[Path, str]:
    """A config folder and a database in which the fentanyl cut is fulfilled by an official report."""
    config_dir = write_config(tmp_path / "config", "http://127.0.0.1:9/feed.xml")
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    store = Store(db)
    monitor = Monitor(load_config(config_dir), store)
    source = store.ensure_source("Local wire", "http://127.0.0.1:9/feed.xml", official=True)
    monitor.ingest_document(source, rss(FENTANYL_ITEM, BEEF_ITEM), None, utcnow())
    with store.session() as s:
        row = s.get(CommitmentRow, "us-port-fees-suspension")
        assert row is not None
        row.extended_until = dt.date(2031, 11, 9)  # as an `extended` report would have set it
        s.add(row)
    store.close()
    return config_dir, db


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def test_json_has_status_progress_evidence_and_history(
    world: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    config_dir, db = world
    doc = json.loads(
        run_cli(capsys, "export", "--config-dir", str(config_dir), "--db", db, "--format", "json")
    )
    by_id = {c["id"]: c for c in doc["commitments"]}
    assert list(by_id) == ["us-fentanyl-tariff-cut", "us-port-fees-suspension"]
    cut = by_id["us-fentanyl-tariff-cut"]
    assert cut["status"] == "fulfilled"
    assert [e["link"] for e in cut["evidence"]] == [FENTANYL_ITEM[2]]
    assert cut["evidence"][0]["signal"] == "fulfilled" and cut["evidence"][0]["official"] is True
    assert "took effect" in cut["evidence"][0]["sentence"]
    assert [(h["from"], h["to"]) for h in cut["history"]] == [("pending", "fulfilled")]
    assert by_id["us-port-fees-suspension"]["status"] == "pending"
    assert by_id["us-port-fees-suspension"]["extended_until"] == "2031-11-09"


def test_csv_has_one_row_per_commitment(world: tuple[Path, str], capsys: pytest.CaptureFixture[str]) -> None:
    config_dir, db = world
    rows = list(
        csv.DictReader(
            io.StringIO(
                run_cli(capsys, "export", "--config-dir", str(config_dir), "--db", db, "--format", "csv")
            )
        )
    )
    assert [r["id"] for r in rows] == ["us-fentanyl-tariff-cut", "us-port-fees-suspension"]
    assert rows[0]["status"] == "fulfilled" and rows[0]["evidence_count"] == "1"
    assert rows[0]["last_evidence_link"] == FENTANYL_ITEM[2]
    assert rows[1]["status"] == "pending" and rows[1]["evidence_count"] == "0"


def test_progress_against_a_target_is_exported(tmp_path: Path) -> None:
    from monitor.export import build_records, to_csv

    config_dir = write_config(tmp_path / "config", "http://127.0.0.1:9/feed.xml")
    text = (config_dir / "watchlist.yaml").read_text()
    (config_dir / "watchlist.yaml").write_text(
        text.replace("    due: 2030-12-31\n", "    due: 2030-12-31\n    target: {value: 12, unit: MMT}\n")
    )
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    store.sync_commitments(["us-fentanyl-tariff-cut"], utcnow())
    with store.session() as s:
        row = s.get(CommitmentRow, "us-fentanyl-tariff-cut")
        assert row is not None
        row.progress_value = 3.0
        s.add(row)
    records = build_records(load_config(config_dir), store)
    assert records[0]["progress"]["percent"] == 25.0
    assert "3.0,25.0" in to_csv(records)
    store.close()


def test_ics_has_due_and_end_dates_with_moved_dates_winning(world: tuple[Path, str], tmp_path: Path) -> None:
    config_dir, db = world
    out = tmp_path / "deadlines.ics"
    assert (
        main(["export", "--config-dir", str(config_dir), "--db", db, "--format", "ics", "-o", str(out)]) == 0
    )
    cal = Calendar.from_ical(out.read_bytes())
    events = {str(e["uid"]): e for e in cal.walk("VEVENT")}
    assert set(events) == {
        "us-fentanyl-tariff-cut-due@trade-monitor",
        "us-port-fees-suspension-ends@trade-monitor",
    }
    due = events["us-fentanyl-tariff-cut-due@trade-monitor"]
    assert due.decoded("dtstart") == dt.date(2030, 12, 31)
    assert str(due["summary"]).startswith("Due: US cuts the fentanyl tariff")
    assert "status fulfilled" in str(due["description"])
    ends = events["us-port-fees-suspension-ends@trade-monitor"]
    assert ends.decoded("dtstart") == dt.date(2031, 11, 9)  # the extension, not the announced 2030-11-09
    alarms = list(ends.walk("VALARM"))
    assert alarms and alarms[0].decoded("trigger") == -dt.timedelta(days=7)


def test_retention_prunes_only_old_entries_without_evidence(world: tuple[Path, str]) -> None:
    _, db = world
    store = Store(db)
    old = utcnow() - dt.timedelta(days=200)
    with store.session() as s:
        entries = list(s.exec(select(EntryRow)).all())
        assert len(entries) == 2
        for e in entries:
            e.fetched_at = old
            s.add(e)
        s.add(EntryRow(source_id=entries[0].source_id, dedup_key="fresh", title="fresh", fetched_at=utcnow()))
    removed = store.prune_entries(utcnow() - dt.timedelta(days=90))
    assert removed == 1  # the beef report: old and no evidence (the config here has no beef commitment)
    with store.session() as s:
        left = {e.title for e in s.exec(select(EntryRow)).all()}
    assert left == {FENTANYL_ITEM[0], "fresh"}
    changes, evidence = store.history("us-fentanyl-tariff-cut")
    assert changes and evidence
    assert store.prune_entries(utcnow() - dt.timedelta(days=90)) == 0
    store.close()


def test_atom_feed_of_status_changes_is_valid_and_escapes_feed_text(tmp_path: Path) -> None:
    """The changes feed parses as Atom with our own parser, newest first, with its evidence links."""
    from monitor.config import load_config
    from monitor.export import render
    from monitor.parse import parse_feed
    from monitor.pipeline import Monitor
    from monitor.store import Store, utcnow

    config = load_config(Path(__file__).resolve().parents[1] / "config")
    store = Store(f"sqlite:///{tmp_path / 'a.sqlite'}")
    monitor = Monitor(config, store)
    with store.session() as s:
        for status in ("in_progress", "broken"):
            event = monitor.tracker.set_status(
                s, "cn-nexperia-exports", status, "<b>checked</b> & noted\x0b", utcnow()
            )
            assert event is not None
    feed = parse_feed(render("atom", config, store), {}, None)
    store.close()
    assert feed.version.startswith("atom") and not feed.bozo, feed.bozo_message
    titles = [e.title for e in feed.entries]
    assert titles[0].endswith("broken (was in progress)") and titles[1].endswith("in progress (was pending)")
    assert "<b>checked</b> & noted" in feed.entries[0].summary  # text escaped in XML, intact when read back
