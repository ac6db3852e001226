"""A small local HTTP/1.1 server for tests and benchmarks: serves canned answers on 127.0.0.1 only.

Why not `http.server`? Tests need things a stock handler cannot do cheaply: a slow drip that stays under a
read timeout, answers that change between two requests, a record of every request's headers, keep-alive
for a 1,000-feed benchmark, and a count of requests in flight (to prove per-host limits). The server runs
its own event loop in a daemon thread, so sync and async tests can use it alike and a test's own loop is
never blocked by it.

Usage::

    with FeedServer() as server:
        server.set("/feed.xml", body=b"<rss .../>", headers={"Content-Type": "application/rss+xml"})
        server.redirect("/old", "/feed.xml", status=301)
        server.set("/flaky", responses=[Route(status=503), Route(body=b"...")])  # consumed in order
        url = server.url("/feed.xml")
        ...
        assert server.requests[-1].headers["if-none-match"] == '"v1"'

An https:// URL pointing at the server fails the TLS handshake (it answers in plain HTTP).
Each route is a `Route` (or a callable `Request -> Route` for logic such as per-request answers).
A `Route` with `etag`/`last_modified` answers conditional requests with 304 by itself.
"""

from __future__ import annotations

import asyncio
import gzip
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate

__all__ = ["FeedServer", "Request", "Route", "gzip_bomb", "rss"]


@dataclass
class Route:
    """One canned answer.

    delay: seconds to wait before sending anything (tests connect/read timeouts and deadlines).
    drip: (bytes per chunk, seconds between chunks) to send the body slowly (a slow-drip server).
    gzip: compress the body and send `Content-Encoding: gzip`.
    abort: close the connection without answering (a crashed upstream).
    etag / last_modified: sent as validators; a matching conditional request gets 304.
    """

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay: float = 0.0
    drip: tuple[int, float] | None = None
    gzip: bool = False
    abort: bool = False
    etag: str | None = None
    last_modified: str | None = None


@dataclass
class Request:
    """A request as the server saw it; header names are lower-case."""

    method: str
    path: str
    headers: dict[str, str]
    at: float  # time.monotonic() on arrival


Handler = Route | Callable[[Request], Route] | list[Route]

_REASONS = {
    200: "OK",
    204: "No Content",
    301: "Moved Permanently",
    302: "Found",
    303: "See Other",
    304: "Not Modified",
    307: "Temporary Redirect",
    308: "Permanent Redirect",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    410: "Gone",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


class FeedServer:
    """Serves `routes` (path -> Route, callable or list of Routes) on 127.0.0.1 from a background thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self.routes: dict[str, Handler] = {}
        self.requests: list[Request] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.record = True  # the benchmark turns this off to keep memory flat
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._lock = threading.Lock()
        self._on_ready: Callable[[int], None] | None = None

    # -- configuration ------------------------------------------------------------------------------
    def set(
        self,
        path: str,
        body: bytes = b"",
        status: int = 200,
        headers: dict[str, str] | None = None,
        *,
        responses: list[Route] | None = None,
        **options: object,
    ) -> None:
        """Serve `path`; with `responses`, answer each request with the next one (the last one repeats)."""
        if responses is not None:
            self.routes[path] = list(responses)
        else:
            self.routes[path] = Route(status=status, headers=dict(headers or {}), body=body, **options)  # type: ignore[arg-type]

    def redirect(self, path: str, to: str, status: int = 301) -> None:
        """Answer `path` with a redirect to `to` (a path on this server or an absolute URL)."""
        self.routes[path] = Route(status=status, headers={"Location": to})

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def requests_for(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]

    def reset_stats(self) -> None:
        with self._lock:
            self.requests.clear()
            self.max_in_flight = self.in_flight

    # -- life cycle ---------------------------------------------------------------------------------
    def start(self) -> FeedServer:
        self._thread = threading.Thread(target=self._run, name="feedserver", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("feed server did not start")
        return self

    def stop(self) -> None:
        loop = self._loop
        if loop is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(10)
        self._loop = None

    def __enter__(self) -> FeedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve_forever(self, on_ready: Callable[[int], None] | None = None) -> None:
        """Run in the calling thread (the benchmark runs the server in its own process); `on_ready`
        receives the port once the server listens."""
        self._on_ready = on_ready
        self._run()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        self._server = loop.run_until_complete(
            asyncio.start_server(self._handle, self.host, self.port, backlog=2048, limit=1 << 16)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        if self._on_ready is not None:
            self._on_ready(self.port)
        try:
            loop.run_forever()
        finally:
            self._server.close()
            for task in asyncio.all_tasks(loop):
                task.cancel()
            loop.run_until_complete(asyncio.sleep(0))
            loop.close()

    # -- serving ------------------------------------------------------------------------------------
    def _pick(self, request: Request) -> Route:
        handler = self.routes.get(request.path)
        if handler is None:
            handler = self.routes.get(request.path.split("?", 1)[0])
        if handler is None:
            return Route(status=404, body=b"not found")
        if isinstance(handler, list):
            with self._lock:
                return handler.pop(0) if len(handler) > 1 else handler[0]
        if callable(handler):
            return handler(request)
        return handler

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    first = await reader.readexactly(1)
                    if first == b"\x16":  # a TLS ClientHello: answer in plain HTTP, a TLS error for https://
                        writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                        await writer.drain()
                        return
                    head = first + await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                try:
                    method, target, _version = lines[0].split(" ", 2)
                except ValueError:
                    return
                headers: dict[str, str] = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0") or 0)
                if length:
                    await reader.readexactly(length)
                request = Request(method, target, headers, time.monotonic())
                with self._lock:
                    if self.record:
                        self.requests.append(request)
                    self.in_flight += 1
                    self.max_in_flight = max(self.max_in_flight, self.in_flight)
                try:
                    keep_open = await self._answer(request, writer)
                finally:
                    with self._lock:
                        self.in_flight -= 1
                if not keep_open or headers.get("connection", "").lower() == "close":
                    return
        except (ConnectionError, asyncio.CancelledError):
            return
        finally:
            writer.close()

    async def _answer(self, request: Request, writer: asyncio.StreamWriter) -> bool:
        route = self._pick(request)
        if route.delay:
            await asyncio.sleep(route.delay)
        if route.abort:
            return False
        status, body = route.status, route.body
        headers = {"Date": formatdate(usegmt=True), "Server": "feedserver"}
        if route.etag:
            headers["ETag"] = route.etag
        if route.last_modified:
            headers["Last-Modified"] = route.last_modified
        headers.update(route.headers)
        if status == 200 and (
            (route.etag and request.headers.get("if-none-match") == route.etag)
            or (route.last_modified and request.headers.get("if-modified-since") == route.last_modified)
        ):
            status, body = 304, b""
        if route.gzip and body:
            body = gzip.compress(body, compresslevel=5)
            headers["Content-Encoding"] = "gzip"
        if request.method == "HEAD" or status in (204, 304):
            body = b""
        headers.setdefault("Content-Length", str(len(body)))
        head = f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        writer.write(head.encode("latin-1"))
        if route.drip:
            size, pause = route.drip
            for start in range(0, len(body), max(1, size)):
                writer.write(body[start : start + size])
                await writer.drain()
                await asyncio.sleep(pause)
        else:
            writer.write(body)
        await writer.drain()
        return True


def gzip_bomb(decoded_size: int) -> bytes:
    """A gzip stream of `decoded_size` zero bytes, built in chunks so the test never holds it decoded."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = bytes(1 << 20)
    parts = []
    remaining = decoded_size
    while remaining > 0:
        parts.append(compressor.compress(chunk[: min(remaining, len(chunk))]))
        remaining -= len(chunk)
    parts.append(compressor.flush())
    return b"".join(parts)


def rss(items: int = 3, *, title: str = "Test feed", prefix: str = "Item", ttl: int | None = None) -> bytes:
    """A small valid RSS 2.0 document with `items` items (fixture text of our own)."""
    ttl_xml = f"<ttl>{ttl}</ttl>" if ttl is not None else ""
    body = "".join(
        f"<item><title>{prefix} {i}</title><link>https://example.org/{prefix.lower()}/{i}</link>"
        f"<guid>urn:test:{prefix.lower()}:{i}</guid><description>Body of {prefix.lower()} {i}.</description>"
        f"<pubDate>Mon, 0{1 + i % 9} Dec 2025 10:00:00 GMT</pubDate></item>"
        for i in range(items)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>'
        f"<link>https://example.org/</link>{ttl_xml}{body}</channel></rss>"
    ).encode()
