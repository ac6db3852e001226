"""Benchmark: fetch + parse of N local feeds, cold and warm, against the feedparser-alone floor.

    python bench/ingest.py                      # 1,000 feeds x 20 entries
    python bench/ingest.py --feeds 200 --json   # smaller, machine-readable

A local server (127.0.0.1, its own process so its CPU is not counted) serves every feed twice: once with
validators (ETag/Last-Modified, so a warm poll is a 304) and once without (a warm poll is a 200 with a
byte-identical body, caught by the body hash). Each phase runs in a fresh process so its peak RSS is its
own. Phases:

- floor: `feedparser.parse` alone over the same bytes, in one thread: what a cold ingest cannot beat;
- floor, parse_feed options: the same without HTML sanitizing/URI rewriting (what parse_feed asks for);
- cold: `Fetcher.fetch` + `parse_feed` (in a worker thread, as the pipeline does) for every feed: all new;
- warm (validators): every feed answers 304; no parse;
- warm (no validators): every feed answers 200 with the same bytes; the hash skips the parse;
- cold full ingest: fetch + parse + `Monitor.ingest` (SQLite store, matching, tracking), when the
  pipeline exists (`--no-ingest` skips it).

Aims (issue 5): cold within 1.5x of the floor; a warm poll of 1,000 feeds under 5 s of wall time.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import multiprocessing as mp
import resource
import shutil
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ENTRY_TEXT = (
    "Officials said the measure would take effect next month after a review of the schedule. "
    "Traders expect shipments to resume once the paperwork is complete and port fees are settled."
)


def make_feed(i: int, entries: int) -> bytes:
    """An invented RSS 2.0 feed of realistic size (about 0.5 KB per entry)."""
    items = []
    for j in range(entries):
        items.append(
            f"<item><title>Feed {i} report {j}: tariff schedule update</title>"
            f"<link>https://news.example.org/{i}/story-{j}.html</link>"
            f'<guid isPermaLink="false">urn:bench:{i}:{j}</guid>'
            f"<pubDate>Mon, {1 + j % 28:02d} Dec 2025 {j % 24:02d}:00:00 GMT</pubDate>"
            f"<description>&lt;p&gt;{ENTRY_TEXT} ({i}/{j})&lt;/p&gt;</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Bench feed {i}</title><link>https://news.example.org/{i}/</link>"
        f"<description>Invented feed for benchmarking</description>{''.join(items)}</channel></rss>"
    ).encode()


def serve(feeds: int, entries: int, port_queue: Any) -> None:
    """Server process: /v/N.xml with validators, /p/N.xml without."""
    from tests.feedserver import FeedServer, Route

    server = FeedServer()
    server.record = False
    for i in range(feeds):
        body = make_feed(i, entries)
        headers = {"Content-Type": "application/rss+xml; charset=utf-8"}
        server.routes[f"/v/{i}.xml"] = Route(
            body=body, headers=headers, etag=f'"bench-{i}"', last_modified="Mon, 01 Dec 2025 10:00:00 GMT"
        )
        server.routes[f"/p/{i}.xml"] = Route(body=body, headers=headers)
    server.serve_forever(on_ready=port_queue.put)


def _measure(func: Any, *args: Any) -> dict[str, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    extra = func(*args)
    out = {"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu}
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.update(extra or {})
    return out


def phase_floor(feeds: int, entries: int, lean: bool = False) -> dict[str, float]:
    """feedparser alone; `lean` uses the options parse_feed uses (no HTML sanitizing or URI rewriting,
    since every text becomes plain text), to show how much of our margin comes from those options."""
    import feedparser

    options = {"sanitize_html": False, "resolve_relative_uris": False} if lean else {}
    bodies = [make_feed(i, entries) for i in range(feeds)]
    headers = {"content-type": "application/rss+xml; charset=utf-8"}

    def run() -> dict[str, float]:
        n = 0
        for body in bodies:
            n += len(feedparser.parse(io.BytesIO(body), response_headers=headers, **options).entries)
        return {"entries": n, "bytes": sum(map(len, bodies))}

    return _measure(run)


def phase_poll(port: int, feeds: int, mode: str, concurrency: int) -> dict[str, float]:
    """cold: everything new (fetch + parse); warm-v: 304s; warm-p: identical bodies (hash)."""
    from monitor.fetch import Fetcher, FetchState
    from monitor.parse import parse_feed

    prefix = "/v" if mode != "warm-p" else "/p"
    urls = [f"http://127.0.0.1:{port}{prefix}/{i}.xml" for i in range(feeds)]
    states = [FetchState(u) for u in urls]

    async def prime() -> None:  # warm phases: learn validators and hashes first (not measured)
        async with Fetcher(
            host_overrides={"127.0.0.1": (concurrency, 0.0)}, max_connections=concurrency
        ) as f:
            results = await asyncio.gather(*(f.fetch(s) for s in states))
        for s, r in zip(states, results, strict=True):
            s.etag, s.last_modified, s.body_hash = r.etag, r.last_modified, r.body_hash

    async def poll() -> dict[str, float]:
        outcomes: dict[str, int] = {}
        entries = 0
        async with Fetcher(
            host_overrides={"127.0.0.1": (concurrency, 0.0)}, max_connections=concurrency
        ) as f:
            gate = asyncio.Semaphore(concurrency)

            async def one(state: FetchState) -> int:
                async with gate:
                    r = await f.fetch(state)
                outcomes[r.outcome] = outcomes.get(r.outcome, 0) + 1
                if r.outcome == "new" and r.body is not None:
                    feed = await asyncio.to_thread(parse_feed, r.body, r.headers, r.url)
                    return len(feed.entries)
                return 0

            entries = sum(await asyncio.gather(*(one(s) for s in states)))
        return {"entries": entries, **{f"outcome_{k}": v for k, v in outcomes.items()}}

    if mode != "cold":
        asyncio.run(prime())
    return _measure(lambda: asyncio.run(poll()))


def phase_full_ingest(port: int, feeds: int, concurrency: int) -> dict[str, Any]:
    """Cold fetch + parse + `Monitor.ingest` (store, match, track) into a fresh SQLite file, as the
    daemon's poll does; uses the lead's pipeline API, so it reports a skip when that API is missing."""
    import datetime as dt
    import tempfile

    try:
        from monitor.config import default_config_dir, load_config
        from monitor.fetch import Fetcher, FetchState
        from monitor.parse import parse_feed
        from monitor.pipeline import Monitor
        from monitor.store import Store
    except ImportError as exc:
        return {"error": f"pipeline API not available: {exc}"}

    tmp = tempfile.mkdtemp(prefix="tm-bench-")
    store = Store(f"sqlite:///{tmp}/bench.sqlite")
    monitor = Monitor(load_config(default_config_dir()), store)
    urls = [f"http://127.0.0.1:{port}/v/{i}.xml" for i in range(feeds)]
    sources = [store.ensure_source(f"bench {i}", u, official=False) for i, u in enumerate(urls)]
    now = dt.datetime.now(dt.UTC)

    async def poll() -> dict[str, float]:
        stored = 0
        async with Fetcher(
            host_overrides={"127.0.0.1": (concurrency, 0.0)}, max_connections=concurrency
        ) as fetcher:
            gate = asyncio.Semaphore(concurrency)

            async def one(source: Any) -> int:
                async with gate:
                    result = await fetcher.fetch(FetchState(source.url))
                assert result.body is not None
                feed = await asyncio.to_thread(parse_feed, result.body, result.headers, result.url)
                outcome = await asyncio.to_thread(monitor.ingest, source, feed, now)
                return int(outcome.new_entries)

            stored = sum(await asyncio.gather(*(one(s) for s in sources)))
        return {"entries": stored}

    try:
        return _measure(lambda: asyncio.run(poll()))
    finally:
        store.close()
        shutil.rmtree(tmp, ignore_errors=True)


def _in_process(target: Any, *args: Any) -> dict[str, float]:
    ctx = mp.get_context("spawn")
    with ctx.Pool(1) as pool:
        result: dict[str, float] = pool.apply(target, args)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--entries", type=int, default=20)
    parser.add_argument(
        "--concurrency", type=int, default=8, help="fetches in flight, as in Monitor.poll_due"
    )
    parser.add_argument("--no-ingest", action="store_true", help="skip the full-ingest phase (store, match)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args()

    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    server = ctx.Process(target=serve, args=(args.feeds, args.entries, queue), daemon=True)
    server.start()
    try:
        port = queue.get(timeout=60)
        phases = {
            "floor: feedparser alone": _in_process(phase_floor, args.feeds, args.entries),
            "floor, parse_feed options": _in_process(phase_floor, args.feeds, args.entries, True),
            "cold: fetch + parse": _in_process(phase_poll, port, args.feeds, "cold", args.concurrency),
            "warm: 304 (validators)": _in_process(phase_poll, port, args.feeds, "warm-v", args.concurrency),
            "warm: same body (hash)": _in_process(phase_poll, port, args.feeds, "warm-p", args.concurrency),
        }
        if not args.no_ingest:
            phases["cold: full ingest (store)"] = _in_process(
                phase_full_ingest, port, args.feeds, args.concurrency
            )
    finally:
        server.terminate()
        server.join(5)
    floor = phases["floor: feedparser alone"]
    cold = phases["cold: fetch + parse"]
    summary = {
        "feeds": args.feeds,
        "entries_per_feed": args.entries,
        "phases": phases,
        "cold_over_floor_wall": cold["wall_s"] / floor["wall_s"],
        "cold_over_floor_cpu": cold["cpu_s"] / floor["cpu_s"],
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    print(
        f"{args.feeds} feeds x {args.entries} entries, {floor['bytes'] / args.feeds / 1024:.1f} KiB per feed"
    )
    print(f"{'phase':26} {'wall s':>8} {'cpu s':>8} {'peak MB':>8} {'ms/feed':>8}  outcomes")
    for name, m in phases.items():
        outcomes = ", ".join(f"{k[8:]}={int(v)}" for k, v in m.items() if k.startswith("outcome_"))
        if "entries" in m:
            outcomes += f"{', ' if outcomes else ''}entries={int(m['entries'])}"
        if "error" in m:
            print(f"{name:26} skipped: {m['error']}")
            continue
        print(
            f"{name:26} {m['wall_s']:8.2f} {m['cpu_s']:8.2f} {m['peak_rss_mb']:8.1f} "
            f"{1000 * m['wall_s'] / args.feeds:8.2f}  {outcomes}"
        )
    print(
        f"cold / floor: {summary['cold_over_floor_wall']:.2f}x wall, "
        f"{summary['cold_over_floor_cpu']:.2f}x CPU "
        f"(aim <= 1.5x); warm polls: {phases['warm: 304 (validators)']['wall_s']:.2f} s and "
        f"{phases['warm: same body (hash)']['wall_s']:.2f} s (aim < 5 s for 1,000 feeds)"
    )


if __name__ == "__main__":
    main()
