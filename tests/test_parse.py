"""parse_feed on documents written for these tests: encodings, identity of entries, not-a-feed cases."""

from __future__ import annotations

import datetime as dt

import pytest

from monitor.errors import NotAFeedError
from monitor.parse import (
    MAX_ENTRIES,
    EmptyDocumentError,
    HtmlDocumentError,
    TruncatedFeedError,
    canonical_url,
    error_kind,
    parse_feed,
    plain_text,
    repair_mojibake,
)

TEXT = "Café exports – “soybeans” rise; 大豆 ÷ Zürich"


def rss_doc(items: str, *, encoding: str = "utf-8", channel: str = "") -> str:
    return (
        f'<?xml version="1.0" encoding="{encoding}"?>\n<rss version="2.0"><channel><title>T</title>'
        f"<link>https://example.org/</link>{channel}{items}</channel></rss>"
    )


def item(title: str = "A", link: str = "", guid: str = "", desc: str = "", date: str = "") -> str:
    parts = [f"<title>{title}</title>"]
    if link:
        parts.append(f"<link>{link}</link>")
    if guid:
        parts.append(f'<guid isPermaLink="false">{guid}</guid>')
    if desc:
        parts.append(f"<description>{desc}</description>")
    if date:
        parts.append(f"<pubDate>{date}</pubDate>")
    return "<item>" + "".join(parts) + "</item>"


# -- encodings -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (rss_doc(item(TEXT)).encode("utf-8"), {}),
        (b"\xef\xbb\xbf" + rss_doc(item(TEXT)).encode("utf-8"), {}),  # BOM
        (rss_doc(item(TEXT), encoding="utf-16").encode("utf-16"), {}),  # BOM-marked UTF-16
        (rss_doc(item(TEXT), encoding="iso-8859-1").encode("utf-8"), {}),  # wrong declaration
        (
            rss_doc(item(TEXT)).encode("utf-8"),
            {"Content-Type": "text/xml; charset=ISO-8859-1"},
        ),  # wrong header
        (rss_doc(item(TEXT)).encode("utf-8"), {"Content-Type": "text/xml"}),  # text/xml means us-ascii
        (rss_doc(item(TEXT), encoding="windows-1252").encode("utf-8"), {}),
        (rss_doc(item(TEXT), encoding="gb18030").encode("gb18030"), {}),  # a declared non-Latin charset
    ],
    ids=["utf8", "bom", "utf16", "decl-latin1", "header-latin1", "text-xml", "decl-cp1252", "gb18030"],
)
def test_text_arrives_intact(body: bytes, headers: dict[str, str]) -> None:
    assert parse_feed(body, headers).entries[0].title == TEXT


def test_real_latin1_and_cp1252_stay_correct() -> None:
    latin = "Café Zürich naïve"
    assert parse_feed(rss_doc(item(latin), encoding="iso-8859-1").encode("latin-1")).entries[0].title == latin
    smart = "“Deal” — done…"
    assert (
        parse_feed(rss_doc(item(smart), encoding="windows-1252").encode("cp1252")).entries[0].title == smart
    )
    # declared UTF-8 but really Windows-1252: feedparser falls back, we keep the text
    assert parse_feed(rss_doc(item(smart)).encode("cp1252")).entries[0].title == smart


def test_double_encoded_text_is_repaired() -> None:
    double = TEXT.encode("utf-8").decode("cp1252", "ignore")  # what a double-encoding CMS produces
    assert "Ã" in double
    assert repair_mojibake("CafÃ© exports") == "Café exports"
    assert repair_mojibake("Zürich Ã©") == "Zürich Ã©"  # no lossless round trip: left alone
    title = parse_feed(rss_doc(item("CafÃ© exports â€“ soybeans")).encode()).entries[0].title
    assert title == "Café exports – soybeans"


# -- not a feed ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "exc", "kind"),
    [
        (b"", EmptyDocumentError, "empty"),
        (b"  \r\n\t ", EmptyDocumentError, "empty"),
        (
            b"<!DOCTYPE html><html><head><title>Login</title></head><body><p>Sign in</p></body></html>",
            HtmlDocumentError,
            "html",
        ),
        (b"<html><body>Moved</body></html>", HtmlDocumentError, "html"),
        (b"\x00\x01\x02garbage\xff\xfe", NotAFeedError, "not_a_feed"),
        (b'{"items": []}', NotAFeedError, "not_a_feed"),
        (rss_doc(item("Only", desc="cut here")).encode()[:-60], TruncatedFeedError, "truncated"),
    ],
    ids=["empty", "whitespace", "html-doctype", "html", "garbage", "json", "truncated-first"],
)
def test_documents_that_are_not_feeds(body: bytes, exc: type[NotAFeedError], kind: str) -> None:
    with pytest.raises(exc) as caught:
        parse_feed(body)
    assert error_kind(caught.value) == kind


def test_truncated_document_keeps_only_complete_entries() -> None:
    doc = rss_doc(
        item("One", "https://e.org/1") + item("Two", "https://e.org/2") + item("Three cut", "https://e.org/3")
    )
    cut = doc.encode()[: doc.index("Three cut") + 5]
    feed = parse_feed(cut)
    assert feed.truncated and feed.bozo
    assert [e.title for e in feed.entries] == ["One", "Two"]


def test_bozo_but_complete_feed_is_read() -> None:
    body = rss_doc(item("Fish & chips <b>bold", "https://e.org/1")).encode()  # unescaped & and open tag
    feed = parse_feed(body)
    assert feed.bozo and not feed.truncated and feed.entries


# -- identity of entries ---------------------------------------------------------------------------


def test_key_is_guid_then_link_then_hash() -> None:
    feed = parse_feed(
        rss_doc(
            item("A", "https://e.org/a", guid="g-1") + item("B", "https://e.org/b") + item("C", desc="c")
        ).encode()
    )
    keys = [e.dedup_key for e in feed.entries]
    assert keys[0] == "id:g-1" and keys[1] == "link:https://e.org/b" and keys[2].startswith("hash:")


def test_same_pubdate_and_no_guid_still_dedupes_per_item() -> None:
    date = "Sat, 21 Feb 2026 05:14:41 GMT"  # an archiver stamping the scrape time on every item
    items = "".join(item(f"Story {i}", f"https://e.org/{i}", date=date) for i in range(5))
    first = parse_feed(rss_doc(items).encode())
    later = parse_feed(rss_doc(items.replace(date, "Sun, 22 Feb 2026 09:00:00 GMT")).encode())
    assert len({e.dedup_key for e in first.entries}) == 5
    assert [e.dedup_key for e in first.entries] == [e.dedup_key for e in later.entries]


def test_one_guid_or_one_link_for_every_item_does_not_merge_stories() -> None:
    same_guid = "".join(item(f"Story {i}", f"https://e.org/{i}", guid="https://e.org/feed") for i in range(4))
    assert len({e.dedup_key for e in parse_feed(rss_doc(same_guid).encode()).entries}) == 4
    same_link = "".join(item(f"Story {i}", "https://e.org/", desc=f"text {i}") for i in range(4))
    keys = [e.dedup_key for e in parse_feed(rss_doc(same_link).encode()).entries]
    assert len(set(keys)) == 4 and all(k.startswith("hash:") for k in keys)


def test_repeated_item_is_dropped_and_edit_keeps_the_key() -> None:
    one = item("Tariff cut", "https://e.org/1", guid="x1", desc="first version")
    feed = parse_feed(rss_doc(one + one).encode())
    assert len(feed.entries) == 1 and feed.dropped_entries == 1
    edited = parse_feed(rss_doc(item("Tariff cut", "https://e.org/1", guid="x1", desc="corrected")).encode())
    assert edited.entries[0].dedup_key == feed.entries[0].dedup_key
    assert edited.entries[0].content_hash != feed.entries[0].content_hash


def test_tracking_parameters_do_not_change_the_key() -> None:
    a = parse_feed(rss_doc(item("A", "https://E.org:443/x?id=3&utm_source=rss#top")).encode()).entries[0]
    b = parse_feed(rss_doc(item("A", "https://e.org/x?id=3")).encode()).entries[0]
    assert a.dedup_key == b.dedup_key and a.link != b.link  # the stored link stays as published
    assert canonical_url("HTTP://Example.org") == "http://example.org/"


def test_long_ids_are_hashed_not_truncated() -> None:
    base = "urn:x:" + "a" * 600
    feed = parse_feed(rss_doc(item("A", guid=base + "1") + item("B", guid=base + "2")).encode())
    keys = [e.dedup_key for e in feed.entries]
    assert len(set(keys)) == 2 and all(len(k) <= 500 for k in keys)


def test_entries_are_capped() -> None:
    items = "".join(item(f"S{i}", f"https://e.org/{i}") for i in range(MAX_ENTRIES + 50))
    feed = parse_feed(rss_doc(items).encode())
    assert len(feed.entries) == MAX_ENTRIES and feed.dropped_entries == 50


def test_story_key_groups_the_same_headline_across_feeds() -> None:
    a = parse_feed(
        rss_doc(item("China resumes soybean purchases - Example Wire", "https://a.org/1")).encode()
    )
    b = parse_feed(rss_doc(item("China Resumes Soybean Purchases | Other Paper", "https://b.org/9")).encode())
    assert a.entries[0].story_key == b.entries[0].story_key != ""


# -- text, dates, links, ttl -----------------------------------------------------------------------


def test_markup_is_stripped_and_scripts_never_become_text() -> None:
    desc = (
        "&lt;p&gt;Tariff &lt;b&gt;cut&lt;/b&gt; &amp;amp; more&lt;script&gt;alert(1)&lt;/script&gt;&lt;/p&gt;"
    )
    entry = parse_feed(rss_doc(item("A &amp; B", desc=desc)).encode()).entries[0]
    assert entry.title == "A & B"
    assert entry.summary == "Tariff cut & more"
    assert plain_text("<style>p{}</style>x  <i>y</i>") == "x y"


def test_comparison_signs_are_text_not_tags() -> None:
    entry = parse_feed(
        rss_doc(item("Tariff &lt; 10% and &gt; 5%", desc="a &lt;b&gt;bold&lt;/b&gt; move")).encode()
    ).entries[0]
    assert entry.title == "Tariff < 10% and > 5%" and entry.summary == "a bold move"


def test_plain_text_atom_title_keeps_angle_brackets() -> None:
    body = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><entry><id>urn:1</id>'
        b'<title type="text">a &lt;b&gt; c</title><updated>2025-11-01T10:00:00+08:00</updated></entry></feed>'
    )
    entry = parse_feed(body).entries[0]
    assert entry.title == "a <b> c"
    assert entry.published == dt.datetime(2025, 11, 1, 2, 0, tzinfo=dt.UTC)


def test_dates_are_utc_aware() -> None:
    entry = parse_feed(rss_doc(item("A", date="Fri, 31 Oct 2025 09:30:00 +0900")).encode()).entries[0]
    assert entry.published == dt.datetime(2025, 10, 31, 0, 30, tzinfo=dt.UTC)
    assert parse_feed(rss_doc(item("B", date="not a date")).encode()).entries[0].published is None


def test_unsafe_links_are_dropped_and_relative_ones_resolved() -> None:
    feed = parse_feed(
        rss_doc(item("A", "javascript:alert(1)") + item("B", "/news/2")).encode(),
        url="https://e.org/feed.xml",
    )
    assert feed.entries[0].link == "" and feed.entries[1].link == "https://e.org/news/2"


def test_ttl_and_syndication_period() -> None:
    assert parse_feed(rss_doc(item("A"), channel="<ttl>30</ttl>").encode()).ttl_seconds == 1800
    sy = (
        b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        b'xmlns="http://purl.org/rss/1.0/" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/">'
        b'<channel rdf:about="https://e.org/"><title>t</title><link>https://e.org/</link>'
        b"<sy:updatePeriod>daily</sy:updatePeriod><sy:updateFrequency>4</sy:updateFrequency></channel>"
        b'<item rdf:about="https://e.org/1"><title>x</title><link>https://e.org/1</link></item></rdf:RDF>'
    )
    assert parse_feed(sy).ttl_seconds == 86400 / 4
    assert parse_feed(rss_doc(item("A"), channel="<ttl>soon</ttl>").encode()).ttl_seconds is None


def test_headers_with_content_encoding_do_not_confuse_the_parser() -> None:
    body = rss_doc(item(TEXT)).encode()
    headers = {"Content-Encoding": "gzip", "Content-Length": "3", "Content-Type": "application/rss+xml"}
    assert parse_feed(body, headers).entries[0].title == TEXT
