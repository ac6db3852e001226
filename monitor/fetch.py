"""Sources and fetching: gets feed documents over HTTP, politely, and decides when to ask again.

One shared `httpx.AsyncClient` serves every source. Conditional GET, per-host politeness (a minimum gap
between requests and a concurrency limit, shared by every source on the same host), a cap on *decoded*
bytes and a whole-request deadline live here, so every caller of `Fetcher.fetch` gets them for free.

Failures are returned as data (`FetchResult.outcome == "error"` with a short, stable `error_kind`), never
raised: one bad source must not stop a poll of the others, and a stable kind lets the daemon report a
failure once when it starts and once when it ends, instead of once per poll.

`plan_next_poll` is the single place that decides when a source is polled next: backoff on failure (with
jitter, capped, never a permanent give-up), the publisher's hints (Retry-After, Cache-Control, Expires,
RSS ttl) and an adaptive interval from how often the feed publishes, all within the source's bounds.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import email.utils
import hashlib
import math
import random
import re
import socket
import ssl
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urljoin, urlsplit

import httpx

from monitor import __version__

USER_AGENT = f"trade-monitor/{__version__} (+https://github.com/trade-monitor/trade-monitor; feed poller)"
MAX_BODY_BYTES = 10 * 1024 * 1024
MAX_REDIRECTS = 5
ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"

Outcome = Literal["new", "not_modified", "unchanged", "error", "gone"]

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PERMANENT = frozenset({301, 308})
# Headers that describe the bytes on the wire; the body we hand on is already decoded, so they would lie.
_WIRE_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


@dataclass
class FetchState:
    """What is remembered about a source between polls (kept in the database)."""

    url: str
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    consecutive_failures: int = 0


@dataclass
class FetchResult:
    """What one poll of one source produced.

    `etag`, `last_modified` and `body_hash` are always the values to persist after this poll: fresh ones
    from a 200, the previous ones (copied from the state) after a 304 or an error, because validators are
    only ever taken from a 200 answer.
    """

    outcome: Outcome
    url: str
    status: int | None = None
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    new_url: str | None = None
    retry_after: float | None = None
    error_kind: str | None = None
    error_message: str | None = None
    elapsed: float = 0.0
    # Seconds the answer says it stays fresh (Cache-Control max-age, else Expires); None when unstated.
    cache_lifetime: float | None = None
    # Every redirect hop followed, as (status, location it pointed to).
    redirects: tuple[tuple[int, str], ...] = ()

    @property
    def ok(self) -> bool:
        return self.outcome in ("new", "not_modified", "unchanged")


class _Failure(Exception):
    """Internal: carries an error kind out of nested code to the single place that builds the result."""

    def __init__(
        self, kind: str, message: str, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.retry_after = retry_after


class _HostGate:
    """Politeness towards one host: at most `limit` requests at once and `min_interval` between starts."""

    def __init__(self, limit: int, min_interval: float, waiting: set[asyncio.Task[object]]) -> None:
        self.semaphore = asyncio.Semaphore(limit)
        self.min_interval = min_interval
        self.next_start = 0.0
        self.blocked_until = 0.0  # set from a 429/503 Retry-After: the whole host asked us to wait
        # Tasks queued for their turn (a free slot or the pace gap), shared by the fetcher's gates: a
        # stop drops these at once, since none has sent a byte, instead of letting them start one by one
        # min_interval apart.
        self.waiting = waiting

    async def acquire(self) -> None:
        task = asyncio.current_task()
        if task is not None:
            self.waiting.add(task)
        try:
            await self.semaphore.acquire()
            try:
                now = time.monotonic()
                start = max(now, self.next_start)
                self.next_start = start + self.min_interval
                if start > now:
                    await asyncio.sleep(start - now)
            except BaseException:
                self.semaphore.release()
                raise
        finally:
            self.waiting.discard(task)

    def release(self) -> None:
        self.semaphore.release()


class _Decoder:
    """Undoes Content-Encoding while counting decoded bytes, so a gzip bomb is stopped after `limit` bytes.

    httpx's own decoders inflate a whole network chunk at once (a 64 KiB chunk of a bomb is ~64 MiB);
    `zlib.decompressobj.decompress(max_length=...)` lets us stop as soon as the cap is crossed.
    """

    def __init__(self, encoding: str, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self.parts: list[bytes] = []
        codings = [c.strip().lower() for c in encoding.split(",") if c.strip()]
        codings = [c for c in codings if c != "identity"]
        if len(codings) > 1:
            raise _Failure("decoding", f"unsupported stacked Content-Encoding: {encoding}")
        self.coding = codings[0] if codings else ""
        if self.coding in ("gzip", "x-gzip"):
            self._wbits = 47  # gzip or zlib header, auto-detected
        elif self.coding == "deflate":
            self._wbits = 15  # zlib; raw deflate is retried below
        elif self.coding:
            raise _Failure("decoding", f"unsupported Content-Encoding: {encoding}")
        self._z = zlib.decompressobj(self._wbits) if self.coding else None
        self._first = True

    def _append(self, data: bytes) -> None:
        if data:
            self.size += len(data)
            if self.size > self.limit:
                raise _Failure("too_large", f"decoded body exceeds {self.limit} bytes")
            self.parts.append(data)

    def feed(self, chunk: bytes) -> None:
        if self._z is None:
            self._append(chunk)
            return
        data = chunk
        while data:
            try:
                out = self._z.decompress(data, self.limit - self.size + 1)
            except zlib.error as exc:
                if self._first and self.coding == "deflate":  # some servers send raw deflate
                    self._z, self._first = zlib.decompressobj(-15), False
                    continue
                raise _Failure("decoding", f"invalid {self.coding} data: {exc}") from None
            self._first = False
            self._append(out)
            if self._z.unconsumed_tail:
                data = self._z.unconsumed_tail
            elif self._z.eof and self._z.unused_data:  # concatenated gzip members
                data = self._z.unused_data
                self._z = zlib.decompressobj(self._wbits)
            else:
                data = b""

    def finish(self) -> bytes:
        if self._z is not None:
            self._append(self._z.flush())
        return b"".join(self.parts)


def _error_kind(exc: BaseException) -> str:
    """Maps an httpx exception to a stable kind by looking through its chain of causes."""
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    chain: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and seen not in chain and len(chain) < 10:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    for item in chain:
        if isinstance(item, socket.gaierror):
            return "dns"
        if isinstance(item, ssl.SSLError | ssl.CertificateError):
            return "tls"
    text = " ".join(str(item) for item in chain).lower()
    if any(
        s in text
        for s in (
            "name or service not known",
            "nodename nor servname",
            "getaddrinfo",
            "temporary failure in name resolution",
            "no address associated",
        )
    ):
        return "dns"
    if any(s in text for s in ("ssl", "certificate", "tls")):
        return "tls"
    if isinstance(exc, httpx.ConnectError):
        return "connect"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "protocol"
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return "bad_url"
    if isinstance(exc, httpx.DecodingError):
        return "decoding"
    return "network"


def _http_error_kind(status: int) -> str:
    if status in (401, 403, 404, 429):
        return f"http_{status}"
    if 500 <= status < 600:
        return "http_5xx"
    return "http_4xx" if 400 <= status < 500 else f"http_{status}"


def parse_http_date(value: str | None) -> dt.datetime | None:
    """An RFC 9110 date as an aware UTC datetime, or None when absent or unreadable."""
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


# A server may ask for any wait; beyond a day it is a misconfiguration, and a huge number must not
# overflow a timer or silence a host forever. Each source's max_interval bounds it further.
MAX_RETRY_AFTER = 86400.0


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Retry-After in seconds from now: delta-seconds or an HTTP-date; never negative."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value[:12]), MAX_RETRY_AFTER)
    when = parse_http_date(value)
    if when is None:
        return None
    return min(MAX_RETRY_AFTER, max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds()))


_MAX_AGE = re.compile(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)", re.IGNORECASE)


def cache_lifetime(headers: httpx.Headers | dict[str, str], now: dt.datetime | None = None) -> float | None:
    """How long the answer says it stays fresh: Cache-Control max-age (minus Age), else Expires - Date."""
    lowered = {k.lower(): v for k, v in headers.items()}
    control = lowered.get("cache-control", "")
    match = _MAX_AGE.search(control)
    if match:
        try:
            age = float(lowered.get("age", "0") or 0)
        except ValueError:
            age = 0.0
        return max(0.0, float(match.group(1)) - age)
    expires = lowered.get("expires")
    if expires is not None:
        when = parse_http_date(expires)
        if when is None:
            return 0.0  # an invalid Expires means "already expired" (RFC 9111 5.3)
        base = parse_http_date(lowered.get("date")) or now or dt.datetime.now(dt.UTC)
        return max(0.0, (when - base).total_seconds())
    return None


def _host_key(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{parts.port or ''}"


class Fetcher:
    """Fetches feeds with conditional GET, politeness per host, size caps and a deadline.

    `min_host_interval` is the minimum gap in seconds between the starts of two requests to the same host
    and `per_host_limit` the number of requests to one host at once; both are shared by all sources on
    that host, which is what a publisher sees. `host_overrides` maps a host name to its own
    (per_host_limit, min_host_interval), e.g. for a local mirror. `deadline` bounds a whole request,
    redirects and body included, so a server that drips one byte per second cannot hold a task forever.
    """

    def __init__(
        self,
        *,
        connect_timeout: float = 10.0,
        read_timeout: float = 20.0,
        deadline: float = 60.0,
        max_bytes: int = MAX_BODY_BYTES,
        max_redirects: int = MAX_REDIRECTS,
        per_host_limit: int = 2,
        min_host_interval: float = 1.0,
        host_overrides: dict[str, tuple[int, float]] | None = None,
        user_agent: str = USER_AGENT,
        client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        max_connections: int = 100,
    ) -> None:
        self.deadline = deadline
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.per_host_limit = per_host_limit
        self.min_host_interval = min_host_interval
        self.host_overrides = {k.lower(): v for k, v in (host_overrides or {}).items()}
        self._gates: dict[str, _HostGate] = {}
        self._waiting: set[asyncio.Task[object]] = set()  # kept across reloads, which replace the gates
        self._owns_client = client is None
        self._client = client or httpx.AsyncClient(
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout, pool=deadline),
            follow_redirects=False,  # followed by hand: loops, hop kinds and per-hop politeness
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            headers={"User-Agent": user_agent, "Accept": ACCEPT, "Accept-Encoding": "gzip, deflate"},
            transport=transport,
        )

    def set_politeness(
        self, per_host_limit: int, min_host_interval: float, host_overrides: dict[str, tuple[int, float]]
    ) -> None:
        """Adopt new per-host limits (a config reload). Requests in flight keep the gate they hold; the
        next request to a host gets a gate with the new limits."""
        self.per_host_limit = per_host_limit
        self.min_host_interval = min_host_interval
        self.host_overrides = {k.lower(): v for k, v in host_overrides.items()}
        self._gates = {}

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def queued_tasks(self) -> set[asyncio.Task[object]]:
        """Tasks still waiting for their turn at a host (none of them has sent a request yet)."""
        return set(self._waiting)

    def _gate(self, url: str) -> _HostGate:
        key = _host_key(url)
        gate = self._gates.get(key)
        if gate is None:
            host = (urlsplit(url).hostname or "").lower()
            limit, interval = self.host_overrides.get(host, (self.per_host_limit, self.min_host_interval))
            gate = self._gates[key] = _HostGate(max(1, limit), max(0.0, interval), self._waiting)
        return gate

    async def fetch(self, state: FetchState) -> FetchResult:
        """One poll of one source. Never raises for network, HTTP or content problems."""
        started = time.monotonic()
        try:
            result = await self._fetch(state)
        except _Failure as exc:
            result = self._failed(state, exc.kind, str(exc), exc.status)
            result.retry_after = exc.retry_after
        except TimeoutError:
            result = self._failed(state, "deadline", f"no complete answer within {self.deadline:g}s")
        except httpx.TooManyRedirects as exc:
            result = self._failed(state, "redirect_loop", str(exc))
        except httpx.HTTPError as exc:
            result = self._failed(state, _error_kind(exc), str(exc) or type(exc).__name__)
        except (OSError, ValueError, UnicodeError) as exc:  # e.g. a Location header httpx cannot use
            result = self._failed(state, "network" if isinstance(exc, OSError) else "bad_url", repr(exc))
        result.elapsed = time.monotonic() - started
        return result

    @staticmethod
    def _failed(state: FetchState, kind: str, message: str, status: int | None = None) -> FetchResult:
        return FetchResult(
            "error",
            state.url,
            status,
            etag=state.etag,
            last_modified=state.last_modified,
            body_hash=state.body_hash,
            error_kind=kind,
            error_message=message[:500],
        )

    async def _fetch(self, state: FetchState) -> FetchResult:
        url = state.url
        hops: list[tuple[int, str]] = []
        visited = {url}
        headers: dict[str, str] = {}
        if state.etag:
            headers["If-None-Match"] = state.etag
        if state.last_modified:
            headers["If-Modified-Since"] = state.last_modified
        held_gates: set[_HostGate] = set()  # a same-host redirect must not wait for its own slot
        async with contextlib.AsyncExitStack() as held:
            deadline_at: float | None = None
            while True:
                gate = self._gate(url)
                if gate.blocked_until > time.monotonic():
                    wait = gate.blocked_until - time.monotonic()
                    raise _Failure(
                        "host_backoff",
                        f"host asked us to wait {wait:.0f}s more (Retry-After)",
                        retry_after=wait,
                    )
                if gate not in held_gates:
                    await gate.acquire()
                    held.callback(gate.release)
                    held_gates.add(gate)
                if deadline_at is None:  # the deadline starts once we may talk to the host
                    deadline_at = asyncio.get_running_loop().time() + self.deadline
                async with asyncio.timeout_at(deadline_at):
                    result = await self._request(state, url, headers, gate)
                if isinstance(result, FetchResult):
                    result.redirects = tuple(hops)
                    if hops and all(status in _PERMANENT for status, _ in hops) and result.ok:
                        result.new_url = url if url != state.url else None
                    return result
                status, location = result
                target = urljoin(url, location)
                hops.append((status, target))
                if target in visited:
                    raise _Failure(
                        "redirect_loop", f"redirect loop: {' -> '.join(u for _, u in hops)}", status
                    )
                if len(hops) > self.max_redirects:
                    raise _Failure("redirect_loop", f"more than {self.max_redirects} redirects", status)
                if urlsplit(target).scheme not in ("http", "https"):
                    raise _Failure("bad_url", f"redirect to unsupported URL {target[:200]}", status)
                visited.add(target)
                url = target

    async def _request(
        self, state: FetchState, url: str, headers: dict[str, str], gate: _HostGate
    ) -> FetchResult | tuple[int, str]:
        async with self._client.stream("GET", url, headers=headers) as response:
            status = response.status_code
            if status in _REDIRECTS:
                location = response.headers.get("location")
                if not location:
                    raise _Failure("http_3xx", f"HTTP {status} without a Location header", status)
                return status, location
            if status in (429, 503):
                retry_after = parse_retry_after(response.headers.get("retry-after"))
                if retry_after:
                    gate.blocked_until = max(gate.blocked_until, time.monotonic() + retry_after)
                failed = self._failed(
                    state, _http_error_kind(status), f"HTTP {status} {response.reason_phrase}", status
                )
                failed.retry_after = retry_after
                failed.url = url
                return failed
            if status == 304:
                return FetchResult(
                    "not_modified",
                    url,
                    304,
                    headers=_plain_headers(response.headers),
                    etag=state.etag,
                    last_modified=state.last_modified,
                    body_hash=state.body_hash,
                    cache_lifetime=cache_lifetime(response.headers),
                )
            if status == 410:
                gone = self._failed(state, "http_410", "410 Gone: the publisher removed this feed", status)
                gone.outcome, gone.url = "gone", url
                return gone
            if status >= 400 or status < 200:
                failed = self._failed(
                    state, _http_error_kind(status), f"HTTP {status} {response.reason_phrase}", status
                )
                failed.url = url
                return failed
            declared = response.headers.get("content-length", "")
            encoding = response.headers.get("content-encoding", "")
            if declared.isdigit() and not encoding and int(declared) > self.max_bytes:
                raise _Failure(
                    "too_large", f"Content-Length {declared} exceeds {self.max_bytes} bytes", status
                )
            decoder = _Decoder(encoding, self.max_bytes)
            async for chunk in response.aiter_raw():
                decoder.feed(chunk)
            body = decoder.finish()
        if not body.strip():
            raise _Failure("empty", f"HTTP {status} with an empty body", status)
        digest = hashlib.sha256(body).hexdigest()
        return FetchResult(
            "unchanged" if digest == state.body_hash else "new",
            url,
            status,
            body if digest != state.body_hash else None,
            _plain_headers(response.headers),
            etag=response.headers.get("etag"),
            last_modified=response.headers.get("last-modified"),
            body_hash=digest,
            cache_lifetime=cache_lifetime(response.headers),
        )


def _plain_headers(headers: httpx.Headers) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items() if k.lower() not in _WIRE_HEADERS}


# -- when to poll next -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PollPlan:
    """When to poll a source next (seconds from `now`) and a short reason for logs and `sources`."""

    delay_seconds: float
    reason: str


ADAPTIVE_WINDOW = dt.timedelta(days=7)
ADAPTIVE_FACTOR = 4.0  # adaptation moves the interval at most this factor either way
JITTER = 0.1  # +-10%: spreads sources that share a schedule without making polls unpredictable


def _clamp(value: float, low: float, high: float) -> float:
    return min(high, max(low, value))


def adaptive_interval(
    interval: float, recent_entry_times: Sequence[dt.datetime], now: dt.datetime
) -> tuple[float, str]:
    """Busy feeds get polled more often, quiet ones less, within a factor `ADAPTIVE_FACTOR` of `interval`.

    The feed's publishing gap is estimated from the entries published in the last `ADAPTIVE_WINDOW`
    (span from the oldest of them to now, divided by their count; entries dated in the future count as
    now, which also tames archivers that stamp every item with the scrape time). Polling twice per gap
    catches most items promptly without hammering. No history at all keeps the configured interval.
    """
    if not recent_entry_times:
        return interval, "configured interval"
    times = [t if t.tzinfo else t.replace(tzinfo=dt.UTC) for t in recent_entry_times]
    recent = [min(t, now) for t in times if now - t <= ADAPTIVE_WINDOW]
    if not recent:
        return interval * ADAPTIVE_FACTOR, "quiet feed: nothing published in 7 days"
    span = max((now - min(recent)).total_seconds(), 3600.0)
    gap = span / len(recent)
    target = _clamp(gap / 2, interval / ADAPTIVE_FACTOR, interval * ADAPTIVE_FACTOR)
    return target, f"adaptive: about one entry every {_human(gap)}"


def _human(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"


def plan_next_poll(
    *,
    interval: float,
    min_interval: float,
    max_interval: float,
    result: FetchResult,
    failures: int,
    ttl_seconds: float | None = None,
    recent_entry_times: Sequence[dt.datetime] = (),
    now: dt.datetime | None = None,
    rng: random.Random | None = None,
) -> PollPlan:
    """Decide the delay until the next poll of one source, always within [min_interval, max_interval].

    - `failures` is the consecutive failure count *including* this result (0 after a success).
    - Failure: exponential backoff `interval * 2**(failures-1)` with +-10% jitter, capped at
      `max_interval`; never a give-up, so a source that comes back is picked up on its own. A
      Retry-After (429/503, also a host-wide wait) is honoured when longer, up to `max_interval`.
    - 410 Gone: `max_interval` (the pipeline disables the source; this is only a fallback).
    - Success: the adaptive interval (see `adaptive_interval`), lengthened to the publisher's freshness
      hints (Cache-Control max-age / Expires on the answer, RSS `<ttl>` of the last parsed document), with
      +-10% jitter, clamped to the bounds.
    """
    generator = rng or random
    now = now or dt.datetime.now(dt.UTC)
    min_interval = max(0.0, min_interval)
    max_interval = max(min_interval, max_interval)
    interval = _clamp(interval, min_interval, max_interval)
    jitter = 1.0 + generator.uniform(-JITTER, JITTER)

    if result.outcome == "gone":
        return PollPlan(max_interval, "gone (410): source should be disabled")
    if result.outcome == "error":
        exponent = max(0, failures - 1)
        backoff = interval * (2.0 ** min(exponent, 30)) if interval > 0 else min_interval
        if math.isinf(backoff) or backoff > max_interval:
            backoff = max_interval
        delay = _clamp(backoff * jitter, min_interval, max_interval)
        reason = f"backoff after {max(failures, 1)} consecutive failure(s) ({result.error_kind})"
        if result.retry_after is not None and result.retry_after > delay:
            delay = _clamp(result.retry_after, min_interval, max_interval)
            reason = f"Retry-After {result.retry_after:.0f}s ({result.error_kind})"
        return PollPlan(delay, reason)

    base, reason = adaptive_interval(interval, recent_entry_times, now)
    hints = [
        (value, label)
        for value, label in ((result.cache_lifetime, "Cache-Control/Expires"), (ttl_seconds, "RSS ttl"))
        if value is not None and value > base
    ]
    if hints:
        base, label = max(hints)
        reason = f"publisher asks {_human(base)} ({label})"
    delay = _clamp(base * jitter, min_interval, max_interval)
    return PollPlan(delay, reason)
