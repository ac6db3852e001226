"""The daemon's HTTP endpoint: ``/healthz``, ``/readyz`` and ``/metrics``.

Off unless asked for (``run --http 127.0.0.1:8787`` or ``$TRADE_MONITOR_HTTP``), and bound to 127.0.0.1
unless an address says otherwise: the endpoint has no authentication, and metrics name the sources being
watched. It is a minimal HTTP/1.1 server on `asyncio.start_server` in the daemon's own loop, so it adds
no dependency and no thread; each request is answered and the connection closed (Prometheus, curl,
Docker and systemd health checks need nothing more).

- ``/healthz``: liveness. 200 while the event loop answers at all.
- ``/readyz``: readiness. 200 only when the database answers, the scheduler runs and a config is loaded;
  503 with the failing checks otherwise. The body is JSON either way.
- ``/metrics``: Prometheus text format from the daemon's own registry. Generated in a worker thread,
  because the store collector queries the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

if TYPE_CHECKING:
    from monitor.scheduler import Daemon

log = logging.getLogger("monitor.web")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8787
MAX_HEAD = 16 * 1024
READ_TIMEOUT = 10.0

# A readiness check: a name and a callable returning (ok, detail). Checks run in a worker thread.
ReadyCheck = Callable[[], tuple[bool, str]]


def parse_address(value: str) -> tuple[str, int]:
    """``HOST:PORT``, ``:PORT`` or ``PORT``; the host defaults to 127.0.0.1. Raises ValueError."""
    value = value.strip()
    if value.startswith("["):  # [::1]:8787
        host, _, port = value[1:].partition("]:")
    elif value.count(":") == 1:
        host, _, port = value.partition(":")
    elif value.isdigit():
        host, port = "", value
    else:
        raise ValueError(f"{value!r} is not HOST:PORT")
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"{value!r}: the port must be a number from 0 to 65535")
    return host or DEFAULT_HOST, int(port)


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "text/plain; charset=utf-8"


_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class WebServer:
    """Serves the three endpoints until `close`; `port` is the bound port (useful with port 0)."""

    def __init__(
        self,
        registry: CollectorRegistry,
        checks: Mapping[str, ReadyCheck],
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        documents: Mapping[str, tuple[str, Callable[[], bytes]]] | None = None,
    ) -> None:
        self.registry = registry
        self.checks = dict(checks)
        # path -> (content type, producer): documents built on request, such as the feed of changes
        self.documents = dict(documents or {})
        self.host = host
        self.port = port
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._handle, self.host, self.port, limit=MAX_HEAD)
        self.port = int(self._server.sockets[0].getsockname()[1])
        log.info("health and metrics on http://%s:%d (/healthz, /readyz, /metrics)", self.host, self.port)
        return self.port

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)
            self._server = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            try:
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_TIMEOUT)
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ConnectionError):
                return
            request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
            parts = request_line.split(" ")
            if len(parts) != 3 or not parts[2].startswith("HTTP/"):
                response, method = Response(400, b"bad request\n"), "GET"
            else:
                method, target = parts[0].upper(), parts[1]
                response = await self.answer(method, target.split("?", 1)[0])
            await self._write(writer, response, head_only=method == "HEAD")
        except Exception:  # one bad request must not take the endpoint down
            log.exception("health endpoint: request failed")
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def answer(self, method: str, path: str) -> Response:
        """Route one request; separate from the socket handling so it can be tested directly."""
        if path not in ("/healthz", "/readyz", "/metrics", "/", *self.documents):
            return Response(404, b"not found\n")
        if method not in ("GET", "HEAD"):
            return Response(405, b"method not allowed\n")
        if path in self.documents:
            content_type, produce = self.documents[path]
            return Response(200, await asyncio.to_thread(produce), content_type)
        if path == "/healthz":
            return Response(200, b"ok\n")
        if path == "/readyz":
            ready, results = await asyncio.to_thread(self.readiness)
            body = json.dumps({"ready": ready, "checks": results}, indent=None).encode() + b"\n"
            return Response(200 if ready else 503, body, "application/json")
        if path == "/metrics":
            payload = await asyncio.to_thread(generate_latest, self.registry)
            return Response(200, payload, CONTENT_TYPE_LATEST)
        paths = " ".join(["/healthz", "/readyz", "/metrics", *self.documents])
        return Response(200, f"trade-monitor: {paths}\n".encode())

    def readiness(self) -> tuple[bool, dict[str, dict[str, object]]]:
        results: dict[str, dict[str, object]] = {}
        for name, check in self.checks.items():
            try:
                ok, detail = check()
            except Exception as exc:
                ok, detail = False, f"{type(exc).__name__}: {exc}"
            results[name] = {"ok": ok, "detail": detail}
        return all(bool(r["ok"]) for r in results.values()), results

    async def _write(self, writer: asyncio.StreamWriter, response: Response, head_only: bool) -> None:
        head = (
            f"HTTP/1.1 {response.status} {_REASONS.get(response.status, 'Status')}\r\n"
            f"Content-Type: {response.content_type}\r\n"
            f"Content-Length: {len(response.body)}\r\n"
            "Cache-Control: no-store\r\n"
            "Connection: close\r\n\r\n"
        )
        writer.write(head.encode("latin-1") + (b"" if head_only else response.body))
        await writer.drain()


def endpoint_for(address: str) -> Callable[[Daemon], WebServer]:
    """What `run --http ADDRESS` hands the daemon: the endpoint, built once the daemon exists."""
    host, port = parse_address(address)

    def build(daemon: Daemon) -> WebServer:
        from monitor.export import to_atom

        changes = ("application/atom+xml; charset=utf-8", lambda: to_atom(daemon.config, daemon.store))
        return WebServer(
            daemon.metrics.registry, daemon.readiness_checks(), host, port, {"/changes.atom": changes}
        )

    return build
