"""Status rules: signals to statuses, corroboration, what may override what, targets and the calendar."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from monitor.config import Config, load_config
from monitor.store import CommitmentRow, EvidenceRow, Store
from monitor.tracking import Tracker, TrackEvent, expected_share

NOW = dt.datetime(2025, 11, 20, tzinfo=dt.UTC)


@pytest.fixture
def setup(config_dir: Path, sqlite_url: str) -> tuple[Config, Store, Tracker]:
    config = load_config(config_dir)
    store = Store(sqlite_url)
    store.sync_commitments([c.id for c in config.commitments], NOW)
    return config, store, Tracker(config.commitments, config.watchlist.policy)


def _track(
    store: Store,
    tracker: Tracker,
    commitment: str,
    signal: str,
    publisher: str,
    *,
    official: bool = False,
    official_party: str | None = None,
    when: dt.datetime = NOW,
    title: str | None = None,
    quantity: float | None = None,
    new_date: dt.date | None = None,
) -> list[TrackEvent]:
    """Store one piece of evidence as the pipeline would and return what the tracker made of it."""
    title = title or f"{publisher} {signal} {when}"
    with store.session() as s:
        ev = EvidenceRow(
            commitment_id=commitment,
            signal=signal,
            confidence=0.9,
            sentence=f"{official_party or publisher} says {signal}",
            publisher=publisher,
            official=official or official_party is not None,
            official_party=official_party,
            link=f"https://{publisher}/{signal}/{when:%s}",
            title=title,
            story_key=title.lower(),
            published=when,
            quantity_value=quantity,
            quantity_unit="MMT" if quantity else None,
            new_date=new_date,
        )
        s.add(ev)
        s.flush()
        return tracker.on_evidence(s, [ev], when)


def _evidence(
    store: Store, tracker: Tracker, commitment: str, signal: str, publisher: str, **kw: Any
) -> list[str]:
    """The events as "kind:new status" strings, for compact assertions."""
    events = _track(store, tracker, commitment, signal, publisher, **kw)
    return [f"{e.kind}:{e.change.to_status if e.change else ''}" for e in events]


def _status(store: Store, cid: str) -> str:
    row = store.commitment(cid)
    assert isinstance(row, CommitmentRow)
    return row.status


def test_progress_moves_on_one_report_but_fulfilled_needs_corroboration(
    setup: tuple[Config, Store, Tracker],
) -> None:
    _, store, tracker = setup
    assert _evidence(store, tracker, "trump-beijing-visit", "progress", "a.example") == [
        "status_change:in_progress"
    ]
    assert _evidence(store, tracker, "trump-beijing-visit", "fulfilled", "a.example") == ["unconfirmed:"]
    assert _status(store, "trump-beijing-visit") == "in_progress"
    assert _evidence(store, tracker, "trump-beijing-visit", "fulfilled", "b.example") == [
        "status_change:fulfilled"
    ]


def test_an_official_source_confirms_alone(setup: tuple[Config, Store, Tracker]) -> None:
    _, store, tracker = setup
    assert _evidence(store, tracker, "cn-nexperia-exports", "broken", "mofcom.gov.cn", official=True) == [
        "status_change:broken"
    ]


def test_progress_never_undoes_fulfilled_but_broken_can(setup: tuple[Config, Store, Tracker]) -> None:
    _, store, tracker = setup
    _evidence(store, tracker, "us-port-fees-suspension", "fulfilled", "ustr.gov", official=True)
    assert _evidence(store, tracker, "us-port-fees-suspension", "progress", "c.example") == []
    assert _evidence(store, tracker, "us-port-fees-suspension", "delayed", "ustr.gov", official=True) == []
    assert _status(store, "us-port-fees-suspension") == "fulfilled"
    assert _evidence(store, tracker, "us-port-fees-suspension", "broken", "ustr.gov", official=True) == [
        "status_change:broken"
    ]


def test_corroboration_window(setup: tuple[Config, Store, Tracker]) -> None:
    config, store, tracker = setup
    _evidence(store, tracker, "trump-beijing-visit", "delayed", "a.example", when=NOW)
    later = NOW + dt.timedelta(days=config.watchlist.policy.corroboration_window_days + 5)
    assert _evidence(store, tracker, "trump-beijing-visit", "delayed", "b.example", when=later) == [
        "unconfirmed:"
    ]


def test_quantity_milestones_and_fulfilment(setup: tuple[Config, Store, Tracker]) -> None:
    _, store, tracker = setup
    cid = "cn-soybean-purchases-2025"
    assert _evidence(store, tracker, cid, "progress", "a.example", quantity=4.0) == [
        "progress:",
        "status_change:in_progress",
    ]
    assert _evidence(
        store, tracker, cid, "progress", "b.example", quantity=6.5, when=NOW + dt.timedelta(days=5)
    ) == ["progress:"]
    row = store.commitment(cid)
    assert row is not None and row.progress_value == 6.5 and row.progress_alerted == 50
    got = _evidence(
        store,
        tracker,
        cid,
        "progress",
        "usda.gov",
        official=True,
        quantity=12.1,
        when=NOW + dt.timedelta(days=40),
    )
    assert got == ["progress:", "status_change:fulfilled"]


def test_pace_alert_when_behind(setup: tuple[Config, Store, Tracker]) -> None:
    config, store, tracker = setup
    commitment = config.commitment("cn-soybean-purchases-2026")
    when = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
    share = expected_share(commitment, when)
    assert share is not None and 0.45 < share < 0.55
    got = _evidence(store, tracker, commitment.id, "progress", "a.example", quantity=4.0, when=when)
    assert "pace:" in got


def test_extension_prevents_expiry(setup: tuple[Config, Store, Tracker]) -> None:
    _, store, tracker = setup
    cid = "cn-rare-earth-controls-suspension"
    new_end = dt.date(2027, 11, 10)
    got = _evidence(
        store,
        tracker,
        cid,
        "extended",
        "mofcom.gov.cn",
        official=True,
        when=dt.datetime(2026, 11, 5, tzinfo=dt.UTC),
        new_date=new_end,
    )
    assert got == ["extension:", "status_change:fulfilled"]
    with store.session() as s:
        events = tracker.check_deadlines(s, dt.datetime(2026, 11, 20, tzinfo=dt.UTC))
    assert cid not in {e.commitment.id for e in events if e.change and e.change.to_status == "expired"}
    assert "us-reciprocal-tariff-truce" in {
        e.commitment.id for e in events if e.change and e.change.to_status == "expired"
    }


def test_deadline_check_is_idempotent(setup: tuple[Config, Store, Tracker]) -> None:
    _, store, tracker = setup
    when = dt.datetime(2026, 5, 2, tzinfo=dt.UTC)
    with store.session() as s:
        first = tracker.check_deadlines(s, when)
    with store.session() as s:
        second = tracker.check_deadlines(s, when)
    assert "trump-beijing-visit" in {e.commitment.id for e in first}
    # only the "overdue, unverified" notices repeat; the outbox keeps one per date (their keys)
    assert [e for e in second if e.kind != "unverified"] == []
    assert {e.key for e in second} <= {e.key for e in first if e.kind == "unverified"}


def test_two_sides_disagreeing_officially_is_flagged_once(
    setup: tuple[Config, Store, Tracker],
    config_dir: Path,
    sqlite_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from monitor.delivery import render_event
    from monitor.tracking import official_positions

    _, store, tracker = setup
    cid = "cn-nexperia-exports"

    def said(party: str, signal: str, when: dt.datetime, publisher: str) -> list[TrackEvent]:
        return [
            e
            for e in _track(store, tracker, cid, signal, publisher, official_party=party, when=when)
            if e.kind == "disputed"
        ]

    assert said("China", "fulfilled", NOW, "mofcom.gov.cn") == []
    disputes = said("US", "broken", NOW + dt.timedelta(days=1), "commerce.gov")
    text = render_event(disputes[0]).text
    assert "disagree" in text and "US says broken" in text and "China said fulfilled" in text
    with store.session() as s:
        positions = official_positions(
            s.exec(select(EvidenceRow).where(EvidenceRow.commitment_id == cid)).all()
        )
    assert {p: e.signal for p, e in positions.items()} == {"China": "fulfilled", "US": "broken"}
    # the same disagreement repeated yields an event with the same key, so the outbox alerts once
    again = said("US", "broken", NOW + dt.timedelta(days=2), "ustr.gov")
    assert {e.key for e in disputes + again} == {f"disputed:{cid}:China=fulfilled:US=broken"}
    # `status` shows each side's position, and who alone stated a one-sided promise
    from monitor.cli import main

    assert main(["status", "--json", "--config-dir", str(config_dir), "--db", sqlite_url]) == 0
    rows = {r["commitment"]: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    assert rows[cid]["sides"] == "China: fulfilled, US: broken"
    assert rows["cn-soybean-purchases-2025"]["sides"] == "stated by US only"


def test_evidence_a_later_verdict_overturned_does_not_count_again(
    setup: tuple[Config, Store, Tracker],
) -> None:
    """Two outlets said broken, then the ministry said fulfilled: one blog saying broken again is not
    confirmed by the two overturned reports."""
    _, store, tracker = setup
    cid = "cn-rare-earth-controls-suspension"
    day = dt.timedelta(days=1)
    assert _evidence(store, tracker, cid, "broken", "scmp.com", when=NOW) == ["unconfirmed:"]
    assert _evidence(store, tracker, cid, "broken", "reuters.com", when=NOW + day) == ["status_change:broken"]
    got = _evidence(store, tracker, cid, "fulfilled", "mofcom.gov.cn", official=True, when=NOW + 2 * day)
    assert got == ["status_change:fulfilled"]
    assert _evidence(store, tracker, cid, "broken", "someblog.net", when=NOW + 5 * day) == ["unconfirmed:"]
    assert _status(store, cid) == "fulfilled"
    # a second outlet after the verdict does confirm it
    assert _evidence(store, tracker, cid, "broken", "ft.com", when=NOW + 6 * day) == ["status_change:broken"]


def test_a_move_that_overturned_nothing_keeps_earlier_corroboration(
    setup: tuple[Config, Store, Tracker],
) -> None:
    """A progress report in between does not void an earlier 'fulfilled' from another outlet."""
    _, store, tracker = setup
    cid = "trump-beijing-visit"
    day = dt.timedelta(days=1)
    assert _evidence(store, tracker, cid, "fulfilled", "reuters.com", when=NOW) == ["unconfirmed:"]
    assert _evidence(store, tracker, cid, "progress", "bbc.co.uk", when=NOW + day) == [
        "status_change:in_progress"
    ]
    assert _evidence(store, tracker, cid, "fulfilled", "ft.com", when=NOW + 2 * day) == [
        "status_change:fulfilled"
    ]


def test_a_late_report_older_than_the_verdict_says_why_it_does_not_count(
    setup: tuple[Config, Store, Tracker],
) -> None:
    _, store, tracker = setup
    cid = "cn-nexperia-exports"
    assert _evidence(store, tracker, cid, "fulfilled", "mofcom.gov.cn", official=True, when=NOW) == [
        "status_change:fulfilled"
    ]
    assert _evidence(
        store, tracker, cid, "broken", "commerce.gov", official=True, when=NOW + dt.timedelta(days=3)
    ) == ["status_change:broken"]
    late = _track(store, tracker, cid, "fulfilled", "gov.cn", official=True, when=NOW + dt.timedelta(days=1))
    assert [e.kind for e in late] == ["unconfirmed"]
    assert "published before the current verdict" in late[0].reason


def test_no_dispute_from_a_stale_or_weak_official_statement(setup: tuple[Config, Store, Tracker]) -> None:
    _, store, tracker = setup
    cid = "cn-nexperia-exports"
    day = dt.timedelta(days=1)
    _track(store, tracker, cid, "fulfilled", "mofcom.gov.cn", official_party="China", when=NOW + 2 * day)
    _track(store, tracker, cid, "fulfilled", "commerce.gov", official_party="US", when=NOW + 4 * day)
    stale = _track(store, tracker, cid, "broken", "ustr.gov", official_party="US", when=NOW + day)
    assert "disputed" not in [e.kind for e in stale]  # the US's latest word is still 'fulfilled'
    with store.session() as s:
        weak = EvidenceRow(
            commitment_id=cid,
            signal="delayed",
            confidence=0.2,
            sentence="maybe late",
            publisher="cbp.gov",
            official=True,
            official_party="US",
            link="https://cbp.gov/x",
            title="weak",
            story_key="weak",
            published=NOW + 5 * day,
        )
        s.add(weak)
        s.flush()
        assert [e.kind for e in tracker.on_evidence(s, [weak], NOW)] == []
