"""Local endpoints that Apprise delivers to in tests and benchmarks, on 127.0.0.1 only.

- `JsonReceiver`: an HTTP server behind Apprise's ``json://`` that records every POST (headers and JSON
  body), can answer 500 to the first N requests, and can honour the ``Idempotency-Key`` header the way a
  careful webhook consumer does (a repeated key is answered 200 and recorded as a duplicate, not accepted
  again). It keeps both views, so a test can tell "arrived once" from "was posted once".
- `SmtpReceiver`: an aiosmtpd server behind ``mailto://`` that records each message as parsed email.

Both run in background threads, so sync tests, async tests and subprocesses can use them alike.
"""

from __future__ import annotations

import email
import email.message
import email.policy
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["JsonReceiver", "Post", "SmtpReceiver"]


@dataclass
class Post:
    """One request as the receiver saw it; header names are lower-case."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    status: int
    duplicate: bool = False

    @property
    def key(self) -> str | None:
        return self.headers.get("idempotency-key")

    @property
    def title(self) -> str:
        return str(self.body.get("title", ""))

    @property
    def message(self) -> str:
        return str(self.body.get("message", ""))


@dataclass
class JsonReceiver:
    """``json://127.0.0.1:PORT/PATH`` endpoint; see the module docstring."""

    fail_first: int = 0
    fail_status: int = 500
    honour_idempotency: bool = False
    delay: float = 0.0  # seconds to wait before answering: a receiver slower than the sender's timeout
    posts: list[Post] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _seen_keys: set[str] = field(default_factory=set)

    def __enter__(self) -> JsonReceiver:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {"_raw": raw.decode("utf-8", "replace")}
                headers = {k.lower(): v for k, v in self.headers.items()}
                if receiver.delay:
                    time.sleep(receiver.delay)
                status = receiver._answer(self.path, headers, body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client killed mid-request (the crash test does that on purpose) is not news

        self._server = Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _answer(self, path: str, headers: dict[str, str], body: dict[str, Any]) -> int:
        with self._lock:
            failed_so_far = sum(1 for p in self.posts if p.status >= 300)
            if failed_so_far < self.fail_first:
                self.posts.append(Post(path, headers, body, self.fail_status))
                return self.fail_status
            key = headers.get("idempotency-key")
            duplicate = key is not None and key in self._seen_keys
            if key is not None:
                self._seen_keys.add(key)
            self.posts.append(Post(path, headers, body, 200, duplicate=duplicate))
            return 200

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    def url(self, path: str = "/hook", query: str = "") -> str:
        return f"json://127.0.0.1:{self.port}{path}{'?' + query if query else ''}"

    @property
    def ok_posts(self) -> list[Post]:
        """Every 2xx request, duplicates included (what a receiver without idempotency would show)."""
        with self._lock:
            return [p for p in self.posts if p.status < 300]

    @property
    def accepted(self) -> list[Post]:
        """What a receiver honouring Idempotency-Key keeps: first arrival of each key."""
        with self._lock:
            return [p for p in self.posts if p.status < 300 and not (self.honour_idempotency and p.duplicate)]

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        """Poll until ``count`` 2xx posts arrived (synchronisation, never a timed assertion)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.ok_posts) >= count:
                return True
            time.sleep(0.01)
        return False


class SmtpReceiver:
    """An aiosmtpd SMTP server on 127.0.0.1; ``messages`` holds each received email, parsed."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._controller: Any = None
        self._port = 0

    def __enter__(self) -> SmtpReceiver:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        receiver = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                content = envelope.original_content or envelope.content
                if isinstance(content, str):
                    content = content.encode()
                msg = email.message_from_bytes(content, policy=email.policy.default)
                assert isinstance(msg, email.message.EmailMessage)
                receiver.messages.append(msg)
                receiver.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
                return "250 Message accepted for delivery"

        # aiosmtpd connects to its own port to confirm start-up, so it needs a real port number, not 0.
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self._port = int(probe.getsockname()[1])
        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self._port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def port(self) -> int:
        return self._port

    def url(self, to: str = "alerts@example.com", sender: str = "monitor@example.com") -> str:
        return f"mailto://127.0.0.1:{self.port}?from={sender}&to={to}&mode=insecure"

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.messages) >= count:
                return True
            time.sleep(0.01)
        return False
