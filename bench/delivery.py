"""Delivery benchmark: alerts per second through the outbox, and delay from status change to delivery.

    python bench/delivery.py [--alerts 400] [--rate 40] [--tick 0.05] [--concurrency 8]

Two runs against a healthy local json:// receiver (tests/receivers.py) and a SQLite file:

1. throughput: ``--alerts`` status changes (each with its outbox alert, one transaction each) are queued,
   then the real `Deliverer` drains the outbox; alerts/s = alerts / drain time. Enqueue speed is shown
   separately (it is the status-change transaction, not the send).
2. latency: a producer makes ``--rate`` changes per second while a delivery loop runs every ``--tick``
   seconds; the delay is the receiver's arrival time minus the change's commit time, median and worst.
   The daemon's default deliver tick is 5 s, which adds up to that much to these figures.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor.config import load_config  # noqa: E402
from monitor.delivery import Alerter, Deliverer  # noqa: E402
from monitor.store import AlertRow, Store  # noqa: E402
from monitor.tracking import Tracker  # noqa: E402
from tests.receivers import JsonReceiver  # noqa: E402

CYCLE = ["in_progress", "fulfilled", "delayed", "pending"]


class Bench:
    def __init__(self, folder: Path, receiver: JsonReceiver, concurrency: int) -> None:
        config_dir = folder / "config"
        shutil.copytree(ROOT / "config", config_dir)
        (config_dir / "notify.yaml").write_text(f"version: 1\nurls:\n  - {receiver.url()}\n")
        (config_dir / "alerts.yaml").write_text("version: 1\n")
        self.config = load_config(config_dir)
        self.store = Store(f"sqlite:///{folder / 'bench.sqlite'}")
        self.store.sync_commitments([c.id for c in self.config.commitments], dt.datetime.now(dt.UTC))
        self.tracker = Tracker(self.config.commitments, self.config.watchlist.policy, [1])
        self.alerter = Alerter(self.config)
        self.deliverer = Deliverer(self.store, self.config, concurrency=concurrency)
        self.ids = [c.id for c in self.config.commitments]
        self.made = 0
        self.change_times: dict[str, float] = {}

    def change(self) -> None:
        cid = self.ids[self.made % len(self.ids)]
        status = CYCLE[(self.made // len(self.ids)) % len(CYCLE)]
        now = dt.datetime.now(dt.UTC)
        with self.store.session() as s:
            event = self.tracker.set_status(s, cid, status, f"bench {self.made}", now)
            assert event is not None
            rows = self.alerter.enqueue(s, [event], now)
        committed = time.time()
        for row in rows:
            self.change_times[row.key] = committed
        self.made += 1

    def open_alerts(self) -> int:
        return len(self.store.alerts(states=["pending", "held"], limit=1_000_000))

    async def drain(self) -> None:
        while self.open_alerts():
            await self.deliverer.deliver_due(dt.datetime.now(dt.UTC), limit=200)


def keys_by_idempotency(bench: Bench) -> dict[str, str]:
    from monitor.delivery import idempotency_key, target_hash

    target = bench.config.notify_targets[0]
    with bench.store.session() as s:
        from sqlmodel import select

        return {idempotency_key(a.key, target_hash(target)): a.key for a in s.exec(select(AlertRow)).all()}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--alerts", type=int, default=400)
    parser.add_argument("--rate", type=float, default=40.0, help="changes per second in the latency run")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of the latency run")
    parser.add_argument("--tick", type=float, default=0.05, help="delivery loop interval in the latency run")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, JsonReceiver() as rx:
        bench = Bench(Path(tmp) / "a", rx, args.concurrency)
        t0 = time.perf_counter()
        for _ in range(args.alerts):
            bench.change()
        enqueue_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        asyncio.run(bench.drain())
        drain_s = time.perf_counter() - t0
        assert len(rx.ok_posts) == args.alerts, (len(rx.ok_posts), args.alerts)
        n = args.alerts
        print(
            f"throughput: {n} alerts enqueued in {enqueue_s:.2f}s ({n / enqueue_s:.0f}/s), delivered in "
            f"{drain_s:.2f}s ({n / drain_s:.0f} alerts/s, concurrency {args.concurrency})"
        )

    with tempfile.TemporaryDirectory() as tmp, JsonReceiver() as rx:
        arrivals: dict[str, float] = {}
        original = rx._answer

        def timed(path: str, headers: dict[str, str], body: dict[str, object]) -> int:
            status = original(path, headers, body)
            arrivals.setdefault(headers.get("idempotency-key", ""), time.time())
            return status

        rx._answer = timed  # type: ignore[method-assign]
        bench = Bench(Path(tmp) / "b", rx, args.concurrency)
        stop = threading.Event()

        def produce() -> None:
            interval = 1.0 / args.rate
            end = time.monotonic() + args.seconds
            while time.monotonic() < end:
                started = time.monotonic()
                bench.change()
                time.sleep(max(0.0, interval - (time.monotonic() - started)))
            stop.set()

        async def deliver_loop() -> None:
            while not stop.is_set() or bench.open_alerts():
                await bench.deliverer.deliver_due(dt.datetime.now(dt.UTC))
                await asyncio.sleep(args.tick)

        producer = threading.Thread(target=produce)
        producer.start()
        asyncio.run(deliver_loop())
        producer.join()
        by_key = keys_by_idempotency(bench)
        delays = sorted(arrivals[k] - bench.change_times[by_key[k]] for k in arrivals)
        assert len(delays) == bench.made
        p95 = delays[int(0.95 * (len(delays) - 1))]
        print(
            f"latency: {bench.made} changes at {args.rate:g}/s, delivery tick {args.tick:g}s: "
            f"median {statistics.median(delays) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
            f"worst {delays[-1] * 1000:.0f} ms"
        )


if __name__ == "__main__":
    main()
