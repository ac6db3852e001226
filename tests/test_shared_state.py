"""Several workers on one PostgreSQL database: each alert is delivered by exactly one of them."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from monitor.config import load_config
from monitor.delivery import Deliverer
from monitor.pipeline import Monitor
from monitor.store import Store, utcnow
from tests.conftest import write_notify
from tests.receivers import JsonReceiver

pytestmark = pytest.mark.postgres


def _report(commitment: str, signal: str, host: str, when: object, official: bool = False) -> Any:
    """One piece of evidence from ``host``, as the pipeline stores it before the tracker judges it."""
    from monitor.store import EvidenceRow

    return EvidenceRow(
        commitment_id=commitment,
        signal=signal,
        confidence=0.9,
        sentence=f"{host}: {signal}",
        publisher=host,
        official=official,
        link=f"https://{host}/x",
        title=host,
        story_key=host,
        published=when,
    )


async def test_two_workers_share_the_outbox_without_double_sends(config_dir: Path, pg_url: str) -> None:
    with JsonReceiver() as receiver:
        write_notify(config_dir, [receiver.url("/hook")])
        config = load_config(config_dir)
        producer_store = Store(pg_url)
        monitor = Monitor(config, producer_store)
        with producer_store.session() as s:
            for commitment in config.commitments:
                for status in ("in_progress", "fulfilled"):
                    event = monitor.tracker.set_status(s, commitment.id, status, "shared state", utcnow())
                    assert event is not None
                    monitor.alerter.enqueue(s, [event], utcnow())
        stores = [Store(pg_url), Store(pg_url)]
        workers = [Deliverer(store, config) for store in stores]
        try:
            for _ in range(5):  # a few rounds, both workers racing for the same rows each time
                await asyncio.gather(*(w.deliver_due(utcnow()) for w in workers))
        finally:
            for store in [*stores, producer_store]:
                store.close()
        titles = Counter(p.title for p in receiver.posts)
        assert len(receiver.posts) == 2 * len(config.commitments)
        assert all(count == 1 for count in titles.values()), titles


def test_two_polls_judging_one_commitment_at_once_move_it_once(config_dir: Path, pg_url: str) -> None:
    """Two official reports of the same fact in two concurrent transactions: one status change."""
    import datetime as dt
    import threading

    from sqlmodel import select

    from monitor.store import StatusChangeRow

    config = load_config(config_dir)
    store = Store(pg_url)
    monitor = Monitor(config, store)
    cid = "cn-rare-earth-controls-suspension"
    when = dt.datetime(2025, 11, 12, tzinfo=dt.UTC)
    first_done, release_first = threading.Event(), threading.Event()

    def judge(host: str, hold: bool) -> None:
        with store.session() as s:
            ev = _report(cid, "fulfilled", host, when, official=True)
            s.add(ev)
            s.flush()
            monitor.tracker.on_evidence(s, [ev], when)
            if hold:  # commit only after the other transaction has started judging
                first_done.set()
                release_first.wait(10)

    def second() -> None:
        first_done.wait(10)
        threading.Timer(1.0, release_first.set).start()
        judge("english.www.gov.cn", hold=False)

    threads = [
        threading.Thread(target=judge, args=("www.mofcom.gov.cn", True)),
        threading.Thread(target=second),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    with store.session() as s:
        changes = s.exec(select(StatusChangeRow).where(StatusChangeRow.commitment_id == cid)).all()
    store.close()
    assert [(c.from_status, c.to_status) for c in changes] == [("pending", "fulfilled")]


def test_two_workers_storing_the_same_document_keep_one_copy(config_dir: Path, pg_url: str) -> None:
    """A worker whose lease ran out mid-poll and the worker that took over both store one document:
    the entries exist once and neither poll fails."""
    import datetime as dt
    import threading

    from sqlmodel import func, select

    from monitor.parse import parse_feed
    from monitor.store import EntryRow

    store = Store(pg_url)
    monitor = Monitor(load_config(config_dir), store)
    source = store.ensure_source("shared", "https://ledger.example/feed")
    body = (
        b'<rss version="2.0"><channel><title>t</title>'
        + b"".join(
            f"<item><title>Story {n}</title><guid>g{n}</guid><description>Rain.</description></item>".encode()
            for n in range(5)
        )
        + b"</channel></rss>"
    )
    feed = parse_feed(body, {}, None)
    when = dt.datetime(2025, 11, 12, tzinfo=dt.UTC)
    first_done, release_first = threading.Event(), threading.Event()
    outcomes: list[int] = []
    errors: list[str] = []

    def ingest(hold: bool) -> None:
        try:
            with store.session() as s:
                outcomes.append(monitor.ingest_in(s, source, feed, when).new_entries)
                if hold:
                    first_done.set()
                    release_first.wait(10)
        except Exception as exc:
            errors.append(repr(exc))

    def second() -> None:
        first_done.wait(10)
        threading.Timer(1.0, release_first.set).start()
        ingest(hold=False)

    threads = [threading.Thread(target=ingest, args=(True,)), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    with store.session() as s:
        stored = s.exec(select(func.count()).select_from(EntryRow)).one()
    store.close()
    assert errors == []
    assert stored == 5 and sorted(outcomes) == [0, 5]


def test_two_polls_that_both_stored_evidence_do_not_deadlock(config_dir: Path, pg_url: str) -> None:
    """Both transactions insert evidence (a foreign key to the commitment) before judging it: the
    judging lock must not collide with the key-share locks those inserts took."""
    import datetime as dt
    import threading

    store = Store(pg_url)
    monitor = Monitor(load_config(config_dir), store)
    cid = "cn-rare-earth-controls-suspension"
    when = dt.datetime(2025, 11, 12, tzinfo=dt.UTC)
    both_stored = threading.Barrier(2)
    errors: list[str] = []

    def judge(host: str) -> None:
        try:
            with store.session() as s:
                ev = _report(cid, "progress", host, when)
                s.add(ev)
                s.flush()  # what ingest_in does before the tracker judges
                both_stored.wait(10)
                monitor.tracker.on_evidence(s, [ev], when)
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}"[:200])

    threads = [threading.Thread(target=judge, args=(h,)) for h in ("a.example", "b.example")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    row = store.commitment(cid)
    store.close()
    assert errors == []
    assert row is not None and row.status == "in_progress"


def test_workers_starting_together_set_up_the_schema_once(pg_url: str) -> None:
    """Several workers opening a fresh database at the same moment must not race to create tables."""
    import threading

    errors: list[str] = []
    stores: list[Store] = []
    start = threading.Barrier(4)

    def open_store() -> None:
        start.wait(10)
        try:
            stores.append(Store(pg_url))
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}"[:200])

    threads = [threading.Thread(target=open_store) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for store in stores:
        store.close()
    assert errors == [] and len(stores) == 4
