"""Property tests: random, generated and mutated documents through `parse_feed`.

Whatever the bytes, `parse_feed` either returns a feed whose entries satisfy the invariants the store
relies on (unique, bounded keys; aware dates; no control characters in text) or raises `NotAFeedError`.
Generated feeds also round-trip their text exactly, in several encodings.
"""

from __future__ import annotations

import os
import re
from xml.sax.saxutils import escape

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from monitor.errors import NotAFeedError
from monitor.parse import MAX_KEY_CHARS, ParsedFeed, parse_feed

# PROPERTY_EXAMPLES=5000 for a deeper local run
SETTINGS = settings(
    max_examples=int(os.environ.get("PROPERTY_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    # In CI the examples are fixed, so a landing never depends on luck; locally each run explores anew.
    derandomize=bool(os.environ.get("CI")),
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# text a publisher might write; markup characters and mojibake lead bytes are covered by other tests
_ALPHABET = st.characters(
    blacklist_categories=("Cs", "Cc", "Co", "Cn"),
    blacklist_characters="<>&ÃÂâÅÄ\ufffe\uffff\u2028\u2029\x85",
)


def _reads_as_mojibake(text: str) -> bool:
    """Text that is exactly UTF-8 read as Latin-1/cp1252 ("Ã©") is repaired by design, by feedparser
    (in UTF-8 documents) and by us, so it cannot round-trip; such strings are left out of round trips."""
    for codec in ("latin-1", "cp1252"):
        try:
            if text.encode(codec).decode("utf-8") != text:
                return True
        except UnicodeError:
            continue
    return False


words = st.text(_ALPHABET, min_size=1, max_size=40).filter(
    lambda s: s.strip() != "" and not _reads_as_mojibake(s)
)


def check_invariants(feed: ParsedFeed) -> None:
    keys = [e.dedup_key for e in feed.entries]
    assert len(keys) == len(set(keys)), "keys must be unique within a document"
    for entry in feed.entries:
        assert entry.dedup_key and len(entry.dedup_key) <= MAX_KEY_CHARS + 80
        assert entry.dedup_key.split(":", 1)[0] in ("id", "link", "hash")
        assert entry.published is None or entry.published.tzinfo is not None
        assert not _CONTROL.search(entry.title + entry.summary)
        assert entry.title == entry.title.strip()
        assert len(entry.content_hash) == 32


def parse_or_reject(body: bytes, headers: dict[str, str] | None = None) -> ParsedFeed | None:
    try:
        feed = parse_feed(body, headers)
    except NotAFeedError:
        return None
    check_invariants(feed)
    return feed


@st.composite
def feeds(draw: st.DrawFn) -> tuple[str, list[tuple[str, str | None, str | None]]]:
    """An RSS document with items that may lack guid/link, share them, or repeat dates."""
    n = draw(st.integers(0, 8))
    shared_guid = draw(st.booleans())
    items = []
    xml = []
    for i in range(n):
        title = draw(words)
        guid = draw(st.sampled_from([None, f"urn:g:{i}", "urn:shared"])) if not shared_guid else "urn:shared"
        link = draw(st.sampled_from([None, f"https://example.org/{i}", "https://example.org/"]))
        date = draw(
            st.sampled_from(["", "<pubDate>Sat, 01 Nov 2025 10:00:00 GMT</pubDate>", "<pubDate>x</pubDate>"])
        )
        items.append((title, guid, link))
        parts = [f"<title>{escape(title)}</title>", date]
        if guid:
            parts.append(f'<guid isPermaLink="false">{guid}</guid>')
        if link:
            parts.append(f"<link>{link}</link>")
        parts.append(f"<description>{escape(title)} body {i}</description>")
        xml.append("<item>" + "".join(parts) + "</item>")
    doc = f'<rss version="2.0"><channel><title>Generated</title><link>https://example.org/</link>{"".join(xml)}</channel></rss>'
    return doc, items


@SETTINGS
@given(st.binary(max_size=2000))
def test_random_bytes_never_crash(body: bytes) -> None:
    parse_or_reject(body)


@SETTINGS
@given(feeds(), st.sampled_from(["utf-8", "utf-16", "iso-8859-1", "windows-1252", "gb18030"]))
def test_generated_feeds_round_trip_text_and_keep_every_item(
    generated: tuple[str, list[tuple[str, str | None, str | None]]], encoding: str
) -> None:
    doc, items = generated
    raw = f'<?xml version="1.0" encoding="{encoding}"?>{doc}'
    try:
        body = raw.encode(encoding)
    except UnicodeEncodeError:
        body = raw.replace(f'encoding="{encoding}"', 'encoding="utf-8"').encode("utf-8")
    if encoding in ("iso-8859-1", "windows-1252") and not body.isascii():
        # parse.py deliberately reads single-byte-labelled bodies that are valid UTF-8 as UTF-8 (servers
        # mislabel UTF-8 far more often than real Latin-1 text forms valid UTF-8, e.g. "Æ¡"); such
        # generated documents are outside what the round trip can promise.
        try:
            body.decode("utf-8")
            assume(False)
        except UnicodeDecodeError:
            pass
    feed = parse_or_reject(body)
    assert feed is not None
    expected = [" ".join(title.split()) for title, _, _ in items]
    # every item differs in content, so none may be merged, even when they share a guid or a link
    assert [e.title for e in feed.entries] == expected
    again = parse_or_reject(body)
    assert again is not None and [e.dedup_key for e in again.entries] == [e.dedup_key for e in feed.entries]


@st.composite
def mutations(draw: st.DrawFn) -> bytes:
    doc, _ = draw(feeds())
    body = bytearray(doc.encode("utf-8"))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["truncate", "flip", "insert", "delete", "relabel"]))
        if not body:
            break
        pos = draw(st.integers(0, len(body) - 1))
        if kind == "truncate":
            del body[pos:]
        elif kind == "flip":
            body[pos] = draw(st.integers(0, 255))
        elif kind == "insert":
            body[pos:pos] = draw(st.binary(min_size=1, max_size=20))
        elif kind == "delete":
            del body[pos : pos + draw(st.integers(1, 30))]
        else:
            label = draw(st.sampled_from(["iso-8859-1", "utf-16", "ebcdic", "bogus", "shift_jis"]))
            body[0:0] = f'<?xml version="1.0" encoding="{label}"?>'.encode()
    return bytes(body)


@SETTINGS
@given(
    mutations(),
    st.sampled_from([{}, {"Content-Type": "text/html"}, {"Content-Type": "text/xml; charset=bogus"}]),
)
def test_mutated_feeds_are_read_or_rejected_never_crash(body: bytes, headers: dict[str, str]) -> None:
    parse_or_reject(body, headers)
