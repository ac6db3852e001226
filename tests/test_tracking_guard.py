"""One sentence cannot move a commitment to fulfilled or broken: a target reached from a quantity needs the
corroboration of any fulfilment, counted only among reports that themselves state a cumulative amount at
the target, and a reversal needs corroboration too."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from monitor.config import Config, load_config
from monitor.store import CommitmentRow, EvidenceRow, Store
from monitor.tracking import Tracker

NOW = dt.datetime(2026, 1, 20, tzinfo=dt.UTC)
CID = "cn-soybean-purchases-2025"


@pytest.fixture
def setup(config_dir: Path, sqlite_url: str) -> tuple[Config, Store, Tracker]:
    config = load_config(config_dir)
    store = Store(sqlite_url)
    store.sync_commitments([c.id for c in config.commitments], NOW)
    return config, store, Tracker(config.commitments, config.watchlist.policy)


def _store(
    store: Store,
    tracker: Tracker,
    publisher: str,
    signal: str,
    *,
    commitment: str = CID,
    quantity: float | None = None,
    cumulative: bool = True,
    when: dt.datetime = NOW,
) -> None:
    with store.session() as s:
        ev = EvidenceRow(
            commitment_id=commitment,
            signal=signal,
            confidence=0.9,
            sentence=f"{publisher} says {signal}",
            publisher=publisher,
            official=False,
            link=f"https://{publisher}/{signal}/{quantity}",
            title=f"{publisher} {signal} {quantity}",
            story_key=f"{publisher} {signal} {quantity}",
            published=when,
            quantity_value=quantity,
            quantity_unit="MMT" if quantity is not None else None,
            quantity_cumulative=cumulative,
        )
        s.add(ev)
        s.flush()
        tracker.on_evidence(s, [ev], when)


def _status(store: Store, cid: str = CID) -> str:
    row = store.commitment(cid)
    assert isinstance(row, CommitmentRow)
    return row.status


def test_one_cumulative_figure_and_a_restated_pledge_do_not_reach_the_target(
    setup: tuple[Config, Store, Tracker],
) -> None:
    _, store, tracker = setup
    # a publisher restating the pledge amount is no report of purchases made ...
    _store(store, tracker, "b.example", "mention", quantity=12.0, cumulative=False)
    assert _status(store) != "fulfilled"
    # ... so it does not corroborate the first report that the amount was bought
    _store(store, tracker, "a.example", "progress", quantity=12.5, when=NOW + dt.timedelta(days=1))
    assert _status(store) != "fulfilled"
    _store(store, tracker, "c.example", "progress", quantity=12.2, when=NOW + dt.timedelta(days=2))
    assert _status(store) == "fulfilled"


def test_broken_needs_corroboration(setup: tuple[Config, Store, Tracker]) -> None:
    _, store, tracker = setup
    cid = "cn-nexperia-exports"
    _store(store, tracker, "a.example", "broken", commitment=cid)
    assert _status(store, cid) != "broken"
    _store(store, tracker, "b.example", "broken", commitment=cid, when=NOW + dt.timedelta(days=1))
    assert _status(store, cid) == "broken"
