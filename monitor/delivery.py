"""Delivery: turns tracking events into outbox alerts and hands them to Apprise.

Two halves, so that "sent exactly once" is a property of the design rather than luck:
- `Alerter.enqueue` runs inside the transaction that records the status change: routing and rendering
  happen there, and each alert is inserted with an idempotency key, so a change produces its alerts
  exactly once whatever happens afterwards;
- `Deliverer.deliver_due` claims pending alerts from the outbox, sends each to the Apprise targets of its
  route, records a result per target, and retries only the targets that failed, with backoff.

Feed text is untrusted: it is escaped for the Markdown body Apprise receives.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import random
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

from sqlmodel import Session, col, select

from monitor.config import Config, NotifyTarget, Route
from monitor.store import AlertRow, DeliveryRow, Store, add_alert_once, as_utc
from monitor.tracking import TrackEvent

STATUS_WORDS = {
    "pending": "Pending",
    "in_progress": "In progress",
    "fulfilled": "Fulfilled",
    "delayed": "Delayed",
    "broken": "Broken",
    "expired": "Expired",
}
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~])")


def escape_markdown(text: str) -> str:
    """Feed text shown verbatim: no markup, links or HTML from a publisher survive into the alert."""
    return _MD_SPECIAL.sub(r"\\\1", text.replace("&", "&amp;"))


def target_hash(target: NotifyTarget) -> str:
    return hashlib.sha256(target.url.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class RenderedAlert:
    subject: str
    body: str


def render_event(event: TrackEvent) -> RenderedAlert:
    """Subject that reads on a phone lock screen; body with the why and the evidence."""
    c = event.commitment
    if event.kind == "status_change" and event.change is not None:
        old, new = STATUS_WORDS[event.change.from_status], STATUS_WORDS[event.change.to_status]
        subject = f"{new}: {c.title} (was {old.lower()})"
        head = f"**{escape_markdown(c.title)}** moved from *{old}* to *{new}*."
    elif event.kind == "unconfirmed":
        subject = f"Unconfirmed: {c.title}"
        head = f"**{escape_markdown(c.title)}**: a single unconfirmed report."
    elif event.kind == "progress":
        subject = f"Progress: {c.title}"
        head = f"**{escape_markdown(c.title)}**: progress against the target."
    elif event.kind == "pace":
        subject = f"Behind pace: {c.title}"
        head = f"**{escape_markdown(c.title)}** is behind a pro-rated pace."
    elif event.kind == "extension":
        subject = f"Extended: {c.title}"
        head = f"**{escape_markdown(c.title)}** was extended."
    elif event.kind == "reminder":
        subject = f"Deadline soon: {c.title}"
        head = f"**{escape_markdown(c.title)}**: a deadline is near."
    else:
        subject = f"{event.kind.replace('_', ' ').capitalize()}: {c.title}"
        head = f"**{escape_markdown(c.title)}**"
    lines = [head, "", f"Why: {escape_markdown(event.reason)}"]
    if event.evidence:
        lines += ["", "Evidence:"]
        for ev in event.evidence[:5]:
            when = as_utc(ev.published)
            lines.append(
                f"- {escape_markdown(ev.title or '(untitled)')}: {escape_markdown(ev.source_name or ev.publisher)}"
                f"{f', {when:%Y-%m-%d}' if when else ''}"
            )
            if ev.link:
                lines.append(f"  {escape_markdown(ev.link)}")
            if ev.sentence:
                lines.append(f"  > {escape_markdown(ev.sentence)}")
    lines += ["", f"Commitment: {c.id} ({escape_markdown(c.party)}, {escape_markdown(c.category)})"]
    if c.due or c.ends:
        lines.append(f"Dates: {'due ' + str(c.due) if c.due else ''}{' ' if c.due and c.ends else ''}"
                     f"{'ends ' + str(c.ends) if c.ends else ''}")
    return RenderedAlert(subject[:200], "\n".join(lines))


class Alerter:
    """Routes and renders events into outbox rows, inside the caller's transaction."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.settings = config.alerts

    def routes_for(self, kind: str, severity: str, commitment_id: str | None) -> list[Route]:
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
            chosen = [Route(name="default", tags=list(self.settings.default_tags))]
        return chosen

    def enqueue(self, session: Session, events: Sequence[TrackEvent], now: dt.datetime) -> list[AlertRow]:
        out = []
        for event in events:
            if event.kind == "unconfirmed" and not (self.settings.unconfirmed or
                                                    self.config.watchlist.policy.alert_unconfirmed):
                continue
            muted = self.settings.mute.get(event.commitment.id)
            if muted is not None and now.date() <= muted:
                continue
            rendered = render_event(event)
            base_key = event.key or (f"change:{event.change.id}" if event.change is not None else "")
            if not base_key:
                continue
            for route in self.routes_for(event.kind, event.severity, event.commitment.id):
                alert = AlertRow(
                    key=f"{base_key}:{route.name}",
                    kind=event.kind,
                    severity=event.severity,
                    commitment_id=event.commitment.id,
                    change_id=event.change.id if event.change is not None else None,
                    route=route.name,
                    tags=json.dumps(sorted(route.tags)),
                    subject=rendered.subject,
                    body=rendered.body,
                    payload=json.dumps(
                        {
                            "commitment": event.commitment.id,
                            "from": event.change.from_status if event.change else None,
                            "to": event.change.to_status if event.change else None,
                            "links": [e.link for e in event.evidence if e.link],
                        }
                    ),
                    mode=route.mode,
                    created_at=now,
                    next_attempt_at=now,
                )
                added = add_alert_once(session, alert)
                if added is not None:
                    out.append(added)
        return out

    def enqueue_ops(self, session: Session, key: str, subject: str, body: str, now: dt.datetime,
                    severity: str = "warning") -> AlertRow | None:
        """Operator alerts (failing sources, undeliverable alerts) go to the ops tag."""
        return add_alert_once(
            session,
            AlertRow(key=key, kind="ops", severity=severity, route="ops",
                     tags=json.dumps([self.settings.ops_tag]), subject=subject, body=escape_markdown(body),
                     created_at=now, next_attempt_at=now),
        )


class Deliverer:
    """Sends pending outbox alerts; safe to run in several workers at once."""

    def __init__(self, store: Store, config: Config, console: TextIO | None = None) -> None:
        self.store = store
        self.config = config
        self.console = console if console is not None else sys.stdout

    def targets_for(self, alert: AlertRow) -> list[NotifyTarget]:
        tags = set(alert.tag_list)
        targets = list(self.config.notify_targets)
        if not tags:
            untagged = [t for t in targets if not t.tags or "all" in t.tags]
            return untagged or targets
        chosen = [t for t in targets if t.tags & tags or "all" in t.tags]
        if not chosen and alert.kind == "ops":
            chosen = [t for t in targets if not t.tags]
        return chosen

    async def deliver_due(self, now: dt.datetime, limit: int = 100) -> int:
        """Send every alert whose time has come; returns how many were fully delivered."""
        alerts = await asyncio.to_thread(self._claim, now, limit)
        delivered = 0
        for alert in alerts:
            if await self._deliver(alert, now):
                delivered += 1
        return delivered

    def _claim(self, now: dt.datetime, limit: int) -> list[AlertRow]:
        with self.store.session() as s:
            query = (
                select(AlertRow)
                .where(AlertRow.state == "pending")
                .where(AlertRow.mode != "digest")
                .where((col(AlertRow.next_attempt_at).is_(None)) | (col(AlertRow.next_attempt_at) <= now))
                .where((col(AlertRow.lease_until).is_(None)) | (col(AlertRow.lease_until) <= now))
                .order_by(col(AlertRow.id))
                .limit(limit)
            )
            if self.store.is_postgres:
                query = query.with_for_update(skip_locked=True)
            rows = list(s.exec(query).all())
            for row in rows:
                row.lease_until = now + dt.timedelta(seconds=120)
                s.add(row)
            return rows

    async def _deliver(self, alert: AlertRow, now: dt.datetime) -> bool:
        targets = self.targets_for(alert)
        if not self.config.notify_targets:
            self.console.write(f"\n[alert] {alert.subject}\n{alert.body}\n")
            self.console.flush()
            await asyncio.to_thread(self._finish, alert.id, now, [], None)
            return True
        done = {d.target_hash for d in self.store.deliveries(alert.id or 0) if d.state == "sent"}
        results: list[tuple[NotifyTarget, bool, str | None]] = []
        for target in targets:
            if target_hash(target) in done:
                continue
            ok, error = await send_one(target, alert.subject, alert.body)
            results.append((target, ok, error))
        await asyncio.to_thread(self._finish, alert.id, now, results, len(targets))
        return all(ok for _, ok, _ in results)

    def _finish(self, alert_id: int | None, now: dt.datetime,
                results: list[tuple[NotifyTarget, bool, str | None]], target_count: int | None) -> None:
        with self.store.session() as s:
            alert = s.get(AlertRow, alert_id)
            if alert is None:
                return
            alert.attempts += 1
            alert.lease_until = None
            failed = []
            for target, ok, error in results:
                h = target_hash(target)
                row = s.exec(select(DeliveryRow).where(DeliveryRow.alert_id == alert.id)
                             .where(DeliveryRow.target_hash == h)).first()
                row = row or DeliveryRow(alert_id=alert.id or 0, target_hash=h, target=target.redacted)
                row.attempts += 1
                row.state = "sent" if ok else "failed"
                row.last_error = error
                row.sent_at = now if ok else None
                s.add(row)
                if not ok:
                    failed.append(f"{target.redacted}: {error}")
            if target_count == 0:
                alert.state, alert.last_error = "failed", "no notification target matches this alert's route"
            elif failed:
                alert.last_error = "; ".join(failed)[:2000]
                age = (now - (as_utc(alert.created_at) or now)).total_seconds()
                if age > self.config.alerts.retry_max_age:
                    alert.state = "failed"
                else:
                    delay = min(3600.0, 10.0 * 2 ** min(alert.attempts, 12)) * random.uniform(0.8, 1.2)
                    alert.next_attempt_at = now + dt.timedelta(seconds=delay)
            else:
                alert.state, alert.sent_at, alert.last_error = "sent", now, None
            s.add(alert)


async def send_one(target: NotifyTarget, subject: str, body: str) -> tuple[bool, str | None]:
    """One Apprise target, one attempt; errors are reported with the target redacted."""
    import apprise

    apobj = apprise.Apprise()
    if not apobj.add(target.url):
        return False, "Apprise rejected the URL"
    try:
        ok = await apobj.async_notify(body=body, title=subject, body_format=apprise.NotifyFormat.MARKDOWN)
    except Exception as exc:  # a plugin bug must not stop the worker
        return False, type(exc).__name__
    return bool(ok), None if ok else "the service did not accept the notification"
