"""Reads items of the third-party corpus (../shared/corpus) as engine `Report`s, by file and key.

The corpus is other people's text, so the project stores only where an item lives (its file, relative to
the corpus root, and a key unambiguous inside that file) and reads the text at test time. One loader per
format, each yielding `CorpusItem`s in file order:

- ``feeds/*.xml``: RSS parsed by `monitor.parse.parse_feed`, exactly as the daemon would see it; key is
  the guid, else the link (these archives have items without guid).
- ``feeds/rumca_rss_link_db/**/*.json``: an archiver's JSON, either ``{"entries": [...]}`` or a bare
  list; key is the link (unique per file; checked by `load_items`).
- ``articles/**/*.csv``: search-result rows (title, source, url, published) with no summary; key is the
  url.
- ``articles/**/*fulltext*.md``: numbered sections ``## N. Title`` with metadata lines and a full body;
  key is the section number because the same wire story (and url) appears several times. The body is
  the summary, as the daemon does for feeds that carry only full content.
"""

from __future__ import annotations

import csv
import datetime as dt
import email.utils
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor.evidence import Report
from monitor.parse import parse_feed, plain_text

__all__ = ["CorpusItem", "iter_items", "load_items"]


@dataclass(frozen=True)
class CorpusItem:
    """One real report and where it lives: `file` (relative to the corpus root) and `key`."""

    file: str
    key: str
    title: str
    summary: str
    published: dt.datetime | None
    link: str = ""
    source: str = ""

    def report(self) -> Report:
        """The item as the engine sees it; its id is ``file#key`` so explanations name it."""
        return Report(
            f"{self.file}#{self.key}", self.title, self.summary, self.published, self.link, self.source
        )


def _when(value: object) -> dt.datetime | None:
    """ISO 8601 or RFC 822 timestamps, as UTC; None when absent or unreadable."""
    text = str(value or "").strip()
    if not text:
        return None
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
    return when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)


def _xml_items(root: Path, path: Path) -> Iterator[CorpusItem]:
    rel = path.relative_to(root).as_posix()
    parsed = parse_feed(path.read_bytes())
    for entry in parsed.entries:
        yield CorpusItem(
            rel,
            entry.guid or entry.link,
            entry.title,
            entry.summary,
            entry.published,
            entry.link,
            parsed.title,
        )


def _json_items(root: Path, path: Path) -> Iterator[CorpusItem]:
    rel = path.relative_to(root).as_posix()
    doc: Any = json.loads(path.read_text(encoding="utf-8"))
    entries = doc.get("entries", []) if isinstance(doc, dict) else doc
    for raw in entries:
        link = str(raw.get("link") or "")
        yield CorpusItem(
            rel,
            link,
            plain_text(str(raw.get("title") or "")),
            plain_text(str(raw.get("description") or "")),
            _when(raw.get("date_published")),
            link,
            str(raw.get("source_url") or ""),
        )


def _csv_items(root: Path, path: Path) -> Iterator[CorpusItem]:
    rel = path.relative_to(root).as_posix()
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            url = row.get("url") or ""
            yield CorpusItem(
                rel,
                url,
                row.get("title") or "",
                "",
                _when(row.get("published")),
                url,
                row.get("source") or "",
            )


_SECTION = re.compile(r"^## (\d+)\. (.*)$", re.M)
_META = re.compile(r"^\*\*(Source|Published|URL):\*\*\s*(.*?)\s*$", re.M)
_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")


def _md_items(root: Path, path: Path) -> Iterator[CorpusItem]:
    rel = path.relative_to(root).as_posix()
    text = path.read_text(encoding="utf-8")
    heads = list(_SECTION.finditer(text))
    for i, head in enumerate(heads):
        block = text[head.end() : heads[i + 1].start() if i + 1 < len(heads) else len(text)]
        meta = {m.group(1): m.group(2) for m in _META.finditer(block)}
        body = block.split("**Full Text:**", 1)[1] if "**Full Text:**" in block else ""
        url = _MD_LINK.sub(r"\1", meta.get("URL", ""))
        yield CorpusItem(
            rel,
            head.group(1),
            head.group(2).strip(),
            plain_text(body.replace("---", " ")),
            _when(meta.get("Published")),
            url,
            meta.get("Source", ""),
        )


def iter_items(root: Path) -> Iterator[CorpusItem]:
    """Every news item of the corpus in the formats above (not feedparser's tests, not Reuters-1987)."""
    for path in sorted((root / "feeds").glob("*.xml")):
        yield from _xml_items(root, path)
    for path in sorted((root / "feeds").rglob("*.json")):
        yield from _json_items(root, path)
    for path in sorted((root / "articles").rglob("*.csv")):
        yield from _csv_items(root, path)
    for path in sorted((root / "articles").rglob("*fulltext*.md")):
        yield from _md_items(root, path)


def load_items(root: Path) -> dict[tuple[str, str], CorpusItem]:
    """All items by (file, key); the first of two items sharing a key wins (keys must be unambiguous)."""
    items: dict[tuple[str, str], CorpusItem] = {}
    for item in iter_items(root):
        items.setdefault((item.file, item.key), item)
    return items
