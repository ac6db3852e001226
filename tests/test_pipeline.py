"""End to end: a local feed server, the real fetcher, parser, engine, tracker and Apprise delivery."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path

from sqlmodel import select

from monitor.scheduler import Daemon
from tests.conftest import write_notify, write_sources
from tests.feedserver import FeedServer
from tests.receivers import JsonReceiver

ANNOUNCE = (  # the orders signed, not yet in force: progress (a plan alone would be a mention)
    "Trump signs orders halving fentanyl tariff on Chinese goods",
    "President Trump signed executive orders on Tuesday that lower the fentanyl-related tariff on imports "
    "from China to 10 percent from 20 percent, effective November 10.",
    "2025-11-04T09:00:00+00:00",
)
IN_FORCE = (
    "Lower fentanyl tariff on Chinese goods takes effect",
    "The cut in the fentanyl tariff on goods from China, to 10 percent from 20 percent, took effect on "
    "Monday, customs officials said.",
    "2025-11-10T14:00:00+00:00",
)


def rss(items: list[tuple[str, str, str]], site: str = "https://notices.example.gov") -> bytes:
    body = "".join(
        f"<item><title>{t}</title><link>{site}/n/{i}</link><guid>n-{i}</guid>"
        f"<pubDate>{dt.datetime.fromisoformat(p):%a, %d %b %Y %H:%M:%S +0000}</pubDate>"
        f"<description>{s}</description></item>"
        for i, (t, s, p) in enumerate(items)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Notices</title><link>{site}</link>'
        f"{body}</channel></rss>"
    ).encode()


async def _poll(daemon: Daemon) -> list[str]:
    await asyncio.to_thread(daemon.store.make_all_due)
    outcomes = await daemon.poll_once()
    await daemon.deliver_once()
    return outcomes


async def test_fulfilment_alerts_exactly_once(
    config_dir: Path, sqlite_url: str, json_sink: JsonReceiver
) -> None:
    with FeedServer() as server:
        server.set("/notices.xml", body=rss([ANNOUNCE]), headers={"Content-Type": "application/rss+xml"})
        write_sources(config_dir, [("Notices", server.url("/notices.xml"), True)])
        write_notify(config_dir, [json_sink.url()])
        daemon = Daemon(config_dir, sqlite_url)
        try:
            assert await _poll(daemon) == ["new"]
            first = list(json_sink.posts)
            row = daemon.store.commitment("us-fentanyl-tariff-cut")
            assert row is not None and row.status == "in_progress"

            server.set(
                "/notices.xml",
                body=rss([ANNOUNCE, IN_FORCE]),
                headers={"Content-Type": "application/rss+xml"},
            )
            assert await _poll(daemon) == ["new"]
            fulfilled = [p for p in json_sink.posts[len(first) :] if "Fulfilled" in p.title]
            assert len(fulfilled) == 1, json_sink.posts
            alert = fulfilled[0]
            assert "US cuts the fentanyl tariff" in alert.title
            assert "In progress" in alert.message and "Fulfilled" in alert.message
            assert "notices.example.gov/n/1" in alert.message.replace("\\", "")
            row = daemon.store.commitment("us-fentanyl-tariff-cut")
            assert row is not None and row.status == "fulfilled"

            count = len(json_sink.posts)
            await _poll(daemon)
            assert len(json_sink.posts) == count, "a third poll of the same feed must not alert again"
        finally:
            await daemon.shutdown()


async def test_not_modified_costs_no_parse_and_no_entries(config_dir: Path, sqlite_url: str) -> None:
    with FeedServer() as server:
        server.set(
            "/feed.xml", body=rss([ANNOUNCE]), etag='"v1"', headers={"Content-Type": "application/rss+xml"}
        )
        write_sources(config_dir, [("Feed", server.url("/feed.xml"), False)])
        daemon = Daemon(config_dir, sqlite_url)
        try:
            assert await _poll(daemon) == ["new"]
            from monitor.store import EntryRow

            with daemon.store.session() as s:
                entries_before = len(s.exec(select(EntryRow)).all())
            assert await _poll(daemon) == ["not_modified"]
            assert server.requests[-1].headers.get("if-none-match") == '"v1"'
            with daemon.store.session() as s:
                assert len(s.exec(select(EntryRow)).all()) == entries_before == 1
            source = daemon.store.source_by_name("Feed")
            assert source is not None and source.polls == 2 and source.entries_seen == 1
        finally:
            await daemon.shutdown()


async def test_unreachable_source_is_recorded_and_backed_off(
    config_dir: Path, sqlite_url: str, caplog: object
) -> None:
    with FeedServer() as server:
        server.set("/down.xml", status=503, body=b"busy")
        write_sources(config_dir, [("Down", server.url("/down.xml"), False)])
        daemon = Daemon(config_dir, sqlite_url)
        try:
            for _ in range(3):
                assert await _poll(daemon) == ["error"]
            source = daemon.store.source_by_name("Down")
            assert source is not None
            assert source.consecutive_failures == 3 and source.error_kind is not None
            assert source.next_poll_at is not None and source.last_success_at is None
            messages = [r.getMessage() for r in caplog.records if "Down:" in r.getMessage()]  # type: ignore[attr-defined]
            assert len(messages) == 1, messages  # logged once per failure episode, not once per poll
        finally:
            await daemon.shutdown()


def test_status_and_history_commands(config_dir: Path, sqlite_url: str, capsys: object) -> None:
    from monitor.cli import main

    doc = config_dir.parent / "notices.xml"
    doc.write_bytes(rss([ANNOUNCE, IN_FORCE], site="https://www.whitehouse.gov"))
    assert main(["replay", "--config-dir", str(config_dir), "--db", sqlite_url, str(doc)]) == 0
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    changes = [json.loads(line) for line in out.splitlines()]
    assert [c["to"] for c in changes if c["commitment"] == "us-fentanyl-tariff-cut"] == [
        "in_progress",
        "fulfilled",
    ]
    assert main(["status", "--config-dir", str(config_dir), "--db", sqlite_url]) == 0
    table = capsys.readouterr().out  # type: ignore[attr-defined]
    assert any(
        line.startswith("us-fentanyl-tariff-cut") and " fulfilled " in line for line in table.splitlines()
    )
    assert (
        main(["history", "us-fentanyl-tariff-cut", "--config-dir", str(config_dir), "--db", sqlite_url]) == 0
    )
    history = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "STATUS in_progress -> fulfilled" in history and "https://www.whitehouse.gov/n/1" in history


def test_a_reload_during_a_transaction_does_not_change_its_judgement(
    config_dir: Path, sqlite_url: str
) -> None:
    """A transaction keeps the config, engine, tracker and alerter it started with; a reload published
    meanwhile (from the watcher thread or SIGHUP) applies to the next transaction, as a whole."""
    import dataclasses
    import threading

    from monitor.config import load_config
    from monitor.pipeline import Monitor
    from monitor.store import Store

    full = load_config(config_dir)
    gone = "cn-rare-earth-controls-suspension"
    smaller = dataclasses.replace(
        full,
        watchlist=full.watchlist.model_copy(
            update={"commitments": [c for c in full.commitments if c.id != gone]}
        ),
    )
    store = Store(sqlite_url)
    monitor = Monitor(full, store)
    seen: list[tuple[bool, bool, bool]] = []
    with monitor._pin():
        before = monitor.judgement
        reload = threading.Thread(target=monitor.apply_config, args=(smaller,))
        reload.start()
        reload.join()
        ids = {c.id for c in monitor.config.commitments}
        seen.append((gone in ids, monitor.engine is before.engine, gone in monitor.tracker.commitments))
    after = {c.id for c in monitor.config.commitments}
    store.close()
    assert seen == [(True, True, True)]
    assert gone not in after and gone not in monitor.tracker.commitments


def test_a_source_removed_and_put_back_is_polled_again(config_dir: Path, sqlite_url: str) -> None:
    from monitor.config import load_config
    from monitor.pipeline import Monitor
    from monitor.store import Store

    write_sources(
        config_dir, [("A", "https://a.example/feed", False), ("B", "https://b.example/feed", False)]
    )
    store = Store(sqlite_url)
    monitor = Monitor(load_config(config_dir), store)
    write_sources(config_dir, [("A", "https://a.example/feed", False)])
    monitor.apply_config(load_config(config_dir))
    removed = store.source_by_name("B")
    assert removed is not None and not removed.enabled
    write_sources(
        config_dir, [("A", "https://a.example/feed", False), ("B", "https://b.example/feed", False)]
    )
    monitor.apply_config(load_config(config_dir))
    back = store.source_by_name("B")
    store.close()
    assert back is not None and back.enabled and back.disabled_reason is None


def test_the_reload_look_back_waits_for_transactions_judging_with_the_old_config(
    config_dir: Path, sqlite_url: str
) -> None:
    import threading

    from monitor.config import load_config
    from monitor.pipeline import Monitor
    from monitor.store import Store

    config = load_config(config_dir)
    store = Store(sqlite_url)
    monitor = Monitor(config, store)
    pinned, release = threading.Event(), threading.Event()

    def old_transaction() -> None:
        with monitor._pin():
            pinned.set()
            release.wait(10)

    worker = threading.Thread(target=old_transaction)
    worker.start()
    pinned.wait(10)
    monitor.apply_config(load_config(config_dir))  # a reload publishes a new judgement
    assert monitor.wait_for_older_judgements(timeout=0.2) is False
    release.set()
    assert monitor.wait_for_older_judgements(timeout=10) is True
    worker.join()
    store.close()


def test_dates_passed_before_watching_began_stay_unverified_until_the_past_is_read(
    config_dir: Path, sqlite_url: str
) -> None:
    """A first start finds dates long gone, but read nothing from then: no delayed or expired as a fact,
    one summary notice (not one a day); once backfill covers the period, the calendar rules apply; a date
    that passes while watching alerts as usual."""
    from sqlmodel import select

    from monitor.config import load_config
    from monitor.pipeline import Monitor
    from monitor.store import AlertRow, Store, backfill_windows, mark_window, plan_windows

    clock = [dt.datetime(2026, 5, 2, tzinfo=dt.UTC)]
    store = Store(sqlite_url)
    monitor = Monitor(load_config(config_dir), store, clock=lambda: clock[0])
    first = {c.commitment_id: c.to_status for c in monitor.check_deadlines(clock[0])}
    assert "trump-beijing-visit" not in first  # due 2026-04-30, before watching began: unverified
    assert not first  # every date that passed did so before watching began
    monitor.check_deadlines(clock[0] + dt.timedelta(days=1))  # the next daily check: no second notice
    # the backfill read the visit's past: announced 2025-11-01 up to the day watching began
    plan_windows(store, [("s", "trump-beijing-visit", dt.date(2025, 11, 1), dt.date(2026, 5, 3))])
    with store.session() as s:
        for w in backfill_windows(store):
            mark_window(s, w.id or 0, "done", 3, None, clock[0], [])
    covered = {c.commitment_id: c.to_status for c in monitor.check_deadlines(clock[0])}
    assert covered == {"trump-beijing-visit": "delayed"}  # read and found unfulfilled: a fact now
    clock[0] = dt.datetime(2027, 1, 2, tzinfo=dt.UTC)
    later = {c.commitment_id: c.to_status for c in monitor.check_deadlines(clock[0])}
    assert later["cn-soybean-purchases-2026"] == "delayed"  # due 2026-12-31, while watching
    with store.session() as s:
        alerts = s.exec(select(AlertRow)).all()
    store.close()
    summaries = [a for a in alerts if a.key.startswith("unwitnessed:")]
    assert len(summaries) == 1 and "trump-beijing-visit" in summaries[0].body_text
    assert "overdue, unverified" in summaries[0].body_text
    changes = {a.commitment_id for a in alerts if a.kind == "status_change"}
    assert "trump-beijing-visit" in changes and "cn-soybean-purchases-2026" in changes
