"""Several workers on one PostgreSQL database: each alert is delivered by exactly one of them."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest

from monitor.config import load_config
from monitor.delivery import Deliverer
from monitor.pipeline import Monitor
from monitor.store import Store, utcnow
from tests.conftest import write_notify
from tests.receivers import JsonReceiver

pytestmark = pytest.mark.postgres


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
