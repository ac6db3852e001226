"""`trade-monitor demo`: a one-minute tour of the real pipeline on an invented story.

Three invented feeds (two newspapers and one official notice board) are served from a local HTTP server
and grow day by day; the real fetcher polls them, the real engine reads them, statuses move, and alerts
go through Apprise's json:// plugin to a local receiver. The reports are fiction written for this demo,
with the dates of the real deal so the shipped watchlist applies.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import tempfile
import threading
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TextIO
from xml.sax.saxutils import escape

from monitor.config import Config, NotifyTarget, OfficialDomain, Source, Sources, load_config
from monitor.delivery import Deliverer
from monitor.fetch import Fetcher
from monitor.pipeline import Monitor
from monitor.store import Store, as_utc

# (date, feed, title, summary): invented reports, in the order they are published.
SCENARIO: list[tuple[str, str, str, str]] = [
    (
        "2025-11-03T08:00",
        "wire",
        "EU and China agree to a truce over electric car tariffs",
        "Brussels and Beijing said on Monday they had agreed to pause their dispute over tariffs on electric "
        "vehicles while talks continue.",
    ),
    (
        "2025-11-04T09:00",
        "ledger",
        "Trump signs orders halving fentanyl tariff on Chinese goods",
        "President Trump signed executive orders on Tuesday that lower the fentanyl-related tariff on "
        "imports from China to 10 percent from 20 percent, effective November 10.",
    ),
    (
        "2025-11-10T13:00",
        "ledger",
        "Lower US tariff on Chinese goods takes effect",
        "The cut in the fentanyl tariff on goods from China, to 10 percent from 20 percent, took effect on "
        "Monday, customs brokers said.",
    ),
    (
        "2025-11-10T15:00",
        "notices",
        "Modification of duties on products of China takes effect",
        "The reduction of the additional fentanyl tariff on products of China to 10 percent took effect "
        "today under the executive order signed on November 4.",
    ),
    (
        "2025-11-20T10:00",
        "wire",
        "China books first US soybean cargoes since the Busan deal",
        "Chinese state buyers have purchased about 3 million metric tons of US soybeans since the deal, "
        "traders said.",
    ),
    (
        "2025-12-22T10:00",
        "ledger",
        "China's US soybean buying reaches 7 million tons",
        "China has bought 7 million metric tons of US soybeans so far under the deal, according to traders.",
    ),
    (
        "2025-12-30T16:00",
        "wire",
        "China meets its 2025 soybean pledge, data show",
        "Chinese purchases of US soybeans have reached 12.2 million metric tons since the deal, export "
        "sales data showed.",
    ),
    (
        "2025-12-31T12:00",
        "notices",
        "Export sales: China's purchases of US soybeans total 12.2 MMT",
        "Weekly export sales figures show China has purchased 12.2 million metric tons of US soybeans "
        "since the end of October.",
    ),
    (
        "2026-02-12T07:00",
        "ledger",
        "Trump's Beijing trip could slip, aides say",
        "Some aides said Trump's visit to Beijing could be postponed, though no decision has been made.",
    ),
    (
        "2026-03-02T09:00",
        "wire",
        "White House sets date for Trump's visit to Beijing",
        "Trump will travel to Beijing from April 14 for talks with Xi Jinping, the White House said.",
    ),
    (
        "2026-04-14T11:00",
        "ledger",
        "Trump arrives in Beijing for talks with Xi",
        "Trump arrived in Beijing on Tuesday at the start of a state visit to China.",
    ),
    (
        "2026-04-14T12:30",
        "wire",
        "Trump lands in Beijing as trade truce holds",
        "President Trump landed in Beijing on Tuesday for his visit to China, the first in years.",
    ),
]

FEEDS = {
    "ledger": ("Harbour Ledger (demo)", "https://harbour-ledger.example", False),
    "wire": ("Prairie Wire (demo)", "https://prairie-wire.example", False),
    "notices": ("Federal Notices (demo)", "https://notices.demo.example", True),
}


def _rss(feed: str, upto: dt.datetime) -> bytes:
    title, site, _ = FEEDS[feed]
    items = []
    for number, (when, name, head, text) in enumerate(SCENARIO):
        published = dt.datetime.fromisoformat(when).replace(tzinfo=dt.UTC)
        if name != feed or published > upto:
            continue
        items.append(
            f"<item><title>{escape(head)}</title><link>{site}/story/{number}</link>"
            f"<guid>{feed}-{number}</guid><pubDate>{format_datetime(published, usegmt=True)}</pubDate>"
            f"<description>{escape(text)}</description></item>"
        )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{escape(title)}</title>'
        f"<link>{site}</link><description>demo</description>{''.join(reversed(items))}</channel></rss>"
    ).encode()


class _DemoServer:
    """Serves the feeds as of the current demo day and records the alerts Apprise posts."""

    def __init__(self) -> None:
        self.day = dt.datetime(2025, 10, 1, tzinfo=dt.UTC)
        self.received: list[dict[str, Any]] = []
        demo = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                name = self.path.strip("/").removesuffix(".xml")
                if name not in FEEDS:
                    self.send_error(404)
                    return
                body = _rss(name, demo.day)
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                with contextlib.suppress(ValueError):
                    demo.received.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> _DemoServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def demo_config(config: Config, port: int) -> Config:
    """The user's watchlist, with the demo feeds as sources and the local receiver as the only target."""
    sources = Sources(
        defaults=config.sources.defaults,
        official_domains=[
            *config.sources.official_domains,
            OfficialDomain(domain="notices.demo.example", party="US"),
        ],
        sources=[
            Source(name=title, url=f"http://127.0.0.1:{port}/{name}.xml", official=official, interval=3600)
            for name, (title, _, official) in FEEDS.items()
        ],
    )
    url = f"json://127.0.0.1:{port}/alerts"
    target = NotifyTarget(url, frozenset(), f"json://127.0.0.1:{port}/***", None)
    return dataclasses.replace(config, sources=sources, notify_targets=(target,))


async def _run(config_dir: Path, out: TextIO, db_path: Path) -> int:
    with _DemoServer() as server:
        config = demo_config(load_config(config_dir), server.port)
        store = Store(f"sqlite:///{db_path}")
        monitor = Monitor(config, store, clock=lambda: server.day)
        deliverer = Deliverer(store, config, console=out)
        fetcher = Fetcher(host_overrides={"127.0.0.1": (8, 0.0)})  # local feeds need no politeness gap
        try:
            days = sorted({dt.datetime.fromisoformat(w).replace(tzinfo=dt.UTC) for w, *_ in SCENARIO})
            out.write(
                f"Replaying {len(SCENARIO)} invented reports from 3 local feeds "
                f"(http://127.0.0.1:{server.port}/) through the real pipeline.\n"
            )
            for day in days:
                server.day = day + dt.timedelta(minutes=5)
                before = store.last_change_id()
                await asyncio.to_thread(store.make_all_due)
                await monitor.poll_due(fetcher)
                await asyncio.to_thread(monitor.check_deadlines, server.day)
                for when, feed, head, _ in SCENARIO:
                    if dt.datetime.fromisoformat(when).replace(tzinfo=dt.UTC) == day:
                        out.write(f"\n{day:%Y-%m-%d} {FEEDS[feed][0]}: {head}\n")
                for change in store.changes_since(before):
                    out.write(
                        f"   -> {change.commitment_id}: {change.from_status} -> {change.to_status}"
                        f" ({change.kind})\n"
                    )
                sent_before = len(server.received)
                await deliverer.deliver_due(server.day)
                for alert in server.received[sent_before:]:
                    out.write(f"   alert sent: {alert.get('title', '')}\n")
            out.write("\nFinal status:\n")
            for row in store.commitments():
                if row.status != "pending":
                    since = as_utc(row.status_since)
                    out.write(f"  {row.id:40} {row.status:12} since {since:%Y-%m-%d}\n")
            out.write(
                f"\n{len(server.received)} alerts delivered through Apprise json:// to the local receiver.\n"
            )
        finally:
            await fetcher.aclose()
            store.close()
    return 0


def run_demo(config_dir: Path, out: TextIO) -> int:
    with tempfile.TemporaryDirectory(prefix="trade-monitor-demo-") as tmp:
        return asyncio.run(_run(config_dir, out, Path(tmp) / "demo.sqlite"))
