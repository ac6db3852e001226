"""Fetching against a local server (127.0.0.1 only): each test breaks if its politeness or robustness
feature breaks. Speed is never asserted here (that is bench/ingest.py's job); where time matters, the
assertions are lower bounds that a slow machine can only satisfy more easily."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import random
import socket
import ssl
from collections.abc import AsyncIterator, Iterator
from email.utils import format_datetime

import httpx
import pytest

from monitor.fetch import (
    Fetcher,
    FetchResult,
    FetchState,
    _Decoder,
    _Failure,
    cache_lifetime,
    parse_retry_after,
    plan_next_poll,
)
from monitor.parse import parse_feed
from tests.feedserver import FeedServer, Route, gzip_bomb, rss

RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as srv:
        yield srv


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    f = Fetcher(min_host_interval=0, per_host_limit=4, connect_timeout=2, read_timeout=5, deadline=10)
    yield f
    await f.aclose()


# -- conditional GET, validators, body hash ------------------------------------------------------------


async def test_conditional_get_304_keeps_validators_and_carries_no_body(
    server: FeedServer, fetcher: Fetcher
) -> None:
    server.set("/f", rss(2), headers=RSS, etag='"v1"', last_modified="Mon, 01 Dec 2025 10:00:00 GMT")
    first = await fetcher.fetch(FetchState(server.url("/f")))
    assert first.outcome == "new" and first.status == 200
    assert first.etag == '"v1"' and first.last_modified == "Mon, 01 Dec 2025 10:00:00 GMT"
    assert first.body is not None and len(parse_feed(first.body, first.headers, first.url).entries) == 2

    state = FetchState(first.url, first.etag, first.last_modified, first.body_hash)
    second = await fetcher.fetch(state)
    assert second.outcome == "not_modified" and second.status == 304 and second.body is None
    sent = server.requests_for("/f")[-1].headers
    assert sent["if-none-match"] == '"v1"'
    assert sent["if-modified-since"] == "Mon, 01 Dec 2025 10:00:00 GMT"
    assert (second.etag, second.last_modified, second.body_hash) == (
        first.etag,
        first.last_modified,
        first.body_hash,
    )


async def test_validators_come_only_from_200_answers(server: FeedServer, fetcher: Fetcher) -> None:
    state = FetchState(server.url("/f"), etag='"old"', last_modified="Sun, 30 Nov 2025 10:00:00 GMT")
    server.set(
        "/f", status=304, headers={"ETag": '"sneaky"', "Last-Modified": "Tue, 02 Dec 2025 10:00:00 GMT"}
    )
    result = await fetcher.fetch(state)
    assert result.outcome == "not_modified"
    assert (result.etag, result.last_modified) == ('"old"', "Sun, 30 Nov 2025 10:00:00 GMT")

    server.set("/f", b"oops", status=500, headers={"ETag": '"error-page"'})
    result = await fetcher.fetch(state)
    assert result.outcome == "error" and result.etag == '"old"'

    server.set("/f", rss(1), headers={**RSS, "ETag": '"fresh"'})
    result = await fetcher.fetch(state)
    assert result.outcome == "new" and result.etag == '"fresh"'
    assert result.last_modified is None  # a 200 without Last-Modified clears the old one


async def test_byte_identical_body_is_unchanged_without_validators(
    server: FeedServer, fetcher: Fetcher
) -> None:
    server.set("/f", rss(3), headers=RSS)
    first = await fetcher.fetch(FetchState(server.url("/f")))
    second = await fetcher.fetch(FetchState(server.url("/f"), body_hash=first.body_hash))
    assert first.outcome == "new" and second.outcome == "unchanged"
    assert second.body is None and second.body_hash == first.body_hash
    server.set("/f", rss(4), headers=RSS)
    third = await fetcher.fetch(FetchState(server.url("/f"), body_hash=first.body_hash))
    assert third.outcome == "new" and third.body_hash != first.body_hash


async def test_gzip_body_is_decoded_and_wire_headers_dropped(server: FeedServer, fetcher: Fetcher) -> None:
    server.set("/f", rss(5), headers=RSS, gzip=True)
    result = await fetcher.fetch(FetchState(server.url("/f")))
    assert result.outcome == "new" and result.body == rss(5)
    assert "content-encoding" not in result.headers and result.headers["content-type"].startswith(
        "application/rss"
    )
    assert "gzip" in server.requests[-1].headers["accept-encoding"]


# -- Retry-After, cache hints ----------------------------------------------------------------------------


async def test_retry_after_seconds_on_429_blocks_the_host(server: FeedServer, fetcher: Fetcher) -> None:
    server.set("/a", status=429, headers={"Retry-After": "120"})
    server.set("/b", rss(1), headers=RSS)
    result = await fetcher.fetch(FetchState(server.url("/a")))
    assert result.outcome == "error" and result.error_kind == "http_429" and result.retry_after == 120
    plan = plan_next_poll(interval=60, min_interval=30, max_interval=3600, result=result, failures=1)
    assert 120 <= plan.delay_seconds <= 3600 and "Retry-After" in plan.reason

    requests_before = len(server.requests)
    other = await fetcher.fetch(FetchState(server.url("/b")))  # same host: it asked everyone to wait
    assert other.outcome == "error" and other.error_kind == "host_backoff"
    assert other.retry_after is not None and 0 < other.retry_after <= 120
    assert len(server.requests) == requests_before, "no request may reach a host that asked us to wait"


async def test_retry_after_http_date_on_503(server: FeedServer, fetcher: Fetcher) -> None:
    when = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)
    server.set("/f", status=503, headers={"Retry-After": format_datetime(when, usegmt=True)})
    result = await fetcher.fetch(FetchState(server.url("/f")))
    assert result.error_kind == "http_5xx" and result.status == 503
    assert result.retry_after is not None and 500 < result.retry_after <= 600
    capped = plan_next_poll(interval=60, min_interval=30, max_interval=300, result=result, failures=1)
    assert capped.delay_seconds == 300, "Retry-After is honoured only within the source's bounds"


def test_retry_after_and_cache_header_parsing() -> None:
    now = dt.datetime(2025, 12, 1, 10, 0, tzinfo=dt.UTC)
    assert parse_retry_after("30") == 30
    assert parse_retry_after("Mon, 01 Dec 2025 10:05:00 GMT", now) == 300
    assert parse_retry_after("Mon, 01 Dec 2025 09:00:00 GMT", now) == 0  # in the past: now
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
    assert cache_lifetime({"Cache-Control": "public, max-age=600", "Age": "100"}) == 500
    headers = {"Date": "Mon, 01 Dec 2025 10:00:00 GMT", "Expires": "Mon, 01 Dec 2025 11:00:00 GMT"}
    assert cache_lifetime(headers) == 3600
    assert cache_lifetime({"Expires": "0"}) == 0
    assert cache_lifetime({"Content-Type": "text/xml"}) is None


async def test_cache_control_max_age_reaches_the_plan(server: FeedServer, fetcher: Fetcher) -> None:
    server.set("/f", rss(1), headers={**RSS, "Cache-Control": "max-age=7200"})
    result = await fetcher.fetch(FetchState(server.url("/f")))
    assert result.cache_lifetime == 7200
    plan = plan_next_poll(interval=600, min_interval=60, max_interval=86400, result=result, failures=0)
    assert 7200 * 0.9 <= plan.delay_seconds <= 7200 * 1.1 and "Cache-Control" in plan.reason


# -- redirects, gone ---------------------------------------------------------------------------------------


async def test_301_then_302_chain_keeps_the_stored_url(server: FeedServer, fetcher: Fetcher) -> None:
    server.redirect("/old", "/middle", 301)
    server.redirect("/middle", "/new", 302)
    server.set("/new", rss(1), headers=RSS)
    result = await fetcher.fetch(FetchState(server.url("/old")))
    assert result.outcome == "new" and result.url == server.url("/new")
    assert result.new_url is None, "a temporary hop means the old URL stays the one to ask"
    assert [s for s, _ in result.redirects] == [301, 302]


async def test_permanent_chain_updates_the_url(server: FeedServer, fetcher: Fetcher) -> None:
    server.redirect("/old", "/middle", 301)
    server.redirect("/middle", server.url("/new"), 308)
    server.set("/new", rss(1), headers=RSS)
    result = await fetcher.fetch(FetchState(server.url("/old")))
    assert result.outcome == "new" and result.new_url == server.url("/new")


async def test_permanent_redirect_to_an_error_does_not_move_the_source(
    server: FeedServer, fetcher: Fetcher
) -> None:
    server.redirect("/old", "/missing", 301)
    result = await fetcher.fetch(FetchState(server.url("/old")))
    assert result.error_kind == "http_404" and result.new_url is None


async def test_redirect_loop_is_an_error(server: FeedServer, fetcher: Fetcher) -> None:
    server.redirect("/a", "/b", 302)
    server.redirect("/b", "/a", 301)
    result = await fetcher.fetch(FetchState(server.url("/a")))
    assert result.outcome == "error" and result.error_kind == "redirect_loop"
    assert len(server.requests) == 2


async def test_410_gone_and_404_and_5xx(server: FeedServer, fetcher: Fetcher) -> None:
    server.set("/gone", b"bye", status=410)
    server.set("/err", b"boom", status=502)
    gone = await fetcher.fetch(FetchState(server.url("/gone")))
    assert gone.outcome == "gone" and gone.status == 410
    missing = await fetcher.fetch(FetchState(server.url("/nothing-here")))
    assert missing.outcome == "error" and missing.error_kind == "http_404"
    broken = await fetcher.fetch(FetchState(server.url("/err")))
    assert broken.outcome == "error" and broken.error_kind == "http_5xx" and broken.status == 502


# -- robustness ------------------------------------------------------------


async def test_slow_drip_cannot_stretch_the_deadline(server: FeedServer) -> None:
    # one byte every 50 ms never trips a 5 s read timeout; only the whole-request deadline stops it
    server.set("/drip", rss(3), headers=RSS, drip=(1, 0.05))
    async with Fetcher(min_host_interval=0, read_timeout=5, deadline=0.5) as fetcher:
        result = await fetcher.fetch(FetchState(server.url("/drip")))
    assert result.outcome == "error" and result.error_kind == "deadline"


async def test_read_timeout(server: FeedServer) -> None:
    server.set("/slow", rss(1), headers=RSS, delay=3)
    async with Fetcher(min_host_interval=0, read_timeout=0.3, deadline=20) as fetcher:
        result = await fetcher.fetch(FetchState(server.url("/slow")))
    assert result.error_kind == "timeout"


async def test_gzip_bomb_is_stopped(server: FeedServer) -> None:
    server.set("/bomb", gzip_bomb(200 * 1024 * 1024), headers={**RSS, "Content-Encoding": "gzip"})
    async with Fetcher(min_host_interval=0, max_bytes=1024 * 1024) as fetcher:
        result = await fetcher.fetch(FetchState(server.url("/bomb")))
    assert result.outcome == "error" and result.error_kind == "too_large" and result.body is None


def test_decoder_never_holds_more_than_the_cap() -> None:
    bomb = gzip_bomb(50 * 1024 * 1024)
    decoder = _Decoder("gzip", 256 * 1024)
    with pytest.raises(_Failure) as caught:
        for start in range(0, len(bomb), 65536):
            decoder.feed(bomb[start : start + 65536])
    assert caught.value.kind == "too_large"
    assert decoder.size <= 256 * 1024 + 1, "inflation must stop at the cap, not after a whole chunk"


async def test_declared_length_over_the_cap(server: FeedServer) -> None:
    server.set("/big", b"x" * 5000, headers=RSS)
    async with Fetcher(min_host_interval=0, max_bytes=1000) as fetcher:
        result = await fetcher.fetch(FetchState(server.url("/big")))
    assert result.error_kind == "too_large"


async def test_empty_body_and_broken_gzip_and_abort(server: FeedServer, fetcher: Fetcher) -> None:
    server.set("/empty", b"  \n", headers=RSS)
    server.set("/badgz", b"this is not gzip", headers={"Content-Encoding": "gzip"})
    server.set("/abort", abort=True)
    assert (await fetcher.fetch(FetchState(server.url("/empty")))).error_kind == "empty"
    assert (await fetcher.fetch(FetchState(server.url("/badgz")))).error_kind == "decoding"
    aborted = await fetcher.fetch(FetchState(server.url("/abort")))
    assert aborted.outcome == "error" and aborted.error_kind in ("protocol", "network")


async def test_tls_error_against_a_plain_http_port(server: FeedServer, fetcher: Fetcher) -> None:
    result = await fetcher.fetch(FetchState(f"https://127.0.0.1:{server.port}/f"))
    assert result.outcome == "error" and result.error_kind == "tls"


async def test_connection_refused_is_connect() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with Fetcher(min_host_interval=0) as fetcher:
        result = await fetcher.fetch(FetchState(f"http://127.0.0.1:{port}/f"))
    assert result.error_kind == "connect"


@pytest.mark.parametrize(
    ("cause", "kind"),
    [
        (socket.gaierror(-2, "Name or service not known"), "dns"),
        (ssl.SSLCertVerificationError(1, "certificate verify failed"), "tls"),
        (ConnectionRefusedError(111, "Connection refused"), "connect"),
    ],
)
async def test_network_errors_are_classified(cause: Exception, kind: str) -> None:
    """DNS and certificate failures without touching a resolver or the internet: the transport raises
    what httpx raises for them (a ConnectError caused by the OS error)."""

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(str(cause), request=request) from cause

    async with Fetcher(transport=httpx.MockTransport(handler), min_host_interval=0) as fetcher:
        result = await fetcher.fetch(FetchState("https://feeds.example.invalid/rss"))
    assert result.outcome == "error" and result.error_kind == kind


async def test_recovery_after_an_outage(server: FeedServer, fetcher: Fetcher) -> None:
    """Errors back off (growing, capped), never give up, and the first good answer resets the pace."""
    server.set("/f", responses=[Route(status=503), Route(abort=True), Route(status=500), Route(body=rss(2))])
    state = FetchState(server.url("/f"))
    rng = random.Random(7)
    delays = []
    for _ in range(3):
        result = await fetcher.fetch(state)
        assert result.outcome == "error"
        state.consecutive_failures += 1
        plan = plan_next_poll(
            interval=300,
            min_interval=60,
            max_interval=3600,
            result=result,
            failures=state.consecutive_failures,
            rng=rng,
        )
        delays.append(plan.delay_seconds)
    assert delays[0] < delays[1] < delays[2] <= 3600
    result = await fetcher.fetch(state)
    assert result.outcome == "new" and result.body is not None
    plan = plan_next_poll(
        interval=300, min_interval=60, max_interval=3600, result=result, failures=0, rng=rng
    )
    assert 270 <= plan.delay_seconds <= 330


# -- politeness per host ------------------------------------------------------------


async def test_per_host_concurrency_limit_is_shared_by_sources(server: FeedServer) -> None:
    for i in range(6):
        server.set(f"/f{i}", rss(1), headers=RSS, delay=0.2)
    async with Fetcher(min_host_interval=0, per_host_limit=2) as fetcher:
        results = await asyncio.gather(*(fetcher.fetch(FetchState(server.url(f"/f{i}"))) for i in range(6)))
    assert all(r.outcome == "new" for r in results)
    assert server.max_in_flight <= 2


async def test_minimum_interval_between_requests_to_one_host(server: FeedServer) -> None:
    for i in range(4):
        server.set(f"/f{i}", rss(1), headers=RSS)
    async with Fetcher(min_host_interval=0.2, per_host_limit=4) as fetcher:
        await asyncio.gather(*(fetcher.fetch(FetchState(server.url(f"/f{i}"))) for i in range(4)))
    arrivals = sorted(r.at for r in server.requests)
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert len(gaps) == 3 and min(gaps) >= 0.18  # a lower bound: a slow machine only widens the gaps


async def test_host_overrides(server: FeedServer) -> None:
    for i in range(4):
        server.set(f"/f{i}", rss(1), headers=RSS, delay=0.1)
    async with Fetcher(
        min_host_interval=30, per_host_limit=1, host_overrides={"127.0.0.1": (4, 0.0)}
    ) as fetcher:
        results = await asyncio.gather(*(fetcher.fetch(FetchState(server.url(f"/f{i}"))) for i in range(4)))
    assert all(r.outcome == "new" for r in results)


# -- the poll plan ------------------------------------------------------------


def _ok(**kwargs: object) -> FetchResult:
    return FetchResult("not_modified", "http://x/", 304, **kwargs)  # type: ignore[arg-type]


def test_backoff_grows_exponentially_stays_in_bounds_and_never_gives_up() -> None:
    rng = random.Random(1)
    error = FetchResult("error", "http://x/", error_kind="timeout")
    delays = [
        plan_next_poll(
            interval=60, min_interval=30, max_interval=7200, result=error, failures=n, rng=rng
        ).delay_seconds
        for n in range(1, 40)
    ]
    assert 54 <= delays[0] <= 66 and 108 <= delays[1] <= 132
    assert all(30 <= d <= 7200 for d in delays)
    assert delays[-1] == 7200 * min(1.0, 1.0)  # capped, and still a finite, scheduled retry


def test_jitter_spreads_polls_within_ten_percent() -> None:
    rng = random.Random(3)
    delays = {
        plan_next_poll(
            interval=600, min_interval=60, max_interval=3600, result=_ok(), failures=0, rng=rng
        ).delay_seconds
        for _ in range(50)
    }
    assert len(delays) > 40 and all(540 <= d <= 660 for d in delays)


def test_rss_ttl_lengthens_within_bounds() -> None:
    plan = plan_next_poll(
        interval=600, min_interval=60, max_interval=3600, result=_ok(), failures=0, ttl_seconds=7200
    )
    assert plan.delay_seconds == 3600 and "ttl" in plan.reason


def test_adaptive_interval_busy_and_quiet_feeds() -> None:
    now = dt.datetime(2026, 1, 10, 12, tzinfo=dt.UTC)
    busy = [now - dt.timedelta(minutes=10 * i) for i in range(60)]  # one entry every 10 minutes
    quiet = [now - dt.timedelta(days=30)]
    rng = random.Random(5)
    common = {
        "interval": 1800.0,
        "min_interval": 300.0,
        "max_interval": 86400.0,
        "result": _ok(),
        "failures": 0,
    }
    base = plan_next_poll(**common, now=now, rng=rng).delay_seconds  # type: ignore[arg-type]
    fast = plan_next_poll(**common, recent_entry_times=busy, now=now, rng=rng).delay_seconds  # type: ignore[arg-type]
    slow = plan_next_poll(**common, recent_entry_times=quiet, now=now, rng=rng).delay_seconds  # type: ignore[arg-type]
    assert fast < base < slow
    assert fast >= 300 and slow <= 1800 * 4 * 1.1
    same_stamp = [now] * 20  # an archiver stamping every item with the scrape time must not explode
    odd = plan_next_poll(**common, recent_entry_times=same_stamp, now=now, rng=rng)  # type: ignore[arg-type]
    assert 300 <= odd.delay_seconds <= 86400


def test_gone_plans_the_maximum() -> None:
    gone = FetchResult("gone", "http://x/", 410, error_kind="http_410")
    assert (
        plan_next_poll(interval=60, min_interval=30, max_interval=999, result=gone, failures=1).delay_seconds
        == 999
    )


def test_retry_after_is_capped_so_a_huge_value_cannot_silence_a_host() -> None:
    from monitor.fetch import MAX_RETRY_AFTER, parse_retry_after

    assert parse_retry_after("99999999999999999999") == MAX_RETRY_AFTER
    assert parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT") == MAX_RETRY_AFTER
    assert parse_retry_after("120") == 120.0
