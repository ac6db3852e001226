"""Every document of feedparser's own test suite through our parse + normalise path.

Two claims: no exception other than `NotAFeedError` escapes `parse_feed` on any of ~2,100 odd documents
(ill-formed XML, odd encodings, entities, HTTP header tricks), and where a document's `Expect:` header
states the first entry's title, link or id, our normalised entry agrees once the expected value gets the
same normalisation (markup stripped, whitespace folded). The corpus is not ours to ship, so the test
skips with a reason when `../shared/corpus` is absent (a user's fresh clone).
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from monitor.errors import NotAFeedError
from monitor.parse import error_kind, parse_feed, plain_text

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
TESTS = CORPUS / "feedparser-tests" / "tests"
BASE = "http://127.0.0.1:8097/"  # where feedparser's own harness serves these files; expectations use it

pytestmark = [
    pytest.mark.corpus,
    pytest.mark.skipif(not TESTS.is_dir(), reason=f"feedparser test corpus not found at {TESTS}"),
]

_HEADER = re.compile(rb"<!--(.*?)-->", re.DOTALL)
_FIELD_MAP = {"title": "title", "link": "link", "id": "guid", "summary": "summary", "description": "summary"}
_SPACE = re.compile(r"\s+")


def _meta(body: bytes) -> dict[str, list[str]]:
    """The `Key: value` lines of the opening comment (Description, Expect, Header, SkipUnless)."""
    match = _HEADER.search(body[:4096])
    if not match:
        return {}
    meta: dict[str, list[str]] = {}
    for line in match.group(1).decode("utf-8", "replace").splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() in ("Description", "Expect", "Header", "SkipUnless"):
            meta.setdefault(key.strip(), []).append(value.strip())
    return meta


def _constant(node: ast.AST) -> Any:
    """A literal, or literals joined with `+` (the corpus splits `--` that way inside comments)."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _constant(node.left) + _constant(node.right)
    return ast.literal_eval(node)


def expectations(expect: str) -> list[tuple[str, str]]:
    """(field, expected value) for each `entries[0]['title'|'link'|'id'] == <literal>` in an Expect."""
    try:
        tree = ast.parse(expect, mode="eval")
    except SyntaxError:
        return []
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.Eq)):
            continue
        left = node.left
        if (  # entries[0]['title_detail']['value'] is the title too
            isinstance(left, ast.Subscript)
            and isinstance(left.slice, ast.Constant)
            and left.slice.value == "value"
            and isinstance(left.value, ast.Subscript)
            and isinstance(left.value.slice, ast.Constant)
            and left.value.slice.value in ("title_detail", "summary_detail")
        ):
            left = ast.Subscript(value=left.value.value, slice=ast.Constant(left.value.slice.value[:-7]))
        if not (
            isinstance(left, ast.Subscript)
            and isinstance(left.slice, ast.Constant)
            and left.slice.value in _FIELD_MAP
            and isinstance(left.value, ast.Subscript)
            and isinstance(left.value.value, ast.Name)
            and left.value.value.id == "entries"
            and isinstance(left.value.slice, ast.Constant)
            and left.value.slice.value == 0
        ):
            continue
        try:
            value = _constant(node.comparators[0])
        except (ValueError, TypeError, SyntaxError):
            continue
        if isinstance(value, str):
            found.append((str(left.slice.value), value))
    return found


def _agrees(field: str, expected: str, actual: str) -> bool:
    if field in (
        "title",
        "summary",
        "description",
    ):  # our text is plain; the expectation may be HTML or plain text
        return actual in (plain_text(expected), _SPACE.sub(" ", expected).strip())
    return actual == expected.strip()


def _skip_unless(conditions: list[str]) -> bool:
    for condition in conditions:
        try:
            if not eval(condition):  # corpus metadata, e.g. __import__('codecs').lookup('big5')
                return True
        except Exception:
            return True
    return False


def test_every_document_parses_and_first_entries_agree() -> None:
    files = sorted(TESTS.rglob("*.xml"))
    assert len(files) > 2000, f"expected about 2,100 documents, found {len(files)}"
    counts: Counter[str] = Counter()
    disagreements: list[str] = []
    not_feeds: list[str] = []
    for path in files:
        body = path.read_bytes()
        meta = _meta(body)
        headers = {}
        for line in meta.get("Header", []):
            name, _, value = line.partition(":")
            headers[name.strip()] = value.strip()
        rel = path.relative_to(TESTS.parent).as_posix()
        # feedparser's harness serves only the HTTP-header documents (and those expecting its address)
        # over HTTP; the rest it parses as files, without a base URL to resolve against
        served = bool(headers) or any("8097" in e for e in meta.get("Expect", []))
        try:
            feed = parse_feed(body, headers, BASE + rel if served else None)
        except NotAFeedError as exc:
            counts[f"not a feed ({error_kind(exc)})"] += 1
            not_feeds.append(f"{rel}: {exc}")
            feed = None
        else:
            counts["parsed"] += 1
        if _skip_unless(meta.get("SkipUnless", [])):
            counts["skipped (SkipUnless)"] += 1
            continue
        for expect in meta.get("Expect", []):
            for field, expected in expectations(expect):
                if (
                    (feed is None or not feed.entries)
                    and field != "link"
                    and field != "id"
                    and not plain_text(expected)
                ):
                    counts[f"agree {field} (nothing readable: entry dropped)"] += 1
                    continue
                if feed is None or not feed.entries:
                    counts["no entry to compare"] += 1
                    disagreements.append(f"{rel}: {field}: no entry (expected {expected!r})")
                    continue
                actual = getattr(feed.entries[0], _FIELD_MAP[field])
                if _agrees(field, expected, actual):
                    counts[f"agree {field}"] += 1
                else:
                    counts[f"disagree {field}"] += 1
                    disagreements.append(f"{rel}: {field}: expected {expected!r}, got {actual!r}")
    agree = sum(v for k, v in counts.items() if k.startswith("agree"))
    compared = (
        agree + sum(v for k, v in counts.items() if k.startswith("disagree")) + counts["no entry to compare"]
    )
    print(
        f"\nfeedparser corpus: {len(files)} documents; "
        + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
    )
    dropped = sum(v for k, v in counts.items() if k.endswith("entry dropped)"))
    print(
        f"first-entry expectations: {agree}/{compared} agree "
        f"({agree - dropped}/{compared - dropped} comparing text; {dropped} expected nothing readable)"
    )
    for line in not_feeds + disagreements[:40]:
        print("  " + line)
    assert compared > 100, "the Expect headers should yield well over a hundred comparisons"
    assert agree / compared >= 0.95, f"only {agree}/{compared} agree"
    assert (agree - dropped) / (compared - dropped) >= 0.95
    assert counts["parsed"] > 0.9 * len(files)


def test_archiver_feeds_dedupe_even_without_guids_or_distinct_dates() -> None:
    """The real archiver captures: every item keeps its own key, and a second capture adds nothing new."""
    feeds = sorted((CORPUS / "feeds").glob("*.xml"))
    if not feeds:
        pytest.skip("no archiver feeds in corpus/feeds")
    for path in feeds:
        body = path.read_bytes()
        first = parse_feed(body, {}, "https://example.org/feed")
        keys = [e.dedup_key for e in first.entries]
        assert len(keys) == len(set(keys)) > 0, path.name
        raw_items = len(re.findall(rb"<item[\s>]", body))
        assert len(first.entries) == raw_items, f"{path.name}: distinct items must not be merged"
        # the same capture with every pubDate moved (archivers stamp the scrape time) keeps every key
        moved = re.sub(
            rb"<pubDate>[^<]*</pubDate>", b"<pubDate>Tue, 02 Jun 2026 08:00:00 GMT</pubDate>", body
        )
        again = parse_feed(moved, {}, "https://example.org/feed")
        assert [e.dedup_key for e in again.entries] == keys
        assert [e.content_hash for e in again.entries] == [e.content_hash for e in first.entries]
