"""Shared pieces for the operations tests (web, observability, reload, export, watchlist CLI).

A small config folder of our own (so edits to the shipped config do not move these tests), invented
reports that the evidence engine recognises, and helpers to wait for an event and to read a metric.
Every server involved listens on 127.0.0.1 and is started by the test.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

WATCHLIST = """\
# Test watchlist: this comment must survive CLI edits.
version: 1
policy:
  min_independent_publishers: 2
commitments:
  # The fentanyl tariff cut (keep this comment).
  - id: us-fentanyl-tariff-cut
    title: US cuts the fentanyl tariff on Chinese goods from 20% to 10%
    party: US
    category: tariff
    announced: 2025-11-01
    due: 2030-12-31
    terms:
      aliases: [fentanyl tariff]
      require:
        - [China, Chinese]
        - [tariff, tariffs]

  - id: us-port-fees-suspension
    title: US suspends port fees on China-linked ships for one year
    party: US
    category: shipping
    announced: 2025-11-01
    ends: 2030-11-09
    terms:
      aliases: [port fees]
      require:
        - [ship, ships, vessels]
"""

# Appended by the reload tests: a commitment whose report is already stored when it is added.
BEEF = """
  - id: cn-beef-imports
    title: China resumes imports of US beef
    party: China
    category: purchase
    announced: 2025-11-01
    terms:
      aliases: [US beef, American beef]
      require:
        - [buy, bought, purchases, imports, resumed, resumes]
"""

SOURCES = """\
version: 1
sources:
  - name: Local wire
    url: {feed_url}
    official: true
"""

FENTANYL_ITEM = (
    "US fentanyl tariff on Chinese goods cut to 10%, White House says",
    "The cut in the fentanyl tariff on Chinese goods to 10% took effect on Monday, the White House said.",
    "https://example.org/news/fentanyl-tariff-cut",
    "Mon, 10 Nov 2025 12:00:00 GMT",
)
BEEF_ITEM = (
    "China resumes purchases of US beef",
    "China bought 5,000 tons of US beef this week, resuming beef imports, traders said.",
    "https://example.org/news/china-beef",
    "Wed, 12 Nov 2025 12:00:00 GMT",
)


def rss(*items: tuple[str, str, str, str]) -> bytes:
    body = "".join(
        f"<item><title>{t}</title><link>{link}</link><guid>{link}</guid>"
        f"<description>{d}</description><pubDate>{when}</pubDate></item>"
        for t, d, link, when in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Local wire</title>'
        f"<link>https://example.org/</link>{body}</channel></rss>"
    ).encode()


def write_config(folder: Path, feed_url: str, notify_urls: list[str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "watchlist.yaml").write_text(WATCHLIST, encoding="utf-8")
    (folder / "sources.yaml").write_text(SOURCES.format(feed_url=feed_url), encoding="utf-8")
    urls = "".join(f"  - {u}\n" for u in notify_urls or [])
    (folder / "notify.yaml").write_text(f"version: 1\nurls:\n{urls}" if urls else "version: 1\nurls: []\n")
    return folder


def save_like_an_editor(path: Path, text: str) -> None:
    """Write a sibling file and rename it over the target, as vim and most editors do."""
    tmp = path.with_name(f".{path.name}.swp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


async def wait_until(predicate: Callable[[], object], what: str, timeout: float = 30.0) -> None:
    """Wait for an event (not a duration): fails only if it never happens within a generous bound."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def get(url: str, method: str = "GET") -> httpx.Response:
    async with httpx.AsyncClient(trust_env=False, timeout=10) as client:
        return await client.request(method, url)


def metric(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in Prometheus text output; None when absent."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return None


def metric_sum(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += float(sample.value)
    return total


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()
