"""Benchmark: how long each page of the web board takes at 1,000 commitments.

    python bench/web.py                    # 1,000 commitments, 20 requests per page
    python bench/web.py --commitments 5000 --requests 10 --json

A SQLite database with known content (tests/web_fixtures.py: four hand-written commitments plus
generated ones, each with two pieces of evidence and a status change) is served by the real board
(uvicorn on 127.0.0.1, in this process's event loop) and each page is fetched over HTTP, one request at
a time. The time is the client's wall time from request to last byte: query, render and transfer.
Aim (issue 12): every page within 100 ms at 1,000 commitments.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.config import load_config
from monitor.store import Store
from monitor.web import Board, WebServer
from tests.web_fixtures import build_board_db

PAGES = (
    "/",
    "/?party=China&status=in_progress",
    "/?page=10",
    "/commitments/cn-soybeans",
    "/commitments/us-fentanyl-tariff-cut",
    "/sources",
    "/alerts",
    "/api/commitments",
    "/api/commitments/cn-soybeans",
    "/changes.atom",
)
AIM_MS = 100.0


async def measure(folder: Path, commitments: int, requests: int) -> list[dict[str, object]]:
    config_dir, url = build_board_db(folder, extra=max(0, commitments - 4))
    config = load_config(config_dir)
    store = Store(url)
    web = WebServer(Board(config=lambda: config, store=store), "127.0.0.1", 0)
    await web.start()
    results: list[dict[str, object]] = []
    try:
        async with httpx.AsyncClient(base_url=web.url, trust_env=False, timeout=30) as client:
            for path in PAGES:
                first = await client.get(path)  # warm: templates compiled, connection open
                first.raise_for_status()
                times = []
                for _ in range(requests):
                    start = time.perf_counter()
                    response = await client.get(path)
                    times.append((time.perf_counter() - start) * 1000)
                    response.raise_for_status()
                times.sort()
                results.append(
                    {
                        "page": path,
                        "bytes": len(first.content),
                        "median_ms": round(statistics.median(times), 1),
                        "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)], 1),
                        "max_ms": round(times[-1], 1),
                    }
                )
    finally:
        await web.close()
        store.close()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--commitments", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = asyncio.run(measure(Path(tmp), args.commitments, args.requests))
    if args.json:
        print(json.dumps({"commitments": args.commitments, "requests": args.requests, "pages": results}))
    else:
        print(f"{args.commitments} commitments, {args.requests} requests per page (wall time per request)")
        print(f"{'page':40} {'bytes':>9} {'median ms':>10} {'p95 ms':>8} {'max ms':>8}")
        for r in results:
            print(f"{r['page']:40} {r['bytes']:>9} {r['median_ms']:>10} {r['p95_ms']:>8} {r['max_ms']:>8}")
    worst = max(float(str(r["p95_ms"])) for r in results)
    verdict = "within" if worst <= AIM_MS else "OVER"
    print(f"worst p95 {worst:.1f} ms: {verdict} the {AIM_MS:.0f} ms aim", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
