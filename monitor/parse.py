"""Parsing: turns fetched bytes into normalised feed entries.

feedparser does the hard work (RSS/Atom dialects, broken XML, most encodings); this module adds what a
monitor needs on top of it:

- a decision whether the bytes are a feed at all (empty body, HTML page, garbage, truncated XML each
  raise a `NotAFeedError` subclass with a stable `kind`), so the daemon records a clear error;
- text that arrives intact: a UTF-8 document mislabelled as Latin-1 (a common server default) is read
  as UTF-8, and double-encoded text ("CafÃ©") is repaired, because feedparser trusts the label;
- an identity per entry (`dedup_key`) that survives what real publishers and archivers do: items
  without guid, every item sharing one guid or one link, every pubDate equal to the scrape time;
- a `content_hash` over what a reader sees, so an edited entry is updated rather than duplicated.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import html
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import feedparser

from monitor.errors import NotAFeedError

MAX_ENTRIES = 500
MAX_TEXT_CHARS = 20_000
MAX_KEY_CHARS = 500

# Elements whose content is never readable text (feedparser's sanitizer drops the same ones).
_SCRIPT = re.compile(r"<(script|style|applet|noscript|template)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
# A tag starts with a name, `/name`, `!name` (doctype, CDATA) or `?`: "a < b and c > d" is text, not a tag.
_TAGS = re.compile(r"<(?:/?[A-Za-z][^>]*|![A-Za-z\[][^>]*|\?[^>]*)>")
_SPACE = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_MOJIBAKE = re.compile(
    "[ÃÂâÅÄ][\x80-\xbf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013-\u203a\u20ac\u2122]"
)
_XML_DECL = re.compile(rb"^\s*<\?xml[^>]*encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']", re.IGNORECASE)
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.IGNORECASE)
_HTML_START = re.compile(
    rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b", re.IGNORECASE | re.DOTALL
)
_ROOT_END = re.compile(rb"</\s*(?:[\w.-]+:)?(?:rss|feed|rdf|channel)\s*>\s*$", re.IGNORECASE)
_ITEM_END = re.compile(rb"</\s*(?:[\w.-]+:)?(?:item|entry)\s*>", re.IGNORECASE)
_SINGLE_BYTE_LABELS = re.compile(
    r"^(?:us-?ascii|ascii|iso[-_]?8859[-_]?\d+|latin[-_]?\d|l\d|(?:windows|cp)[-_]?125\d)$", re.I
)
_TRACKING_PARAMS = re.compile(r"^(?:utm_\w+|fbclid|gclid|mc_cid|mc_eid|ocid|cmpid|ref_src)$", re.IGNORECASE)
_C0_AND_SPACE = "".join(map(chr, range(0x21)))
_UNSAFE_SCHEMES = frozenset({"javascript", "data", "vbscript", "file"})
_SY_PERIODS = {"hourly": 3600, "daily": 86400, "weekly": 604800, "monthly": 2592000, "yearly": 31536000}


class EmptyDocumentError(NotAFeedError):
    """The server answered with no content (or only whitespace)."""

    kind = "empty"


class HtmlDocumentError(NotAFeedError):
    """An HTML page (a login wall, a moved-feed notice, an error page) where a feed should be."""

    kind = "html"


class TruncatedFeedError(NotAFeedError):
    """The document ends before its first entry is complete: a cut connection or a broken writer."""

    kind = "truncated"


def error_kind(exc: NotAFeedError) -> str:
    """The stable kind to record for a parse failure (`not_a_feed` for a plain `NotAFeedError`)."""
    return str(getattr(exc, "kind", "not_a_feed"))


@dataclass(frozen=True)
class FeedEntry:
    """One item of a feed, with text stripped of markup and a stable deduplication key.

    `story_key` groups the same story across feeds (normalised title) for corroboration; it is not an
    identity within one feed.
    """

    guid: str
    link: str
    title: str
    summary: str
    published: dt.datetime | None
    content_hash: str
    dedup_key: str
    updated: dt.datetime | None = None
    story_key: str = ""


@dataclass(frozen=True)
class ParsedFeed:
    """A parsed document. `bozo` feeds (recoverable XML problems) are still read; `truncated` feeds keep
    only their complete entries. `ttl_seconds` is RSS `<ttl>` or the syndication module's update period."""

    title: str
    link: str
    entries: list[FeedEntry] = field(default_factory=list)
    bozo: bool = False
    bozo_message: str = ""
    ttl_seconds: float | None = None
    version: str = ""
    encoding: str = ""
    truncated: bool = False
    dropped_entries: int = 0  # beyond MAX_ENTRIES, duplicates within the document, or empty items


def repair_mojibake(text: str) -> str:
    """Undo UTF-8 text that was decoded as Windows-1252/Latin-1 somewhere upstream ("CafÃ©" -> "Café").

    Only applied when the round trip is lossless and strictly valid UTF-8, which random Latin-1 text
    practically never is, so correct text is left alone.
    """
    if not _MOJIBAKE.search(text):
        return text
    for codec in ("cp1252", "latin-1"):
        try:
            fixed = text.encode(codec).decode("utf-8")
        except UnicodeError:
            continue
        return fixed
    return text


def plain_text(value: str, *, markup: bool = True) -> str:
    """What a reader would see: markup and entities removed (when `markup`), whitespace folded."""
    text = value or ""
    if markup:
        if "<" in text:
            text = _TAGS.sub(" ", _SCRIPT.sub(" ", _COMMENT.sub(" ", text)))
        if "&" in text:
            text = html.unescape(text)
    text = repair_mojibake(_CONTROL.sub("", text))
    return _SPACE.sub(" ", text).strip()[:MAX_TEXT_CHARS]


def canonical_url(url: str) -> str:
    """A link reduced to what identifies the page: lower-case scheme and host, no default port, no
    fragment, no tracking parameters. Used for keys only; the stored link stays as published."""
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return url.strip()
    if port and not ((parts.scheme == "http" and port == 80) or (parts.scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    query = parts.query
    if query:
        query = urlencode(
            [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if not _TRACKING_PARAMS.match(k)]
        )
    return urlunsplit((parts.scheme.lower(), host, parts.path or "/", query, ""))


def content_hash(title: str, summary: str) -> str:
    """Hash of what a reader sees; a change means the publisher edited the entry."""
    return hashlib.sha256(f"{title}\n{summary}".encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _key(prefix: str, value: str) -> str:
    key = prefix + value
    if len(key) > MAX_KEY_CHARS:  # hashing, not truncating: two long URLs sharing a prefix must not collide
        key = prefix + "sha256:" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
    return key


def story_key(title: str) -> str:
    """The same story under two feeds' titles ("Headline - Reuters", "Headline | SCMP") maps to one key."""
    base = re.split(r"\s[-|–—]\s(?=[^-|–—]{1,40}$)", title)[0] if title else ""
    words = re.findall(r"\w+", base.lower())
    return hashlib.sha1(" ".join(words).encode()).hexdigest()[:20] if words else ""


def _timestamp(entry: Mapping[str, Any], keys: tuple[str, ...]) -> dt.datetime | None:
    for key in keys:
        # dict.get, not entry.get: FeedParserDict maps a missing updated_parsed to published_parsed with
        # a deprecation warning; we ask for each key in our own order of preference instead.
        value = dict.get(entry, key) if isinstance(entry, dict) else entry.get(key)
        if value:
            try:
                return dt.datetime.fromtimestamp(calendar.timegm(value), tz=dt.UTC)
            except (OverflowError, ValueError, TypeError, OSError):
                continue
    return None


def _text(raw: Mapping[str, Any], key: str) -> str:
    value = raw.get(key)
    if not value:
        return ""
    detail = raw.get(f"{key}_detail") or {}
    is_plain = isinstance(detail, Mapping) and detail.get("type") == "text/plain"
    return plain_text(str(value), markup=not is_plain)


def _summary(raw: Mapping[str, Any]) -> str:
    summary = _text(raw, "summary")
    if summary:
        return summary
    for content in raw.get("content") or ():
        if isinstance(content, Mapping) and content.get("value"):
            return plain_text(str(content["value"]), markup=content.get("type") != "text/plain")
    return ""


def _safe_link(value: object) -> str:
    """A link as a browser would read it (the URL standard drops tabs and newlines anywhere, and controls
    and spaces at the ends), refused when that reading has a script or local scheme: ``java\tscript:``
    is ``javascript:`` to a browser."""
    link = _CONTROL.sub("", re.sub(r"[\t\n\r]", "", str(value or ""))).strip(_C0_AND_SPACE)
    scheme = link.split(":", 1)[0].lower() if ":" in link else ""
    return "" if scheme in _UNSAFE_SCHEMES else link


def _link(raw: Mapping[str, Any]) -> str:
    link = _safe_link(raw.get("link"))
    if link:
        return link
    for candidate in raw.get("links") or ():
        if isinstance(candidate, Mapping) and candidate.get("rel", "alternate") == "alternate":
            link = _safe_link(candidate.get("href"))
            if link:
                return link
    return ""


def _absolute(link: str, base: str) -> str:
    """A relative link resolved against the document's URL (absolute links are left as they are)."""
    if not link or not base or _SCHEME.match(link):
        return link
    try:
        return _safe_link(urljoin(base, link))
    except ValueError:
        return link


def normalise_entry(raw: Mapping[str, Any], base: str = "") -> FeedEntry:
    """One feedparser entry as a `FeedEntry`; its key is id, else canonical link, else content hash."""
    title = _text(raw, "title")
    summary = _summary(raw)
    link = _absolute(_link(raw), base)
    guid = _CONTROL.sub("", str(raw.get("id", "") or "")).strip()
    digest = content_hash(title, summary)
    if guid:
        key = _key("id:", guid)
    elif link:
        key = _key("link:", canonical_url(link))
    else:
        key = "hash:" + digest
    return FeedEntry(
        guid=guid,
        link=link,
        title=title,
        summary=summary,
        published=_timestamp(raw, ("published_parsed", "updated_parsed", "created_parsed")),
        content_hash=digest,
        dedup_key=key,
        updated=_timestamp(raw, ("updated_parsed",)),
        story_key=story_key(title),
    )


def _disambiguate(entries: list[FeedEntry]) -> tuple[list[FeedEntry], int]:
    """Fix keys that one document gives to several different items, then drop exact repeats.

    Publishers do give every item the same guid (the feed URL) or the same link (the home page). Such a
    key would merge distinct stories into one, so those entries fall back to the next key in order (link,
    then content hash). Items repeated verbatim in one document are dropped.
    """
    distinct: dict[str, set[str]] = {}
    for entry in entries:
        distinct.setdefault(entry.dedup_key, set()).add(entry.content_hash)
    if all(len(hashes) == 1 for hashes in distinct.values()):
        result = list({e.dedup_key: e for e in reversed(entries)}.values())[::-1]
        return result, len(entries) - len(result)
    link_hashes: dict[str, set[str]] = {}
    for entry in entries:
        if entry.link:
            link_hashes.setdefault(canonical_url(entry.link), set()).add(entry.content_hash)
    fixed: list[FeedEntry] = []
    for entry in entries:
        if len(distinct[entry.dedup_key]) > 1:
            canon = canonical_url(entry.link) if entry.link else ""
            if canon and not entry.dedup_key.startswith("link:") and len(link_hashes.get(canon, ())) == 1:
                key = _key("link:", canon)
            else:
                key = "hash:" + entry.content_hash
            entry = FeedEntry(**{**entry.__dict__, "dedup_key": key})
        fixed.append(entry)
    seen: set[str] = set()
    result = []
    for entry in fixed:
        if entry.dedup_key not in seen:
            seen.add(entry.dedup_key)
            result.append(entry)
    return result, len(entries) - len(result)


def _fix_mislabelled_utf8(body: bytes, headers: dict[str, str]) -> None:
    """Read UTF-8 bytes as UTF-8 when they are labelled as a single-byte charset.

    Servers and CMSs often label UTF-8 as ISO-8859-1 (or send text/xml, which means US-ASCII by default);
    feedparser trusts the label and turns "Café" into "CafÃ©". Bytes that are non-ASCII yet strictly valid
    UTF-8 are practically never real Latin-1 text, so the label is overridden (in the headers we pass).
    """
    if body.isascii() or body.startswith((b"\xff\xfe", b"\xfe\xff")):
        return
    content_type = headers.get("content-type", "")
    header_charset = _CHARSET.search(content_type)
    declared = _XML_DECL.match(body[:512])
    labels = [header_charset.group(1)] if header_charset else []
    if declared:
        labels.append(declared.group(1).decode("ascii", "replace"))
    if not labels or not any(_SINGLE_BYTE_LABELS.match(label) for label in labels):
        return
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return
    media = content_type.split(";", 1)[0].strip() or "application/xml"
    headers["content-type"] = f"{media}; charset=utf-8"


def _ttl_seconds(channel: Mapping[str, Any]) -> float | None:
    try:
        ttl = float(channel.get("ttl") or 0) * 60
    except (TypeError, ValueError):
        ttl = 0.0
    if ttl > 0:
        return ttl
    period = str(channel.get("sy_updateperiod") or "").strip().lower()
    if period in _SY_PERIODS:
        try:
            frequency = max(1.0, float(channel.get("sy_updatefrequency") or 1))
        except (TypeError, ValueError):
            frequency = 1.0
        return _SY_PERIODS[period] / frequency
    return None


def _looks_truncated(body: bytes) -> bool:
    tail = body[-256:].rstrip(b"\x00 \t\r\n")
    return not _ROOT_END.search(tail)


def _feedparser(body: bytes, response_headers: dict[str, str]) -> Any:
    # No sanitizing or URI rewriting inside HTML: every text is reduced to plain text below, so that
    # work (a third of feedparser's time on typical feeds) buys nothing. Links of entries are
    # resolved against the document URL here, which is cheaper than feedparser resolving all URIs.
    return feedparser.parse(
        io.BytesIO(body),
        response_headers=response_headers,
        sanitize_html=False,
        resolve_relative_uris=False,
    )


_CHAR_REFERENCE = re.compile(rb"&#(?:[xX]([0-9a-fA-F]{1,16})|([0-9]{1,20}));")


def _replace_impossible_references(body: bytes) -> bytes:
    """Numeric character references to code points that cannot exist become U+FFFD references."""

    def fix(match: re.Match[bytes]) -> bytes:
        hex_digits, decimal = match.groups()
        code = int(hex_digits, 16) if hex_digits else int(decimal)
        impossible = code > 0x10FFFF or 0xD800 <= code <= 0xDFFF or code == 0
        return b"&#xFFFD;" if impossible else match.group(0)

    return _CHAR_REFERENCE.sub(fix, body)


def parse_feed(body: bytes, headers: Mapping[str, str] | None = None, url: str | None = None) -> ParsedFeed:
    """Parse a feed document. A bozo feed is still read; a document with no feed in it raises a
    `NotAFeedError` (see `error_kind`). Entries are capped at `MAX_ENTRIES`."""
    if not body or not body.strip(b" \t\r\n\x00\xef\xbb\xbf"):
        raise EmptyDocumentError("empty document")
    response_headers = {str(k).lower(): str(v) for k, v in (headers or {}).items()}
    for name in ("content-encoding", "content-length", "transfer-encoding"):
        response_headers.pop(name, None)  # the body is already decoded
    _fix_mislabelled_utf8(body, response_headers)
    try:
        parsed = _feedparser(body, response_headers)
    except (UnicodeError, ValueError, OverflowError):
        # One character reference that no string can hold (a lone surrogate, past U+10FFFF) makes
        # feedparser raise for the whole document; replace just those and read every other item.
        try:
            parsed = _feedparser(_replace_impossible_references(body), response_headers)
        except Exception as exc:
            raise NotAFeedError(f"parser failed: {type(exc).__name__}: {exc}"[:300]) from exc
    except Exception as exc:  # feedparser is not meant to raise; if it does, it is this document's fault
        raise NotAFeedError(f"parser failed: {type(exc).__name__}: {exc}"[:300]) from exc
    version = parsed.get("version") or ""
    raw_entries = parsed.get("entries") or []
    if not version and not raw_entries:
        if _HTML_START.match(body[:2048]) or b"<html" in body[:2048].lower():
            raise HtmlDocumentError("an HTML page, not an RSS or Atom feed")
        reason = parsed.get("bozo_exception")
        raise NotAFeedError(f"not an RSS or Atom feed{f': {reason}' if reason else ''}"[:300])
    bozo = bool(parsed.get("bozo"))
    truncated = bozo and _looks_truncated(body)
    if truncated and raw_entries and not body.startswith((b"\xff\xfe", b"\xfe\xff")):
        complete = len(_ITEM_END.findall(body))
        if complete < len(raw_entries):
            raw_entries = raw_entries[:complete]  # the last entry was cut off mid-way: wait for all of it
            if not raw_entries:
                raise TruncatedFeedError("document ends before its first entry is complete")
    channel = parsed.get("feed") or {}
    base = url or response_headers.get("content-location") or ""
    normalised = [normalise_entry(e, base) for e in raw_entries[:MAX_ENTRIES]]
    over_cap = max(0, len(raw_entries) - MAX_ENTRIES)
    useful = [e for e in normalised if e.title or e.summary or e.link or e.guid]
    entries, duplicates = _disambiguate(useful)
    return ParsedFeed(
        title=_text(channel, "title"),
        link=_absolute(_safe_link(channel.get("link")), base),
        entries=entries,
        bozo=bozo,
        bozo_message=str(parsed.get("bozo_exception", "") or "")[:300],
        ttl_seconds=_ttl_seconds(channel),
        version=str(version),
        encoding=str(parsed.get("encoding") or ""),
        truncated=truncated,
        dropped_entries=over_cap + (len(normalised) - len(useful)) + duplicates,
    )
