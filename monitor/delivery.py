"""Delivery: turns tracking events into outbox alerts and hands them to Apprise, exactly once where possible.

Three parts, so that "sent once" is a property of the design rather than luck:

- `Alerter.enqueue` runs inside the transaction that records the status change: routing, muting and
  rendering happen there, and each alert is inserted with an idempotency key
  ``(commitment change or event key, route)``, so a change yields its alerts once whatever happens later.
- `Deliverer.deliver_due` claims due alerts (a lease with an owner id), applies the per-route policy
  (mute, snooze, quiet hours, rate limit folding) in the claim transaction, then sends each alert to the
  Apprise targets of its route with a two-phase protocol per target:

  1. commit ``delivery.state = 'sending'`` with a fresh ``attempt_id`` BEFORE the send;
  2. send through Apprise, read the per-service `NotifyResult` of the `AppriseResult`;
  3. commit ``sent`` or ``failed`` for that attempt id (a stale attempt id is ignored: fencing).

  A row found still ``sending`` when its alert is claimed again belongs to a worker that died mid-send:
  the receiver may or may not have the message. ``alerts.on_unknown_outcome`` decides: ``resend``
  (default: never lost; a duplicate is possible only if the crash fell between the receiver accepting
  and step 3, and that copy carries the same ``Idempotency-Key`` header and ``X-Trade-Monitor-Redelivery:
  1`` so a receiver can drop it) or ``give_up`` (never twice; the alert is marked ``unknown`` and an ops
  alert says so). No protocol can do better against a receiver that ignores idempotency keys: the
  receiver's acceptance and our commit are two separate durable events.

- `Digester` builds daily and weekly digests as ordinary outbox alerts, idempotent per route and period.

Failed targets are retried alone, with exponential backoff and jitter, until ``alerts.retry_max_age``;
then the alert is ``failed`` (see ``trade-monitor alerts``) and an operator alert goes to the ops tag.

Bodies come from one Jinja2 template per alert kind (monitor/templates/KIND.j2) rendered three times:
plain text, Markdown and HTML. Every ``{{ expression }}`` is escaped for the format by the environment's
``finalize`` and has its whitespace collapsed, so feed text can neither become live markup nor forge
lines of the message. Secrets: Apprise URLs carry tokens; only `NotifyTarget.redacted` and a hash of the
URL are stored or logged, and Apprise's own log lines are scrubbed before they reach an error column.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import html
import json
import logging
import os
import random
import re
import socket
import sys
import uuid
import zoneinfo
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TextIO
from urllib.parse import quote, urlsplit

import jinja2
import markupsafe
from sqlmodel import Session, col, select

from monitor.config import AlertsSettings, Config, NotifyTarget, Route
from monitor.observability import MASK, secrets_of_url
from monitor.store import AlertRow, DeliveryRow, DigestItemRow, Store, add_alert_once, as_utc
from monitor.tracking import TrackEvent

log = logging.getLogger("monitor.delivery")

STATUS_WORDS = {
    "pending": "Pending",
    "in_progress": "In progress",
    "fulfilled": "Fulfilled",
    "delayed": "Delayed",
    "broken": "Broken",
    "expired": "Expired",
}
FORMATS = ("text", "markdown", "html")
SUBJECT_MAX = 100
LEASE_SECONDS = 120.0
SEND_TIMEOUT = 30.0
# Our severities as Apprise's notify types, so a receiver (and the icon or colour a service shows) can
# tell a broken commitment from routine news.
NOTIFY_TYPES = {"critical": "failure", "warning": "warning", "notice": "success", "info": "info"}
MAX_BACKOFF = 3600.0
# Alert states: pending -> sent | failed | unknown; held (quiet hours, snooze, rate limit) -> pending path;
# digest (waits for a digest) -> digested; folded (carried by a burst alert); muted; skipped (replay).
CLAIMABLE = ("pending", "held")
KNOWN_KINDS = (
    "status_change",
    "unconfirmed",
    "progress",
    "pace",
    "extension",
    "disputed",
    "reminder",
    "ops",
    "digest",
    "burst",
    "test",
)

# --- escaping ------------------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~=^$&])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _flat(value: object) -> str:
    """Feed text on one line: a newline inside a headline must not forge a line such as 'Why: ...'."""
    return " ".join(_CONTROL.sub(" ", str(value)).split())


def escape_markdown(text: str) -> str:
    """Feed text shown verbatim: no markup, links or HTML from a publisher survive into the alert."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def escape_for(fmt: str, value: object) -> str:
    """The one escaping rule per body format; used by the template environments' ``finalize``."""
    text = _flat(value)
    if fmt == "markdown":
        return escape_markdown(text)
    if fmt == "html":
        return html.escape(text, quote=True)
    return text


class Safe(markupsafe.Markup):
    """Text already escaped (or markup built from escaped parts) for the format being rendered.

    A `Markup` subclass so Jinja's autoescape machinery passes it (and macro output) through untouched;
    the escaping itself is ours, per format, in `escape_for`. Only ever built from finished strings.
    """

    __slots__ = ()


def _is_web_link(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not re.search(r"[\s<>\"'`]", url)


def _helpers(fmt: str) -> dict[str, Any]:
    """Markup helpers for templates: the only way a template produces bold, links or quotes."""

    def esc(value: object) -> str:
        return value if isinstance(value, markupsafe.Markup) else escape_for(fmt, value)

    def b(value: object) -> Safe:
        return Safe({"markdown": f"**{esc(value)}**", "html": f"<b>{esc(value)}</b>"}.get(fmt, esc(value)))

    def em(value: object) -> Safe:
        return Safe({"markdown": f"*{esc(value)}*", "html": f"<i>{esc(value)}</i>"}.get(fmt, esc(value)))

    def quote_(value: object) -> Safe:
        if fmt == "markdown":
            return Safe(f"> {esc(value)}")
        if fmt == "html":
            return Safe(f"<blockquote>{esc(value)}</blockquote>")
        return Safe(f'"{esc(value)}"')

    def link(url: object) -> Safe:
        """A report's link is clickable only if it is a plain http(s) URL; anything else stays text."""
        text = _flat(url)
        if fmt == "markdown":
            return Safe(f"<{text}>" if _is_web_link(text) else escape_markdown(text))
        if fmt == "html":
            if _is_web_link(text):
                href = html.escape(text, quote=True)
                return Safe(f'<a href="{href}">{href}</a>')
            return Safe(html.escape(text))
        return Safe(text)

    return {
        "b": b,
        "em": em,
        "quote": quote_,
        "link": link,
        "li": Safe({"markdown": "- ", "html": "&bull; "}.get(fmt, "- ")),
        "indent": Safe({"html": "&nbsp;&nbsp;"}.get(fmt, "  ")),
    }


@lru_cache(maxsize=4)
def _environment(fmt: str) -> jinja2.Environment:
    def finalize(value: object) -> object:
        if value is None:
            return Safe("")
        # Macro output is Markup (already escaped by this same rule); anything else is escaped here.
        return value if isinstance(value, markupsafe.Markup) else Safe(escape_for(fmt, value))

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("monitor", "templates"),
        # autoescape makes Jinja treat macro output as safe markup; finalize does the per-format escaping
        # first, so Jinja's own HTML escaping never sees a plain string.
        autoescape=True,
        finalize=finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.globals.update(_helpers(fmt))
    return env


def _render_block(fmt: str, template_name: str, block: str, context: Mapping[str, Any]) -> str:
    template = _environment(fmt).get_template(template_name)
    ctx = template.new_context(dict(context))
    return "".join(template.blocks[block](ctx))


def _tidy(text: str, fmt: str) -> str:
    lines = [line.rstrip() for line in text.strip("\n").splitlines()]
    out: list[str] = []
    for line in lines:  # at most one blank line in a row
        if line or (out and out[-1]):
            out.append(line)
    if fmt == "html":
        return "<br>\n".join(out).replace("</blockquote><br>", "</blockquote>")
    return "\n".join(out)


@dataclass(frozen=True)
class RenderedAlert:
    """One alert in every format: the subject is plain text (lock-screen sized), the bodies per format."""

    subject: str
    text: str
    markdown: str
    html: str

    @property
    def body(self) -> str:
        return self.markdown

    def for_format(self, fmt: str) -> str:
        return {"text": self.text, "markdown": self.markdown, "html": self.html}.get(fmt, self.text)


def render(kind: str, context: Mapping[str, Any]) -> RenderedAlert:
    """Render ``templates/KIND.j2`` (or ``generic.j2``) as subject + three bodies."""
    name = f"{kind}.j2" if kind in KNOWN_KINDS else "generic.j2"
    subject = _flat(_render_block("text", name, "subject", context))
    if len(subject) > SUBJECT_MAX:
        subject = subject[: SUBJECT_MAX - 1].rstrip() + "…"
    bodies = {fmt: _tidy(_render_block(fmt, name, "body", context), fmt) for fmt in FORMATS}
    return RenderedAlert(subject, bodies["text"], bodies["markdown"], bodies["html"])


def _short_title(title: str, limit: int = 60) -> str:
    """Lock screens show about one line: the commitment's title, cut at a word boundary."""
    title = _flat(title)
    if len(title) <= limit:
        return title
    return title[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def event_context(event: TrackEvent) -> dict[str, Any]:
    c = event.commitment
    change = event.change
    evidence = []
    for ev in event.evidence[:5]:
        when = as_utc(ev.published)
        evidence.append(
            {
                "title": ev.title or "(untitled)",
                "source": ev.source_name or ev.publisher or "unknown source",
                "date": f"{when:%Y-%m-%d}" if when else "",
                "link": ev.link or "",
                "sentence": ev.sentence or "",
            }
        )
    return {
        "kind": event.kind,
        "kind_word": event.kind.replace("_", " ").capitalize(),
        "severity": event.severity,
        "c": {
            "id": c.id,
            "title": c.title,
            "party": c.party,
            "category": c.category,
            "due": str(c.due) if c.due else "",
            "ends": str(c.ends) if c.ends else "",
        },
        "short": _short_title(c.title),
        "old": STATUS_WORDS.get(change.from_status, change.from_status) if change else "",
        "new": STATUS_WORDS.get(change.to_status, change.to_status) if change else "",
        "status": STATUS_WORDS.get(
            str(event.details.get("status", "")), str(event.details.get("status", ""))
        ),
        "overdue": bool(event.details.get("overdue")),
        "expired": bool(event.details.get("expired")),
        "reason": event.reason,
        "evidence": evidence,
        "details": dict(event.details),
    }


def render_event(event: TrackEvent) -> RenderedAlert:
    """Subject that reads on a phone lock screen; bodies with the why and the evidence."""
    return render(event.kind, event_context(event))


def target_hash(target: NotifyTarget) -> str:
    """Identifies a target in the database without storing its URL (which holds tokens)."""
    return hashlib.sha256(target.url.encode()).hexdigest()[:16]


# --- routing and enqueue ---------------------------------------------------------------------------------


def _local(now: dt.datetime, tz: str) -> dt.datetime:
    return now.astimezone(zoneinfo.ZoneInfo(tz))


def _snooze_until(
    settings: AlertsSettings, commitment_id: str | None, now: dt.datetime
) -> dt.datetime | None:
    """A snooze until D holds alerts to the start of D+1 in the alerts time zone."""
    if commitment_id is None or commitment_id not in settings.snooze:
        return None
    until = settings.snooze[commitment_id]
    tz = zoneinfo.ZoneInfo(settings.timezone)
    release = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), tzinfo=tz).astimezone(dt.UTC)
    return release if release > now else None


def _muted(settings: AlertsSettings, commitment_id: str | None, now: dt.datetime) -> bool:
    if commitment_id is None or commitment_id not in settings.mute:
        return False
    return _local(now, settings.timezone).date() <= settings.mute[commitment_id]


SUMMARY_ITEMS = 20


def capped_list(items: Sequence[str], rest_hint: str, limit: int = SUMMARY_ITEMS) -> str:
    """A summary names its first items and counts the rest: one alert about 3,000 deadlines was 250 KB,
    which no mail client or chat shows, so the full list stays where the user can query it."""
    shown = "; ".join(items[:limit])
    if len(items) <= limit:
        return shown
    return f"{shown}; and {len(items) - limit} more ({rest_hint})"


class Alerter:
    """Routes and renders events into outbox rows, inside the caller's transaction."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.settings = config.alerts

    def routes_for(self, kind: str, severity: str, commitment_id: str | None) -> list[Route]:
        """Every route whose match accepts the alert (so a broken change can reach an urgent route as well
        as the general one); the default route when none does."""
        commitment = None
        if commitment_id is not None:
            try:
                commitment = self.config.commitment(commitment_id)
            except KeyError:
                commitment = None
        chosen = []
        for route in self.settings.routes:
            m = route.match
            if m.kinds and kind not in m.kinds:
                continue
            if m.severities and severity not in m.severities:
                continue
            if m.commitments and (commitment is None or commitment.id not in m.commitments):
                continue
            if m.categories and (commitment is None or commitment.category not in m.categories):
                continue
            if m.parties and (commitment is None or commitment.party not in m.parties):
                continue
            chosen.append(route)
        if not chosen:
            chosen = [self.default_route()]
        return chosen

    def default_route(self) -> Route:
        return Route(name="default", tags=list(self.settings.default_tags))

    def enqueue(self, session: Session, events: Sequence[TrackEvent], now: dt.datetime) -> list[AlertRow]:
        """One outbox row per (event, route), in the caller's transaction; returns the rows added.

        Dates that passed before trade-monitor began watching produce one summary instead of an alert
        each: on a first start the tool has read nothing from that period, so it has no news to tell.
        """
        out = []
        unwitnessed = [e for e in events if e.details.get("unwitnessed")]
        # An unverified date is noted once, ever: a marker row per date (folded into its summary)
        # keeps the daily check from repeating it, and a later summary names only new dates.
        noted = {e.key for e in unwitnessed if e.key and _alert_exists(session, e.key)}
        unwitnessed = [e for e in unwitnessed if e.key not in noted]
        if unwitnessed:
            lines = []
            for e in unwitnessed:
                status = e.change.to_status if e.change else "overdue, unverified"
                lines.append(f"{e.commitment.id} {status} ({e.reason.split(': overdue')[0]})")
            # keyed by the dates themselves: the daily check finding the same unread dates adds nothing
            keys = sorted(e.key or f"change:{e.change.id if e.change else ''}" for e in unwitnessed)
            summary = self.enqueue_ops(
                session,
                "unwitnessed:" + hashlib.sha256("|".join(keys).encode()).hexdigest()[:16],
                f"Now watching: {len(unwitnessed)} dates had passed before monitoring began",
                "No reports from before monitoring began were read for these, so the calendar alone does "
                "not judge them: `trade-monitor backfill` reads that past, `trade-monitor set-status` "
                "corrects one by hand: " + capped_list(lines, "`trade-monitor status` lists them all"),
                now,
                severity="info",
            )
            out += [summary] if summary is not None else []
            for e in unwitnessed:
                if e.key and summary is not None:
                    marker = AlertRow(key=e.key, kind=e.kind, commitment_id=e.commitment.id, route="ops")
                    marker.state, marker.folded_into, marker.subject = "folded", summary.id, e.reason[:200]
                    add_alert_once(session, marker)
        for event in events:
            if event.details.get("unwitnessed"):
                continue
            if event.kind == "unconfirmed" and not (
                self.settings.unconfirmed or self.config.watchlist.policy.alert_unconfirmed
            ):
                continue
            base_key = event.key or (f"change:{event.change.id}" if event.change is not None else "")
            if not base_key:
                continue
            rendered = render_event(event)
            muted = _muted(self.settings, event.commitment.id, now)
            for route in self.routes_for(event.kind, event.severity, event.commitment.id):
                state = "pending"
                if muted:
                    state = "muted"  # kept, so `trade-monitor alerts` shows what a mute swallowed
                elif route.mode == "digest":
                    state = "digest"
                alert = AlertRow(
                    key=f"{base_key}:{route.name}",
                    kind=event.kind,
                    severity=event.severity,
                    commitment_id=event.commitment.id,
                    change_id=event.change.id if event.change is not None else None,
                    route=route.name,
                    tags=json.dumps(sorted(route.tags)),
                    subject=rendered.subject,
                    body=rendered.markdown,
                    body_text=rendered.text,
                    body_html=rendered.html,
                    payload=json.dumps(
                        {
                            "commitment": event.commitment.id,
                            "from": event.change.from_status if event.change else None,
                            "to": event.change.to_status if event.change else None,
                            "links": [e.link for e in event.evidence if e.link],
                        }
                    ),
                    mode=route.mode,
                    state=state,
                    in_digest=route.mode in ("digest", "both") and not muted,
                    created_at=now,
                    next_attempt_at=now,
                )
                added = add_alert_once(session, alert)
                if added is not None:
                    out.append(added)
        return out

    def enqueue_ops(
        self, session: Session, key: str, subject: str, body: str, now: dt.datetime, severity: str = "warning"
    ) -> AlertRow | None:
        """Operator alerts (failing sources, undeliverable alerts) go to the ops tag, bypassing routes."""
        rendered = render("ops", {"ops_subject": subject, "ops_body": body})
        return add_alert_once(
            session,
            AlertRow(
                key=key,
                kind="ops",
                severity=severity,
                route="ops",
                tags=json.dumps([self.settings.ops_tag]),
                subject=rendered.subject,
                body=rendered.markdown,
                body_text=rendered.text,
                body_html=rendered.html,
                created_at=now,
                next_attempt_at=now,
            ),
        )


# --- policy: quiet hours and rate limits ---------------------------------------------------------------


def quiet_release(route: Route | None, severity: str, now: dt.datetime, tz: str) -> dt.datetime | None:
    """When ``now`` falls in the route's quiet hours, the UTC time they end; else None."""
    if route is None or route.quiet_hours is None or severity in route.quiet_hours.except_severities:
        return None
    q = route.quiet_hours
    local = _local(now, tz)
    t = local.time().replace(tzinfo=None)
    if q.start == q.end:
        return None
    wraps = q.start > q.end
    inside = (q.start <= t or t < q.end) if wraps else (q.start <= t < q.end)
    if not inside:
        return None
    end_day = local.date()
    if wraps and t >= q.start:
        end_day += dt.timedelta(days=1)
    end = dt.datetime.combine(end_day, q.end, tzinfo=zoneinfo.ZoneInfo(tz))
    return end.astimezone(dt.UTC)


def backoff_seconds(attempts: int, initial: float, rng: Callable[[], float] = random.random) -> float:
    """Exponential backoff with jitter (50-100% of the step), so failed targets do not retry in lockstep."""
    step = min(MAX_BACKOFF, float(initial) * 2.0 ** max(0, attempts - 1))
    return float(step * (0.5 + 0.5 * rng()))


def _owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# --- sending -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SendResult:
    """One target's outcome, with an error text that is safe to store (no URL secrets)."""

    ok: bool
    error: str | None = None


def scrub(text: str, url: str) -> str:
    """Remove every secret-looking fragment of ``url`` from ``text`` (an Apprise log line, an exception)."""
    for frag in sorted(secrets_of_url(url), key=len, reverse=True):
        text = text.replace(frag, MASK)
    return text


def _with_headers(url: str, headers: Mapping[str, str]) -> str:
    """Apprise takes extra HTTP/SMTP headers as ``+Name=value`` URL arguments (json, xml, form, mailto)."""
    scheme = url.split("://", 1)[0].lower()
    if not headers or scheme not in ("json", "jsons", "xml", "xmls", "form", "forms", "mailto", "mailtos"):
        return url
    extra = "&".join(f"+{quote(k, safe='-')}={quote(v, safe='')}" for k, v in headers.items())
    return f"{url}{'&' if '?' in url else '?'}{extra}"


def target_format(target: NotifyTarget) -> str:
    """The body format the target renders natively (Apprise's ``?format=`` wins), so nothing is converted."""
    import apprise

    plugin = apprise.Apprise.instantiate(target.url)
    if plugin is None:
        return "text"
    try:
        fmt = plugin.resolve_format()
    except Exception:  # an older plugin API: fall back to the declared format
        fmt = plugin.notify_format
        fmt = fmt[0] if isinstance(fmt, tuple) else fmt
    return str(getattr(fmt, "value", fmt))


async def send_one(
    target: NotifyTarget,
    subject: str,
    rendered: RenderedAlert | str,
    headers: Mapping[str, str] | None = None,
    severity: str = "info",
) -> SendResult:
    """One Apprise target, one attempt, read from the per-service result of Apprise's `AppriseResult`."""
    import apprise

    if isinstance(rendered, str):
        rendered = RenderedAlert(subject, rendered, rendered, html.escape(rendered))
    fmt = await asyncio.to_thread(target_format, target)
    apobj = apprise.Apprise()
    if not apobj.add(_with_headers(target.url, headers or {})):
        return SendResult(False, "Apprise rejected the URL")
    try:
        result = await apobj.async_notify(
            body=rendered.for_format(fmt),
            title=subject,
            body_format=fmt,
            notify_type=NOTIFY_TYPES.get(severity, "info"),
            timeout=SEND_TIMEOUT,
        )
    except Exception as exc:  # a plugin bug must not stop the worker
        return SendResult(False, scrub(f"{type(exc).__name__}: {exc}", target.url)[:300])
    try:
        services = list(getattr(result, "results", ()))
        if not services:
            return SendResult(bool(result), None if result else "no service was notified")
        service = services[0]
        if service:
            return SendResult(True)
        problems = [
            str(getattr(entry, "message", entry))
            for entry in service.logs()
            if str(getattr(entry, "level", "WARNING")).upper() in ("WARNING", "ERROR", "CRITICAL")
        ]
        status = getattr(service.status, "name", str(service.status))
        detail = scrub(str(problems[-1]), target.url) if problems else "the service did not accept it"
        return SendResult(False, f"{status}: {detail}"[:300])
    finally:
        close = getattr(result, "close", None)
        if callable(close):
            close()


class _ScrubApprise(logging.Filter):
    """Apprise logs request URLs at DEBUG; keep the tokens of configured targets out of every log line."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def filter(self, record: logging.LogRecord) -> bool:
        if self.urls:
            message = record.getMessage()
            for url in self.urls:
                message = scrub(message, url)
            record.msg, record.args = message, ()
        return True


_SCRUBBER = _ScrubApprise()
logging.getLogger("apprise").addFilter(_SCRUBBER)


# --- the worker ----------------------------------------------------------------------------------------


@dataclass
class _Planned:
    alert_id: int
    redelivery: dict[str, bool]
    attempt_ids: dict[str, str]


class Deliverer:
    """Sends due outbox alerts; several workers may run at once (leases with owner ids, fenced attempts)."""

    def __init__(
        self,
        store: Store,
        config: Config,
        console: TextIO | None = None,
        rng: Callable[[], float] = random.random,
        concurrency: int = 8,
    ) -> None:
        self.store = store
        self.config = config
        self.console = console if console is not None else sys.stdout
        self.rng = rng
        self.concurrency = concurrency
        self.owner = _owner_id()
        _SCRUBBER.urls = [t.url for t in config.notify_targets]

    @property
    def settings(self) -> AlertsSettings:
        return self.config.alerts

    def route(self, name: str) -> Route | None:
        for r in self.config.alerts.routes:
            if r.name == name:
                return r
        return None

    def targets_for(self, alert: AlertRow) -> list[NotifyTarget]:
        """Targets carrying one of the alert's tags (or ``all``); untagged targets take untagged alerts,
        and alerts whose tags no target carries fall back to the untagged targets (or all of them)."""
        tags = set(alert.tag_list)
        targets = list(self.config.notify_targets)
        if not tags:
            untagged = [t for t in targets if not t.tags or "all" in t.tags]
            return untagged or targets
        chosen = [t for t in targets if t.tags & tags or "all" in t.tags]
        if not chosen:  # a tag no target carries must not make an alert undeliverable
            chosen = [t for t in targets if not t.tags] or targets
        return chosen

    # --- recovery --------------------------------------------------------------------------------

    def recover(self) -> int:
        """Release leases of dead workers on this host at once (instead of waiting for them to expire).

        Deliveries they left ``sending`` stay so: the next claim treats them as unknown outcomes.
        """
        host = socket.gethostname()
        released = 0
        with self.store.session() as s:
            rows = s.exec(
                select(AlertRow)
                .where(col(AlertRow.lease_owner).is_not(None))
                .where(col(AlertRow.state).in_(CLAIMABLE))
            ).all()
            for row in rows:
                h, _, rest = (row.lease_owner or "").partition(":")
                pid = rest.split(":", 1)[0]
                if h == host and pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)):
                    row.lease_owner, row.lease_until = None, None
                    s.add(row)
                    released += 1
        return released

    # --- claim -----------------------------------------------------------------------------------

    async def deliver_due(self, now: dt.datetime, limit: int = 100) -> int:
        """Send every alert whose time has come; returns how many were fully delivered."""
        alert_ids = await asyncio.to_thread(self._claim, now, limit)
        if not alert_ids:
            return 0
        # Alerts of one commitment go out in order; different commitments in parallel.
        groups: dict[str, list[int]] = defaultdict(list)
        for alert_id, group in alert_ids:
            groups[group].append(alert_id)
        gate = asyncio.Semaphore(self.concurrency)

        async def run(ids: list[int]) -> int:
            done = 0
            async with gate:
                for alert_id in ids:
                    done += int(await self._deliver(alert_id, now))
            return done

        return sum(await asyncio.gather(*(run(ids) for ids in groups.values())))

    def _claim(self, now: dt.datetime, limit: int) -> list[tuple[int, str]]:
        """Lease due alerts and apply route policy in one transaction; returns (alert id, order group)."""
        with self.store.session() as s:
            query = (
                select(AlertRow)
                .where(col(AlertRow.state).in_(CLAIMABLE))
                .where((col(AlertRow.next_attempt_at).is_(None)) | (col(AlertRow.next_attempt_at) <= now))
                .where((col(AlertRow.lease_until).is_(None)) | (col(AlertRow.lease_until) <= now))
                .order_by(col(AlertRow.id))
                .limit(limit)
            )
            if self.store.is_postgres:
                query = query.with_for_update(skip_locked=True)
            rows = list(s.exec(query).all())
            sendable: list[AlertRow] = []
            for row in rows:
                if self._hold_or_drop(row, now):
                    s.add(row)
                else:
                    sendable.append(row)
            sendable = self._rate_limit(s, sendable, now)
            out = []
            for row in sendable:
                row.lease_owner = self.owner
                row.lease_until = now + dt.timedelta(seconds=LEASE_SECONDS)
                row.first_attempt_at = row.first_attempt_at or now
                row.held_reason = None
                if row.state == "held":
                    row.state = "pending"
                s.add(row)
                s.flush()
                out.append((row.id or 0, row.commitment_id or f"alert:{row.id}"))
            return out

    def _hold_or_drop(self, row: AlertRow, now: dt.datetime) -> bool:
        """Mute, snooze and quiet hours, decided at send time so a config edit applies to queued alerts."""
        if row.kind in ("ops", "test"):
            return False
        if row.attempts == 0 and _muted(self.settings, row.commitment_id, now):
            row.state, row.held_reason = "muted", f"muted until {self.settings.mute[row.commitment_id or '']}"
            return True
        release = _snooze_until(self.settings, row.commitment_id, now)
        reason = "snoozed"
        if release is None:
            release = quiet_release(self.route(row.route), row.severity, now, self.settings.timezone)
            reason = "quiet hours"
        if release is not None:
            row.state, row.next_attempt_at, row.held_reason = (
                "held",
                release,
                f"{reason} until {release:%H:%M} UTC",
            )
            return True
        return False

    def _rate_limit(self, s: Session, rows: list[AlertRow], now: dt.datetime) -> list[AlertRow]:
        """Per route at most ``max`` messages per ``per`` seconds; a burst beyond that becomes one message."""
        by_route: dict[str, list[AlertRow]] = defaultdict(list)
        out: list[AlertRow] = []
        for row in rows:
            route = self.route(row.route)
            if (
                route is None
                or route.rate_limit is None
                or row.attempts > 0
                or row.kind in ("digest", "burst")
            ):
                out.append(row)
            else:
                by_route[row.route].append(row)
        for name, fresh in by_route.items():
            limit = self.route(name).rate_limit  # type: ignore[union-attr]
            assert limit is not None
            window_start = now - dt.timedelta(seconds=limit.per)
            recent = list(
                s.exec(
                    select(AlertRow.first_attempt_at)
                    .where(AlertRow.route == name)
                    .where(col(AlertRow.first_attempt_at) > window_start)
                    .where(col(AlertRow.state).not_in(["folded", "digest", "digested", "muted"]))
                ).all()
            )
            allowed = limit.max - len(recent)
            if len(fresh) <= allowed:
                out += fresh
                continue
            if allowed <= 0:
                oldest = min((as_utc(r) or now) for r in recent) if recent else now
                release = oldest + dt.timedelta(seconds=limit.per)
                for row in fresh:
                    row.state, row.next_attempt_at = "held", release
                    row.held_reason = f"rate limit: {limit.max} per {limit.per:g}s"
                    s.add(row)
                continue
            out.append(self._fold(s, name, fresh, now))
        return out

    def _fold(self, s: Session, route: str, rows: list[AlertRow], now: dt.datetime) -> AlertRow:
        """Replace a burst by one alert carrying them all; members are marked folded in the same commit."""
        member_bodies = [
            {"text": r.body_text or r.body, "markdown": r.body, "html": r.body_html} for r in rows
        ]
        bodies = {}
        for fmt in FORMATS:
            items = [
                {"subject": r.subject, "body": Safe(b[fmt])} for r, b in zip(rows, member_bodies, strict=True)
            ]
            bodies[fmt] = _tidy(_render_block(fmt, "burst.j2", "body", {"route": route, "items": items}), fmt)
        subject = _flat(
            _render_block(
                "text",
                "burst.j2",
                "subject",
                {"route": route, "items": [{"subject": r.subject} for r in rows]},
            )
        )
        severities = ["info", "notice", "warning", "critical"]
        burst = AlertRow(
            key=f"burst:{route}:{rows[0].id}-{rows[-1].id}:{len(rows)}",
            kind="burst",
            severity=max(
                (r.severity for r in rows), key=lambda x: severities.index(x) if x in severities else 0
            ),
            route=route,
            tags=rows[0].tags,
            subject=subject[:SUBJECT_MAX],
            body=bodies["markdown"],
            body_text=bodies["text"],
            body_html=bodies["html"],
            payload=json.dumps({"folded": [r.id for r in rows]}),
            created_at=now,
            next_attempt_at=now,
        )
        s.add(burst)
        s.flush()
        for r in rows:
            r.state, r.folded_into, r.lease_owner, r.lease_until = "folded", burst.id, None, None
            s.add(r)
        return burst

    # --- deliver ---------------------------------------------------------------------------------

    async def _deliver(self, alert_id: int, now: dt.datetime) -> bool:
        alert = await asyncio.to_thread(self._load, alert_id)
        if alert is None:
            return False
        if not self.config.notify_targets:
            self.console.write(f"\n[alert] {alert.subject}\n{alert.body_text or alert.body}\n")
            self.console.flush()
            await asyncio.to_thread(self._begin, alert_id, {}, now)  # targets removed since: obsolete
            return await asyncio.to_thread(self._finish_console, alert_id, now)
        targets = {target_hash(t): t for t in self.targets_for(alert)}
        plan = await asyncio.to_thread(self._begin, alert_id, targets, now)
        if plan is None:
            return False
        rendered = RenderedAlert(
            alert.subject,
            alert.body_text or alert.body,
            alert.body,
            alert.body_html or html.escape(alert.body),
        )

        async def one(h: str) -> tuple[str, SendResult]:
            headers = {
                "Idempotency-Key": idempotency_key(alert.key, h),
                "X-Trade-Monitor-Attempt": plan.attempt_ids[h],
            }
            if plan.redelivery.get(h):
                headers["X-Trade-Monitor-Redelivery"] = "1"
            return h, await send_one(targets[h], alert.subject, rendered, headers, alert.severity)

        results = dict(await asyncio.gather(*(one(h) for h in plan.attempt_ids)))
        return await asyncio.to_thread(self._finish, alert_id, now, results, plan, len(targets))

    def _load(self, alert_id: int) -> AlertRow | None:
        with self.store.session() as s:
            alert = s.get(AlertRow, alert_id)
            if alert is None or alert.lease_owner != self.owner:
                return None
            return alert

    def _begin(self, alert_id: int, targets: Mapping[str, NotifyTarget], now: dt.datetime) -> _Planned | None:
        """Phase 1: every target still to be sent is marked 'sending' with a fresh attempt id, committed
        before any byte leaves; rows already 'sending' are unknown outcomes of a dead worker."""
        with self.store.session() as s:
            alert = s.get(AlertRow, alert_id)
            if alert is None or alert.lease_owner != self.owner:
                return None
            rows = {
                d.target_hash: d for d in s.exec(select(DeliveryRow).where(DeliveryRow.alert_id == alert_id))
            }
            plan = _Planned(alert_id, {}, {})
            for h, row in rows.items():
                if h not in targets and row.state in ("pending", "failed", "sending"):
                    # the target left notify.yaml (a fixed URL, a removed channel): nothing more to do there
                    row.state, row.last_error = "obsolete", "target no longer configured"
                    s.add(row)
            for h, target in targets.items():
                row = rows.get(h) or DeliveryRow(alert_id=alert_id, target_hash=h, target=target.redacted)
                if row.state in ("sent", "unknown"):
                    continue
                if row.state == "failed" and row.attempts:
                    # a failed attempt may still have arrived (a receiver slower than the send timeout
                    # answers after we gave up), so every resend says it may be a repeat
                    plan.redelivery[h] = True
                if row.state == "sending":
                    row.redeliveries += 1
                    if self.settings.on_unknown_outcome == "give_up":
                        row.state = "unknown"
                        row.last_error = "worker stopped during the send; outcome unknown, not resent"
                        s.add(row)
                        continue
                    plan.redelivery[h] = True
                row.state, row.attempt_id, row.sending_at = "sending", uuid.uuid4().hex, now
                row.attempts += 1
                s.add(row)
                plan.attempt_ids[h] = row.attempt_id
            return plan

    def _finish(
        self,
        alert_id: int,
        now: dt.datetime,
        results: Mapping[str, SendResult],
        plan: _Planned | None,
        target_count: int,
    ) -> bool:
        """Phase 2: record each target's result for our attempt id, then the alert's state."""
        with self.store.session() as s:
            alert = self._end_attempt(s, alert_id)
            if alert is None:
                return False
            if plan is not None:
                for h, res in results.items():
                    row = s.exec(
                        select(DeliveryRow)
                        .where(DeliveryRow.alert_id == alert_id)
                        .where(DeliveryRow.target_hash == h)
                    ).first()
                    if row is None or row.attempt_id != plan.attempt_ids.get(h):
                        continue  # another worker took this over: its attempt decides
                    row.state = "sent" if res.ok else "failed"
                    row.last_error = res.error
                    row.sent_at = now if res.ok else None
                    s.add(row)
            deliveries = [
                d
                for d in s.exec(select(DeliveryRow).where(DeliveryRow.alert_id == alert_id)).all()
                if d.state != "obsolete"
            ]
            failed = [d for d in deliveries if d.state in ("failed", "sending")]
            unknown = [d for d in deliveries if d.state == "unknown"]
            if self.config.notify_targets and target_count == 0:
                alert.state = "failed"
                alert.last_error = "no notification target matches this alert's tags"
                self._ops_for(s, alert, now)
            elif failed:
                alert.last_error = "; ".join(f"{d.target}: {d.last_error}" for d in failed)[:2000]
                age = (now - (as_utc(alert.created_at) or now)).total_seconds()
                if age >= self.settings.retry_max_age:
                    alert.state = "failed"
                    self._ops_for(s, alert, now)
                else:
                    delay = backoff_seconds(alert.attempts, self.settings.retry_initial, self.rng)
                    alert.next_attempt_at = now + dt.timedelta(seconds=delay)
            elif unknown:
                alert.state = "unknown"
                alert.last_error = "; ".join(f"{d.target}: {d.last_error}" for d in unknown)[:2000]
                self._ops_for(s, alert, now)
            else:
                alert.state, alert.sent_at, alert.last_error = "sent", now, None
            s.add(alert)
            return alert.state == "sent"

    def _finish_console(self, alert_id: int, now: dt.datetime) -> bool:
        """``urls: []`` prints alerts instead of sending them; the alert says so ('console'), so nothing
        that reached no target is ever recorded as sent."""
        with self.store.session() as s:
            alert = self._end_attempt(s, alert_id)
            if alert is None:
                return False
            alert.state, alert.sent_at, alert.last_error = "console", now, None
            s.add(alert)
            return True

    def _end_attempt(self, s: Session, alert_id: int) -> AlertRow | None:
        """The alert, if this worker still holds its lease, with the attempt counted and the lease given
        back; None when another worker took it over (its attempt decides)."""
        alert = s.get(AlertRow, alert_id)
        if alert is None or alert.lease_owner != self.owner:
            return None
        alert.attempts += 1
        alert.lease_owner, alert.lease_until = None, None
        return alert

    def _ops_for(self, s: Session, alert: AlertRow, now: dt.datetime) -> None:
        if alert.kind == "ops":
            log.error("operator alert %s could not be delivered: %s", alert.key, alert.last_error)
            return
        Alerter(self.config).enqueue_ops(
            s,
            f"undeliverable:{alert.key}",
            f"Alert not delivered: {alert.subject}",
            f"Alert {alert.id} ({alert.kind}, route {alert.route}) is {alert.state}: {alert.last_error}",
            now,
            severity="critical" if alert.severity == "critical" else "warning",
        )


def idempotency_key(alert_key: str, t_hash: str) -> str:
    """Stable across retries and redeliveries of one alert to one target; reveals nothing of either."""
    return hashlib.sha256(f"{alert_key}\x00{t_hash}".encode()).hexdigest()[:32]


# --- digests -------------------------------------------------------------------------------------------

_WEEKDAY_INDEX = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


def digest_schedules(settings: AlertsSettings) -> dict[str, tuple[int | None, int, int]]:
    """``{kind: (weekday or None, hour, minute)}``; a digest route with no schedule gets daily at 08:00
    rather than holding its alerts forever."""
    out: dict[str, tuple[int | None, int, int]] = {}
    if settings.digests.daily is not None:
        out["daily"] = (None, settings.digests.daily.hour, settings.digests.daily.minute)
    if settings.digests.weekly is not None:
        day, hm = settings.digests.weekly.split()
        hour, minute = hm.split(":")
        out["weekly"] = (_WEEKDAY_INDEX[day], int(hour), int(minute))
    if not out and any(r.mode in ("digest", "both") for r in settings.routes):
        out["daily"] = (None, 8, 0)
    return out


def last_period_end(
    kind: str, schedule: tuple[int | None, int, int], now: dt.datetime, tz: str
) -> dt.datetime:
    """The most recent scheduled digest time at or before ``now`` (local wall clock, DST-aware)."""
    weekday, hour, minute = schedule
    zone = zoneinfo.ZoneInfo(tz)
    local = _local(now, tz)
    candidate = dt.datetime.combine(local.date(), dt.time(hour, minute), tzinfo=zone)
    if weekday is None:
        if candidate > local:
            candidate = dt.datetime.combine(
                local.date() - dt.timedelta(days=1), dt.time(hour, minute), tzinfo=zone
            )
    else:
        back = (local.weekday() - weekday) % 7
        candidate = dt.datetime.combine(
            local.date() - dt.timedelta(days=back), dt.time(hour, minute), tzinfo=zone
        )
        if candidate > local:
            candidate -= dt.timedelta(days=7)
            candidate = dt.datetime.combine(candidate.date(), dt.time(hour, minute), tzinfo=zone)
    return candidate.astimezone(dt.UTC)


class Digester:
    """Builds digests as outbox alerts: one per route, kind and period, each alert carried once per kind."""

    def __init__(self, store: Store, config: Config) -> None:
        self.store = store
        self.config = config

    def routes(self) -> list[Route]:
        return [r for r in self.config.alerts.routes if r.mode in ("digest", "both")]

    def build_due(self, now: dt.datetime) -> list[AlertRow]:
        """Every digest whose latest period has ended and has not been built yet; safe to call often
        (the daemon calls it on its cron jobs and once at start, to catch up on a digest it missed)."""
        out: list[AlertRow] = []
        settings = self.config.alerts
        for kind, schedule in digest_schedules(settings).items():
            end = last_period_end(kind, schedule, now, settings.timezone)
            out += self.build(kind, end, now)
        return out

    def build(self, kind: str, period_end: dt.datetime, now: dt.datetime) -> list[AlertRow]:
        settings = self.config.alerts
        local_end = _local(period_end, settings.timezone)
        if kind == "weekly":
            iso = local_end.isocalendar()
            label = f"{iso.year}-W{iso.week:02d}"
            since = local_end - dt.timedelta(days=7)
        else:
            label = f"{local_end:%Y-%m-%d}"
            since = local_end - dt.timedelta(days=1)
        out = []
        with self.store.session() as s:
            for route in self.routes():
                key = f"digest:{kind}:{route.name}:{label}"
                if s.exec(select(AlertRow.id).where(AlertRow.key == key)).first() is not None:
                    continue
                done = select(DigestItemRow.alert_id).where(DigestItemRow.digest_kind == kind)
                members = list(
                    s.exec(
                        select(AlertRow)
                        .where(AlertRow.route == route.name)
                        .where(AlertRow.in_digest == True)  # noqa: E712
                        .where(col(AlertRow.created_at) <= period_end)
                        .where(col(AlertRow.id).not_in(done))
                        .order_by(col(AlertRow.created_at), col(AlertRow.id))
                    ).all()
                )
                if not members and not settings.digests.nothing_changed:
                    continue
                items = [
                    {
                        "when": f"{_local(as_utc(m.created_at) or now, settings.timezone):%m-%d %H:%M}",
                        "subject": m.subject,
                    }
                    for m in members
                ]
                ctx = {
                    "period_name": kind.capitalize(),
                    "period_label": label,
                    "route": route.name,
                    "items": items,
                    "since": f"{since:%Y-%m-%d %H:%M %Z}",
                }
                rendered = render("digest", ctx)
                digest = AlertRow(
                    key=key,
                    kind="digest",
                    severity="info",
                    route=route.name,
                    tags=json.dumps(sorted(route.tags)),
                    subject=rendered.subject,
                    body=rendered.markdown,
                    body_text=rendered.text,
                    body_html=rendered.html,
                    payload=json.dumps({"digest": kind, "period": label, "alerts": [m.id for m in members]}),
                    created_at=now,
                    next_attempt_at=now,
                )
                if add_alert_once(s, digest) is None:
                    continue
                for m in members:
                    s.add(DigestItemRow(digest_kind=kind, alert_id=m.id or 0, digest_alert_id=digest.id or 0))
                    if m.state == "digest":
                        m.state = "digested"
                        s.add(m)
                out.append(digest)
        return out


# --- helpers for the CLI -------------------------------------------------------------------------------


async def notify_test(
    config: Config, tag: str | None, now: dt.datetime
) -> list[tuple[NotifyTarget, SendResult]]:
    """A test message to each configured target (or those with ``tag``), outside the outbox."""
    rendered = render("test", {"when": f"{now:%Y-%m-%d %H:%M} UTC"})
    targets = [t for t in config.notify_targets if tag is None or tag in t.tags or "all" in t.tags]
    results = await asyncio.gather(*(send_one(t, rendered.subject, rendered) for t in targets))
    return list(zip(targets, results, strict=True))


def describe_route(route: Route) -> str:
    """One line for check-config: mode, quiet hours and rate limit of a route."""
    parts: list[str] = [route.mode]
    if route.quiet_hours is not None:
        q = route.quiet_hours
        parts.append(
            f"quiet {q.start:%H:%M}-{q.end:%H:%M}"
            + (f" except {','.join(q.except_severities)}" if q.except_severities else "")
        )
    if route.rate_limit is not None:
        parts.append(f"max {route.rate_limit.max}/{route.rate_limit.per:g}s")
    return ", ".join(parts)


def _alert_exists(session: Session, key: str) -> bool:
    return session.exec(select(AlertRow.id).where(AlertRow.key == key)).first() is not None
