"""Continuous polling and a graceful stop, against a real local server and a real SQLite store."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.scheduler import Daemon
from tests.feedserver import FeedServer, Route
from tests.ops_fixtures import wait_until

FEED = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><link>https://x.example/</link>'
    b"<item><title>Weather report</title><link>https://x.example/1</link><guid>g1</guid>"
    b"<description>Nothing about trade here.</description></item></channel></rss>"
)
RSS = {"Content-Type": "application/rss+xml"}


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as s:
        yield s


def write_sources(config_dir: Path, body: str) -> None:
    (config_dir / "sources.yaml").write_text(body, encoding="utf-8")


def sources_yaml(server: FeedServer, names: dict[str, str], interval: str = "1") -> str:
    lines = [
        "version: 1",
        f"defaults: {{interval: {interval}, min_interval: {interval}, max_interval: {interval}}}",
        "hosts:",
        f'  "{server.host}": {{concurrency: 4, min_interval: 0}}',
        "sources:",
        *(f"  - {{name: {name}, url: '{server.url(path)}'}}" for name, path in names.items()),
    ]
    return "\n".join(lines) + "\n"


async def test_a_slow_source_does_not_delay_a_fast_one(
    config_dir: Path, sqlite_url: str, server: FeedServer
) -> None:
    """A feed that drips 1 byte a second holds one slot of the pool; a fast feed beside it on a 1 s
    interval keeps being polled on time meanwhile (a batch would wait for the slow member)."""
    server.routes["/fast.xml"] = Route(body=FEED, headers=RSS)
    server.routes["/slow.xml"] = Route(body=FEED, headers=RSS, drip=(1, 1.0))
    write_sources(config_dir, sources_yaml(server, {"fast": "/fast.xml", "slow": "/slow.xml"}))
    daemon = Daemon(config_dir, sqlite_url, poll_tick=0.5, watch_config=False, shutdown_grace=0.5)
    task = asyncio.create_task(daemon.run())
    try:
        await wait_until(lambda: server.requests_for("/slow.xml"), "the slow poll to start")
        started = asyncio.get_running_loop().time()
        await wait_until(lambda: len(server.requests_for("/fast.xml")) >= 6, "six polls of the fast feed")
        elapsed = asyncio.get_running_loop().time() - started
        slow = daemon.store.source_by_name("slow")
        assert slow is not None and slow.polls == 0, "the slow poll is still running"
        # six polls on a 1 s interval (+-10% jitter) within about six seconds: on schedule
        assert elapsed < 9.0
    finally:
        daemon.stopping.set()
        await task


async def test_poll_once_all_polls_every_source(
    config_dir: Path, sqlite_url: str, server: FeedServer
) -> None:
    """`poll --once --all` polls every source once, not a batch of 32."""
    names = {f"feed-{i:02d}": f"/f{i}.xml" for i in range(45)}
    for path in names.values():
        server.routes[path] = Route(body=FEED, headers=RSS)
    write_sources(config_dir, sources_yaml(server, names, interval="15m"))
    daemon = Daemon(config_dir, sqlite_url, watch_config=False)
    try:
        await asyncio.to_thread(daemon.store.make_all_due)
        outcomes = await daemon.poll_once()
        assert outcomes == ["new"] * 45
        assert all(len(server.requests_for(p)) == 1 for p in names.values())
        assert await daemon.poll_once() == []  # nothing is due any more
    finally:
        await daemon.shutdown()


async def test_sigterm_lets_a_poll_in_flight_finish(
    config_dir: Path, sqlite_url: str, server: FeedServer
) -> None:
    """A stop waits (up to the grace period) for the poll in flight: it is recorded, not cancelled."""
    server.routes["/slowish.xml"] = Route(body=FEED, headers=RSS, drip=(64, 0.3))
    write_sources(config_dir, sources_yaml(server, {"slowish": "/slowish.xml"}, interval="15m"))
    daemon = Daemon(config_dir, sqlite_url, watch_config=False, shutdown_grace=20)
    task = asyncio.create_task(daemon.run())
    await wait_until(lambda: server.requests_for("/slowish.xml"), "the poll to start")
    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.wait_for(task, 30)
    row = daemon.store.source_by_name("slowish")
    assert row is not None and row.polls == 1 and row.lease_until is None
    assert row.entries_seen == 1


async def test_sigterm_past_the_grace_releases_the_lease_without_a_traceback(
    config_dir: Path, sqlite_url: str, server: FeedServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A poll still running when the grace ends is cancelled quietly and its source lease given back,
    so the next start polls it at once instead of 17 minutes later."""
    server.routes["/drip.xml"] = Route(body=FEED, headers=RSS, drip=(1, 1.0))
    write_sources(config_dir, sources_yaml(server, {"drip": "/drip.xml"}, interval="15m"))
    daemon = Daemon(config_dir, sqlite_url, watch_config=False, shutdown_grace=0.5)
    caplog.set_level(logging.INFO)  # (httpcore traces a cancelled read at DEBUG as a word, not a traceback)
    task = asyncio.create_task(daemon.run())
    await wait_until(lambda: server.requests_for("/drip.xml"), "the poll to start")
    leased = daemon.store.source_by_name("drip")
    assert leased is not None and leased.lease_until is not None
    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.wait_for(task, 10)
    row = daemon.store.source_by_name("drip")
    assert row is not None and row.lease_until is None and row.polls == 0
    assert "CancelledError" not in caplog.text and "Traceback" not in caplog.text
    assert not any(r.exc_info for r in caplog.records)


async def test_sigterm_drops_polls_queued_behind_a_host_pace_at_once(
    config_dir: Path, sqlite_url: str, server: FeedServer
) -> None:
    """Ten sources on a host paced 2 s apart (as Google News searches are): a stop after the first poll
    returns at once, the nine queued polls dropped and their leases given back, instead of sending them
    one by one for 18 s within the 20 s grace."""
    names = {f"search-{i}": f"/s{i}.xml" for i in range(10)}
    for path in names.values():
        server.routes[path] = Route(body=FEED, headers=RSS)
    body = sources_yaml(server, names, interval="15m").replace(
        "{concurrency: 4, min_interval: 0}", "{concurrency: 1, min_interval: 2}"
    )
    write_sources(config_dir, body)
    daemon = Daemon(config_dir, sqlite_url, watch_config=False, shutdown_grace=20)
    task = asyncio.create_task(daemon.run())
    await wait_until(lambda: len(server.requests) >= 1, "the first poll to be sent")
    # every source is either claimed (queued or in flight) or already polled and given back
    await wait_until(
        lambda: all(r.lease_until or r.polls for r in daemon.store.sources()), "every source claimed"
    )
    loop = asyncio.get_running_loop()
    stop = loop.time()
    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.wait_for(task, 30)
    assert loop.time() - stop < 3.0, "the stop waited for queued polls"
    assert len(server.requests) <= 2  # the first, and at most one whose turn came as the stop began
    rows = [daemon.store.source_by_name(name) for name in names]
    assert all(row is not None and row.lease_until is None for row in rows)
    assert sum(row.polls for row in rows if row is not None) == len(server.requests)
