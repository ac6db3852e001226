"""The daemon's web board and HTTP endpoint: Starlette served by uvicorn in the daemon's own event loop.

Off unless asked for (``run --http 127.0.0.1:8787`` or ``$TRADE_MONITOR_HTTP``), and bound to 127.0.0.1
unless an address says otherwise. Beyond loopback it refuses to start without a token
(``$TRADE_MONITOR_WEB_TOKEN`` or a file named by ``$TRADE_MONITOR_WEB_TOKEN_FILE``; never a command-line
argument, which any local user can read from the process list); every page but the health checks then
asks for it. The Host header is checked against the bound names whatever the address, so a page on
another site cannot reach the board through DNS rebinding.

- ``/healthz``: liveness. 200 while the event loop answers at all.
- ``/readyz``: readiness. 200 only when the database answers, the scheduler runs and a config is loaded.
- ``/metrics``: Prometheus text format from the daemon's own registry.
- ``/changes.atom``: the status changes as an Atom feed.
- ``/``, ``/commitments/{id}``, ``/sources``, ``/alerts``: the board; ``/api/...``: the same as JSON.

The daemon is handed this endpoint by the CLI (`endpoint_for`) and never imports it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import socket
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import uvicorn

from monitor.web.app import Board, ReadyCheck, build_app

if TYPE_CHECKING:
    from monitor.scheduler import Daemon

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "Board", "ReadyCheck", "WebError", "WebServer", "endpoint_for"]

log = logging.getLogger("monitor.web")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8787
TOKEN_ENV = "TRADE_MONITOR_WEB_TOKEN"
TOKEN_FILE_ENV = "TRADE_MONITOR_WEB_TOKEN_FILE"
HOSTS_ENV = "TRADE_MONITOR_WEB_HOSTS"
PATHS = "/ (board), /api, /changes.atom, /healthz, /readyz, /metrics"


class WebError(ValueError):
    """The endpoint cannot start as asked; the message is one line naming what is wrong."""


def parse_address(value: str) -> tuple[str, int]:
    """``HOST:PORT``, ``:PORT`` or ``PORT``; the host defaults to 127.0.0.1. Raises WebError."""
    value = value.strip()
    if value.startswith("["):  # [::1]:8787
        host, _, port = value[1:].partition("]:")
    elif value.count(":") == 1:
        host, _, port = value.partition(":")
    elif value.isdigit():
        host, port = "", value
    else:
        raise WebError(f"--http {value!r}: expected HOST:PORT, :PORT or PORT (e.g. 127.0.0.1:8787)")
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise WebError(f"--http {value!r}: the port must be a number from 0 to 65535")
    return host or DEFAULT_HOST, int(port)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def load_token(environ: Mapping[str, str] | None = None) -> str | None:
    """The board's token from the environment, or from the file the environment names."""
    env = os.environ if environ is None else environ
    if env.get(TOKEN_ENV, "").strip():
        return env[TOKEN_ENV].strip()
    path = env.get(TOKEN_FILE_ENV, "").strip()
    if not path:
        return None
    try:
        token = Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise WebError(f"${TOKEN_FILE_ENV} {path}: cannot read the token ({exc.strerror})") from exc
    if not token:
        raise WebError(f"${TOKEN_FILE_ENV} {path}: the file is empty")
    return token


def allowed_hosts(host: str, environ: Mapping[str, str] | None = None) -> list[str]:
    """The names a Host header may carry: the bound address, loopback names, and any listed in
    ``$TRADE_MONITOR_WEB_HOSTS``; on a wildcard address, this machine's own names too."""
    env = os.environ if environ is None else environ
    names = {host}
    if is_loopback(host):
        names |= {"localhost", "127.0.0.1", "::1", "[::1]"}
    if host in ("0.0.0.0", "::"):
        names |= {socket.gethostname(), socket.getfqdn(), "localhost", "127.0.0.1"}
    names |= {h.strip() for h in env.get(HOSTS_ENV, "").split(",") if h.strip()}
    names |= {f"[{n}]" for n in list(names) if ":" in n and not n.startswith("[")}
    return sorted(names)


def listen(host: str, port: int) -> socket.socket:
    """The listening socket, opened early so a taken port is a one-line error before anything starts."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit this: without it, a reply written in two parts waits for the
        # client's delayed ACK, some 40 ms on every request of a kept-alive connection.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
    except OSError as exc:
        with contextlib.suppress(UnboundLocalError):
            sock.close()
        raise WebError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(128)
    sock.setblocking(False)
    return sock


class _InLoopServer(uvicorn.Server):
    """uvicorn without its signal handlers: the daemon owns SIGTERM and SIGHUP and closes us itself."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class WebServer:
    """Serves the board until `close`; `port` is the bound port (useful with port 0)."""

    def __init__(
        self,
        board: Board,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        token: str | None = None,
        sock: socket.socket | None = None,
    ) -> None:
        if not is_loopback(host) and not token:
            raise WebError(
                f"refusing to serve on {host}, beyond loopback, without a token: "
                f"set ${TOKEN_ENV} or ${TOKEN_FILE_ENV}"
            )
        self.board = board
        self.host, self.port, self.token = host, port, token
        self.app = build_app(board, token, allowed_hosts(host), require_token=not is_loopback(host))
        self._server: _InLoopServer | None = None
        self._sock = sock
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> int:
        sock, self._sock = self._sock or listen(self.host, self.port), None
        self.port = int(sock.getsockname()[1])
        config = uvicorn.Config(
            self.app,
            log_config=None,
            lifespan="off",
            access_log=False,
            server_header=False,
            proxy_headers=False,
        )
        self._server = _InLoopServer(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]), name="web")
        while not self._server.started:
            if self._task.done():
                self._task.result()
                raise WebError(f"the web board on {self.url} stopped while starting")
            await asyncio.sleep(0.01)
        log.info("web board on %s: %s", self.url, PATHS)
        return self.port

    async def close(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._task, 10) if self._task else None
            self._server = None

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


def endpoint_for(address: str, environ: Mapping[str, str] | None = None) -> Callable[[Daemon], WebServer]:
    """What `run --http ADDRESS` hands the daemon. Address and token are checked here, before the daemon
    starts, so a mistake is one line on stderr rather than a half-started daemon."""
    host, port = parse_address(address)
    token = load_token(environ)
    if not is_loopback(host) and not token:
        raise WebError(
            f"--http {address}: refusing to serve beyond loopback without a token: "
            f"set ${TOKEN_ENV} or ${TOKEN_FILE_ENV}"
        )

    sock = listen(host, port)

    def build(daemon: Daemon) -> WebServer:
        board = Board(
            config=lambda: daemon.config,
            store=daemon.store,
            registry=daemon.metrics.registry,
            checks=daemon.readiness_checks(),
        )
        return WebServer(board, host, port, token, sock)

    return build
