"""Profile the store-match-track part of ingest on a store that already holds history.

    python bench/profile_ingest.py --db /tmp/mon.db --config-dir DIR --feeds /tmp/perf-feeds --count 100

Parses ``count`` feed files of a perf/gen_feeds.py folder, gives their items fresh guids (so every item
is new), and ingests them through `Monitor.ingest` into a copy of the database, under cProfile. The
per-feed time, compared between an empty store and one of 20k entries, shows whether ingest cost grows
with history.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sqlite3
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    from monitor.config import load_config
    from monitor.parse import parse_feed
    from monitor.pipeline import Monitor
    from monitor.store import Store, utcnow

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--db", type=Path, required=True, help="SQLite file with history (copied, not changed)"
    )
    parser.add_argument("--config-dir", type=Path, required=True)
    parser.add_argument("--feeds", type=Path, required=True)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    work = args.db.with_suffix(".profile.db")
    for stale in (work, Path(f"{work}-wal"), Path(f"{work}-shm")):
        stale.unlink(missing_ok=True)
    if args.db.exists():
        with sqlite3.connect(args.db) as source, sqlite3.connect(work) as target:
            source.backup(target)  # a consistent copy, WAL included
    store = Store(f"sqlite:///{work}")
    monitor = Monitor(load_config(args.config_dir), store)
    stamp = str(time.time_ns())
    feeds = []
    for path in sorted(args.feeds.glob("*.xml"))[: args.count]:
        body = path.read_bytes().replace(b">perf-", b">" + stamp.encode() + b"-perf-")
        feeds.append(parse_feed(body, {}, None))
    source = store.ensure_source("profile", "http://127.0.0.1/profile.xml")
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.enable()
    for feed in feeds:
        monitor.ingest(source, feed, utcnow())
    profile.disable()
    wall = time.perf_counter() - started
    print(f"{len(feeds)} feeds in {wall:.2f}s: {1000 * wall / max(1, len(feeds)):.1f} ms/feed")
    pstats.Stats(profile).sort_stats("cumulative").print_stats(args.top)
    work.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
