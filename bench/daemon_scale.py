"""Benchmark: does `run` keep 10,000 local feeds on 100 hosts on schedule, and in how much memory?

    python bench/daemon_scale.py                         # 10,000 feeds, 100 hosts, 15 min, 20 min run
    python bench/daemon_scale.py --feeds 1000 --minutes 3 --interval 60

A server process listens on 127.0.0.1 ... 127.0.0.<hosts> (one port; Linux routes all of 127/8 to
loopback), each feed with ETag and Last-Modified, so polls after the first are 304s. The daemon runs in
this process with the shipped per-host politeness (2 at once, 1 s apart) on a fresh SQLite file. Every
poll's lag is measured when the pool starts it: actual start minus the due time the store held. The
first poll of each source has no due time (it is due at once) and is reported apart, as the time the
cold cycle took. Figures: lag percentiles, polls per outcome, peak RSS of this process.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def serve(feeds: int, hosts: int, entries: int, port: int, ready: Any) -> None:
    from bench.ingest import make_feed
    from tests.feedserver import FeedServer, Route

    server = FeedServer(host=[f"127.0.0.{1 + h}" for h in range(hosts)], port=port)  # type: ignore[arg-type]
    server.record = False
    for i in range(feeds):
        server.routes[f"/f{i}.xml"] = Route(
            body=make_feed(i, entries),
            headers={"Content-Type": "application/rss+xml; charset=utf-8"},
            etag=f'"f{i}"',
            last_modified="Mon, 01 Dec 2025 10:00:00 GMT",
        )
    server.serve_forever(on_ready=lambda _port: ready.set())


def write_config(folder: Path, feeds: int, hosts: int, port: int, interval: str) -> None:
    import shutil

    folder.mkdir(parents=True, exist_ok=True)
    for name in ("watchlist.yaml", "alerts.yaml", "notify.yaml"):
        shutil.copy(ROOT / "config" / name, folder / name)
    lines = [
        "version: 1",
        f"defaults: {{interval: {interval}, min_interval: {interval}, max_interval: {interval}}}",
        "sources:",
        *(
            f"  - {{name: f{i:05d}, url: 'http://127.0.0.{1 + i % hosts}:{port}/f{i}.xml'}}"
            for i in range(feeds)
        ),
    ]
    (folder / "sources.yaml").write_text("\n".join(lines) + "\n")


def percentiles(values: list[float]) -> str:
    if not values:
        return "none"
    ordered = sorted(values)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return (
        f"n={len(ordered)} p50={pick(0.5):.2f}s p90={pick(0.9):.2f}s p99={pick(0.99):.2f}s "
        f"max={ordered[-1]:.2f}s mean={statistics.fmean(ordered):.2f}s"
    )


async def run_daemon(config: Path, db: str, minutes: float) -> None:
    from monitor.scheduler import Daemon
    from monitor.store import as_utc

    built = time.monotonic()
    daemon = Daemon(config, db, watch_config=False, retention=None)
    print(
        f"daemon built in {time.monotonic() - built:.1f}s (config, schema, source sync), "
        f"peak RSS so far {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB",
        flush=True,
    )
    lags: list[float] = []
    cold_starts: list[float] = []
    outcomes: dict[str, int] = {}
    started = time.monotonic()
    original = daemon.monitor.poll_source

    async def timed(row: Any, fetcher: Any) -> str:
        due = as_utc(row.next_poll_at)
        now = daemon.monitor.clock()
        if due is None:
            cold_starts.append(time.monotonic() - started)
        else:
            lags.append((now - due).total_seconds())
        outcome = await original(row, fetcher)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        return outcome

    daemon.monitor.poll_source = timed  # type: ignore[method-assign]
    task = asyncio.create_task(daemon.run())
    peak = 0
    end = started + minutes * 60
    while time.monotonic() < end:
        await asyncio.sleep(min(30.0, max(0.0, end - time.monotonic())))
        peak = max(peak, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
        elapsed = time.monotonic() - started
        print(
            f"t={elapsed:6.0f}s cold polls {len(cold_starts)}, scheduled polls {len(lags)}, "
            f"lag {percentiles(lags)}, peak RSS {peak / 1024:.0f} MiB",
            flush=True,
        )
    daemon.stopping.set()
    await task
    print()
    print(
        f"cold cycle: {len(cold_starts)} first polls, the last started at {max(cold_starts, default=0):.0f}s"
    )
    print(f"scheduled polls (due time known): lag {percentiles(lags)}")
    print(f"outcomes: {dict(sorted(outcomes.items()))}")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=10_000)
    parser.add_argument("--hosts", type=int, default=100)
    parser.add_argument("--entries", type=int, default=10)
    parser.add_argument("--interval", default="15m")
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--port", type=int, default=8811)
    args = parser.parse_args()
    ready = mp.Event()
    server = mp.Process(
        target=serve, args=(args.feeds, args.hosts, args.entries, args.port, ready), daemon=True
    )
    server.start()
    if not ready.wait(120):
        raise SystemExit("the feed server did not start")
    with tempfile.TemporaryDirectory(prefix="tm-scale-") as tmp:
        write_config(Path(tmp) / "config", args.feeds, args.hosts, args.port, args.interval)
        print(f"{args.feeds} feeds x {args.entries} entries on {args.hosts} hosts, interval {args.interval}")
        asyncio.run(run_daemon(Path(tmp) / "config", f"sqlite:///{tmp}/scale.sqlite", args.minutes))
    server.terminate()


if __name__ == "__main__":
    main()
