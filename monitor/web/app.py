"""The Starlette application: the board's pages, its JSON API, the feed and the operational endpoints.

Database work runs in Starlette's thread pool (sync endpoints), so a slow query never stalls the
daemon's event loop, which also polls feeds and delivers alerts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from jinja2 import Environment, PackageLoader, select_autoescape
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from monitor.config import STATUSES, Config
from monitor.store import Store, utcnow
from monitor.web import views
from monitor.web.openapi import OPENAPI

log = logging.getLogger("monitor.web")

# A readiness check: a callable returning (ok, detail). Checks run in a worker thread.
ReadyCheck = Callable[[], tuple[bool, str]]
OPEN_PATHS = ("/healthz", "/readyz", "/login")
CSRF_COOKIE, SESSION_COOKIE = "tm_csrf", "tm_session"


@dataclass
class Board:
    """What the web layer reads: the running config (it changes on reload), the store, the metrics."""

    config: Callable[[], Config]
    store: Store
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    checks: Mapping[str, ReadyCheck] = field(default_factory=dict)

    def readiness(self) -> tuple[bool, dict[str, dict[str, object]]]:
        results: dict[str, dict[str, object]] = {}
        for name, check in self.checks.items():
            try:
                ok, detail = check()
            except Exception as exc:
                ok, detail = False, f"{type(exc).__name__}: {exc}"
            results[name] = {"ok": ok, "detail": detail}
        return all(bool(r["ok"]) for r in results.values()), results


def session_value(token: str) -> str:
    """The login cookie: derived from the token, so it is worthless once the token changes."""
    return hmac.new(token.encode(), b"trade-monitor board session", hashlib.sha256).hexdigest()


class Guard:
    """Host check on every request (DNS rebinding), and the token on every page beyond loopback."""

    def __init__(self, app: ASGIApp, hosts: Sequence[str], token: str | None, require_token: bool) -> None:
        self.app, self.hosts, self.token, self.require_token = app, set(hosts), token, require_token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        host = request.headers.get("host", "")
        try:
            name = urlsplit(f"//{host}").hostname or ""
        except ValueError:
            name = ""
        if name not in self.hosts and f"[{name}]" not in self.hosts:
            await PlainTextResponse("misdirected request: unknown Host\n", 421)(scope, receive, send)
            return
        if self.require_token and scope["path"] not in OPEN_PATHS and not authorised(request, self.token):
            if scope["path"].startswith(("/api", "/metrics", "/changes.atom")):
                response: Response = PlainTextResponse("token required\n", 401)
            else:
                response = RedirectResponse(f"/login?next={quote(scope['path'])}", 303)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def authorised(request: Request, token: str | None) -> bool:
    if not token:
        return False
    bearer = request.headers.get("authorization", "")
    if bearer.startswith("Bearer ") and hmac.compare_digest(bearer[7:].strip(), token):
        return True
    return hmac.compare_digest(request.cookies.get(SESSION_COOKIE, ""), session_value(token))


class Pages:
    """The routes; one instance per app, holding the board and the templates."""

    def __init__(self, board: Board, token: str | None, require_token: bool) -> None:
        self.board, self.token, self.require_token = board, token, require_token
        self.env = Environment(
            loader=PackageLoader("monitor", "templates/web"),
            autoescape=select_autoescape(default=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def render(self, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        html = self.env.get_template(name).render(statuses=STATUSES, words=views.STATUS_WORDS, **context)
        return HTMLResponse(html, status_code, headers=_NO_STORE)

    # --- pages --------------------------------------------------------------------------------------

    def overview(self, request: Request) -> Response:
        wanted = {k: request.query_params.get(k) or None for k in ("party", "category", "status")}
        try:
            page = int(request.query_params.get("page", "1"))
        except ValueError:
            page = 1
        view = views.overview_page(self.board.config(), self.board.store, wanted, page)
        query = "&".join(f"{k}={quote(v)}" for k, v in wanted.items() if v)
        return self.render("overview.html", wanted=wanted, query=query, **view)

    def commitment(self, request: Request) -> Response:
        detail = views.commitment_detail(self.board.config(), self.board.store, request.path_params["id"])
        if detail is None:
            return self.render("missing.html", 404, what=request.path_params["id"])
        csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
        response = self.render(
            "commitment.html",
            c=detail,
            csrf=csrf,
            override_enabled=bool(self.token),
            logged_in=authorised(request, self.token),
            done=request.query_params.get("done"),
        )
        response.set_cookie(CSRF_COOKIE, csrf, httponly=True, samesite="strict")
        return response

    def sources(self, request: Request) -> Response:
        return self.render("sources.html", sources=views.source_list(self.board.store))

    def alerts(self, request: Request) -> Response:
        return self.render("alerts.html", alerts=views.alert_list(self.board.store))

    async def override(self, request: Request) -> Response:
        """The manual set-status form: token, CSRF (double-submit cookie and Origin), then the history."""
        commitment_id = request.path_params["id"]
        form = await request.form()
        if not self.token:
            return PlainTextResponse("overrides need the board to run with a token\n", 403)
        origin = request.headers.get("origin")
        if origin and urlsplit(origin).netloc != request.headers.get("host"):
            return PlainTextResponse("cross-origin form refused\n", 403)
        sent = str(form.get("csrf", ""))
        cookie = request.cookies.get(CSRF_COOKIE, "")
        if not sent or not cookie or not hmac.compare_digest(sent, cookie):
            return PlainTextResponse("missing or wrong CSRF token: reload the page and try again\n", 403)
        if not authorised(request, self.token) and not hmac.compare_digest(
            str(form.get("token", "")), self.token
        ):
            return PlainTextResponse("wrong token\n", 403)
        status = str(form.get("status", ""))
        if status not in STATUSES:
            return PlainTextResponse(f"unknown status {status!r}\n", 400)
        note = str(form.get("note", "")).strip()[:500]
        from starlette.concurrency import run_in_threadpool

        changed = await run_in_threadpool(self._apply_override, commitment_id, status, note)
        if changed is None:
            return PlainTextResponse(f"no commitment {commitment_id!r}\n", 404)
        return RedirectResponse(f"/commitments/{quote(commitment_id)}?done={int(changed)}", 303)

    def _apply_override(self, commitment_id: str, status: str, note: str) -> bool | None:
        from monitor.delivery import Alerter
        from monitor.tracking import Tracker

        config = self.board.config()
        try:
            config.commitment(commitment_id)
        except KeyError:
            return None
        now = utcnow()
        with self.board.store.session() as session:
            tracker = Tracker(config.commitments, config.watchlist.policy)
            event = tracker.set_status(session, commitment_id, status, f"{note} (web board)".strip(), now)
            if event is not None:
                Alerter(config).enqueue(session, [event], now)
        log.info("%s set to %s on the web board", commitment_id, status, extra={"commitment": commitment_id})
        return event is not None

    def login_form(self, request: Request) -> Response:
        return self.render("login.html", next=_local_path(request.query_params.get("next")), failed=False)

    async def login(self, request: Request) -> Response:
        form = await request.form()
        target = _local_path(str(form.get("next", "/")))
        if not self.token or not hmac.compare_digest(str(form.get("token", "")), self.token):
            return self.render("login.html", 403, next=target, failed=True)
        response = RedirectResponse(target, 303)
        response.set_cookie(SESSION_COOKIE, session_value(self.token), httponly=True, samesite="strict")
        return response

    # --- API, feed and operations --------------------------------------------------------------------

    def api_commitments(self, request: Request) -> Response:
        return _json({"commitments": views.overview(self.board.config(), self.board.store)})

    def api_commitment(self, request: Request) -> Response:
        detail = views.commitment_detail(self.board.config(), self.board.store, request.path_params["id"])
        if detail is None:
            return _json({"error": f"no commitment {request.path_params['id']!r}"}, 404)
        return _json({key: value for key, value in detail.items() if key != "chart"})

    def api_sources(self, request: Request) -> Response:
        return _json({"sources": views.source_list(self.board.store)})

    def api_alerts(self, request: Request) -> Response:
        return _json({"alerts": views.alert_list(self.board.store)})

    def openapi(self, request: Request) -> Response:
        return _json(OPENAPI)

    def atom(self, request: Request) -> Response:
        from monitor.export import to_atom

        base = str(request.base_url).rstrip("/")
        body = to_atom(self.board.config(), self.board.store, base_url=base)
        return Response(body, media_type="application/atom+xml; charset=utf-8", headers=_NO_STORE)

    def healthz(self, request: Request) -> Response:
        return PlainTextResponse("ok\n", headers=_NO_STORE)

    def readyz(self, request: Request) -> Response:
        ready, results = self.board.readiness()
        return _json({"ready": ready, "checks": results}, 200 if ready else 503)

    def metrics(self, request: Request) -> Response:
        return Response(
            generate_latest(self.board.registry), media_type=CONTENT_TYPE_LATEST, headers=_NO_STORE
        )


_NO_STORE = {"Cache-Control": "no-store"}


def _json(doc: Any, status_code: int = 200) -> Response:
    body = json.dumps(doc, ensure_ascii=False, separators=(",", ":"), default=_default) + "\n"
    return Response(body, status_code, media_type="application/json", headers=_NO_STORE)


def _default(value: object) -> str:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def _local_path(value: str | None) -> str:
    """A redirect target on this board only (never another site)."""
    return value if value and value.startswith("/") and not value.startswith("//") else "/"


def build_app(board: Board, token: str | None, hosts: Sequence[str], require_token: bool) -> ASGIApp:
    pages = Pages(board, token, require_token)
    routes = [
        Route("/", pages.overview),
        Route("/commitments/{id}", pages.commitment),
        Route("/commitments/{id}/status", pages.override, methods=["POST"]),
        Route("/sources", pages.sources),
        Route("/alerts", pages.alerts),
        Route("/login", pages.login_form),
        Route("/login", pages.login, methods=["POST"]),
        Route("/api/commitments", pages.api_commitments),
        Route("/api/commitments/{id}", pages.api_commitment),
        Route("/api/sources", pages.api_sources),
        Route("/api/alerts", pages.api_alerts),
        Route("/api/openapi.json", pages.openapi),
        Route("/changes.atom", pages.atom),
        Route("/healthz", pages.healthz),
        Route("/readyz", pages.readyz),
        Route("/metrics", pages.metrics),
    ]
    return Guard(Starlette(routes=routes), hosts, token, require_token)
