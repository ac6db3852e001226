"""`trade-monitor export`: the watchlist with its verdicts, as JSON, CSV, an iCalendar file or an Atom feed.

JSON is the complete record (every commitment with status, progress, evidence and history) for scripts
and archives; CSV is one row per commitment for spreadsheets; ICS puts due dates and the end dates of
time-limited measures in users' calendars, with a reminder, because an expiring suspension is exactly
what they want to hear about in time. Dates moved by evidence (a new due date, an extension) win over
the dates announced in the config. Atom is a feed of the latest status changes, so any feed reader can
follow the verdicts the way users of change-detection tools ask for.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from monitor.config import Commitment, Config
from monitor.store import CommitmentRow, EvidenceRow, SourceRow, StatusChangeRow, Store, as_utc, utcnow
from monitor.tracking import official_positions

FORMATS = ("json", "csv", "ics", "atom")
CSV_COLUMNS = (
    "id", "title", "party", "category", "status", "status_since", "announced", "effective", "due", "ends",
    "target_value", "target_unit", "progress_value", "progress_percent", "evidence_count",
    "last_evidence_at", "last_evidence_link", "link",
)  # fmt: skip


def iso(value: dt.date | dt.datetime | None) -> str | None:
    """A date or an aware UTC datetime in ISO 8601, None kept as None (JSON null)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return (as_utc(value) or value).isoformat()
    return value.isoformat()


def _evidence(ev: EvidenceRow) -> dict[str, Any]:
    return {
        "signal": ev.signal,
        "confidence": round(float(ev.confidence), 3),
        "title": ev.title,
        "link": ev.link,
        "source": ev.source_name,
        "publisher": ev.publisher,
        "official": ev.official,
        "official_party": ev.official_party,
        "published": iso(ev.published),
        "sentence": ev.sentence,
    }


def _change(c: StatusChangeRow) -> dict[str, Any]:
    return {"from": c.from_status, "to": c.to_status, "at": iso(c.at), "kind": c.kind, "reason": c.reason}


def commitment_record(
    c: Commitment,
    row: CommitmentRow | None,
    evidence: Sequence[EvidenceRow],
    changes: Sequence[StatusChangeRow],
) -> dict[str, Any]:
    """One commitment as the promise (from the config) plus the verdict and its record (from the store)."""
    progress: dict[str, Any] | None = None
    if c.target is not None:
        value = row.progress_value if row is not None else None
        progress = {
            "value": value,
            "target": c.target.value,
            "unit": c.target.unit,
            "percent": round(100.0 * value / c.target.value, 1) if value is not None else None,
            "at": iso(row.progress_at) if row is not None else None,
            "link": row.progress_link if row is not None else None,
        }
    return {
        "id": c.id,
        "title": c.title,
        "party": c.party,
        "category": c.category,
        "description": c.description,
        "announced": iso(c.announced),
        "effective": iso(c.effective),
        "due": iso(c.due),
        "ends": iso(c.ends),
        "new_due": iso(row.new_due) if row is not None else None,
        "extended_until": iso(row.extended_until) if row is not None else None,
        "link": c.link,
        "status": row.status if row is not None else "pending",
        "status_since": iso(row.status_since) if row is not None else None,
        "archived": bool(row.archived) if row is not None else False,
        "progress": progress,
        "last_evidence_at": iso(row.last_evidence_at) if row is not None else None,
        "last_evidence_link": row.last_evidence_link if row is not None else None,
        "stated_by": list(c.stated_by),
        "official_positions": {p: _evidence(e) for p, e in sorted(official_positions(evidence).items())},
        "evidence": [_evidence(e) for e in evidence],
        "history": [_change(ch) for ch in changes],
    }


def build_records(config: Config, store: Store) -> list[dict[str, Any]]:
    """Every commitment of the config, in watchlist order."""
    rows = {r.id: r for r in store.commitments(include_archived=True)}
    out = []
    for c in config.commitments:
        changes, evidence = store.history(c.id)
        out.append(commitment_record(c, rows.get(c.id), evidence, changes))
    return out


STATUS_HEADERS = (
    "COMMITMENT",
    "STATUS",
    "SINCE",
    "LAST EVIDENCE",
    "DUE/ENDS",
    "PROGRESS",
    "UNCONFIRMED",
    "SIDES",
)
STATUS_KEYS = tuple(h.lower().replace(" ", "_").replace("/", "_") for h in STATUS_HEADERS)


@dataclass
class StatusLine:
    """One commitment's `status` record, and the evidence behind its unconfirmed and sides columns."""

    record: dict[str, str | None]
    waiting: EvidenceRow | None
    positions: dict[str, EvidenceRow]

    @property
    def status(self) -> str:
        return str(self.record["status"])


def status_lines(
    config: Config,
    rows: Mapping[str, CommitmentRow],
    evidence_of: Mapping[str, Sequence[EvidenceRow]],
    commitments: Sequence[Commitment] | None = None,
) -> list[StatusLine]:
    """What `status` and `status --json` print, so the web board and its API report exactly what the
    command line does (the board passes rows it already loaded, and may ask for some commitments)."""
    from monitor.tracking import awaiting_corroboration

    out = []
    policy = config.watchlist.policy
    for c in config.commitments if commitments is None else commitments:
        r = rows.get(c.id)
        status = r.status if r else "pending"
        since = f"{as_utc(r.status_since):%Y-%m-%d}" if r and r.status_since else "-"
        last = f"{as_utc(r.last_evidence_at):%Y-%m-%d}" if r and r.last_evidence_at else "-"
        dates = " / ".join(x for x in (str(c.due or ""), str(c.ends or "")) if x) or "-"
        progress = "-"
        if c.target and r and r.progress_value is not None:
            share = 100 * r.progress_value / c.target.value
            progress = f"{r.progress_value:g}/{c.target.value:g} {c.target.unit} ({share:.0f}%)"
        evidence = evidence_of.get(c.id, ())
        waiting = awaiting_corroboration(r, evidence, policy.min_confidence) if r else None
        note = f"{waiting.signal} ({waiting.publisher or waiting.source_name})" if waiting else "-"
        positions = dict(sorted(official_positions(evidence).items()))
        sides = ", ".join(f"{p}: {e.signal}" for p, e in positions.items())
        if c.stated_by:
            sides = f"{sides}; " if sides else ""
            sides += f"stated by {'/'.join(c.stated_by)} only"
        values = [c.id, status, since, last, dates, progress, note, sides or "-"]
        # "-" is how the table shows "nothing"; in JSON that is null, so scripts need not know our glyph
        record = {k: None if v == "-" else v for k, v in zip(STATUS_KEYS, values, strict=True)}
        out.append(StatusLine(record, waiting, positions))
    return out


def status_report(config: Config, store: Store) -> list[dict[str, str | None]]:
    """The `status --json` records, straight from the store."""
    rows, evidence = store.board_state()
    return [line.record for line in status_lines(config, rows, evidence)]


def to_json(records: Sequence[dict[str, Any]], generated_at: dt.datetime | None = None) -> str:
    doc = {"generated_at": (generated_at or utcnow()).isoformat(), "commitments": list(records)}
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def to_csv(records: Sequence[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in records:
        progress = r["progress"] or {}
        writer.writerow(
            {
                **{k: r.get(k) for k in CSV_COLUMNS if k in r},
                "target_value": progress.get("target"),
                "target_unit": progress.get("unit"),
                "progress_value": progress.get("value"),
                "progress_percent": progress.get("percent"),
                "evidence_count": len(r["evidence"]),
            }
        )
    return buf.getvalue()


def to_ics(
    records: Sequence[dict[str, Any]], generated_at: dt.datetime | None = None, reminder_days: int = 7
) -> bytes:
    """All-day events for each due date and each end of a time-limited measure, with a reminder.

    UIDs are stable (commitment id and kind), so re-importing or subscribing updates events instead of
    duplicating them when a date moves.
    """
    from icalendar import Alarm, Calendar, Event

    stamp = generated_at or utcnow()
    cal = Calendar()
    cal.add("prodid", "-//trade-monitor//commitment deadlines//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "trade-monitor deadlines")
    for r in records:
        dates = (
            ("due", r["new_due"] or r["due"], "Due"),
            ("ends", r["extended_until"] or r["ends"], "Ends"),
        )
        for kind, when, word in dates:
            if not when:
                continue
            day = dt.date.fromisoformat(when)
            event = Event()
            event.add("uid", f"{r['id']}-{kind}@trade-monitor")
            event.add("dtstamp", stamp)
            event.add("summary", f"{word}: {r['title']}")
            event.add("dtstart", day)
            event.add("dtend", day + dt.timedelta(days=1))
            event.add("transp", "TRANSPARENT")
            event.add("categories", [r["category"], r["party"]])
            moved = (
                " (moved by evidence)"
                if (kind == "due" and r["new_due"]) or (kind == "ends" and r["extended_until"])
                else ""
            )
            lines = [f"{r['id']}: status {r['status']}{moved}.", r["description"] or ""]
            if r["last_evidence_link"]:
                lines.append(f"Latest evidence: {r['last_evidence_link']}")
            event.add("description", "\n".join(x for x in lines if x))
            if r["link"]:
                event.add("url", r["link"])
            if reminder_days > 0:
                alarm = Alarm()
                alarm.add("action", "DISPLAY")
                alarm.add("description", f"{word} in {reminder_days} days: {r['title']}")
                alarm.add("trigger", dt.timedelta(days=-reminder_days))
                event.add_component(alarm)
            cal.add_component(event)
    data: bytes = cal.to_ical()
    return data


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(value: str) -> str:
    """XML 1.0 cannot carry most control characters at all, escaped or not (an operator's note may)."""
    return _NOT_XML.sub("", value)


DEFAULT_BASE_URL = "http://127.0.0.1:8787"
_URL_NOISE = re.compile(r"[\x00-\x20\x7f-\x9f]")
_WEB_URL = re.compile(r"https?://[^/?#\\]+", re.IGNORECASE)  # a scheme we allow and a host


def web_link(value: str | None) -> str | None:
    """``value`` if it is an http(s) link, else None.

    An allow-list of schemes, checked after removing every character a browser drops from a URL
    (tabs, newlines and other controls anywhere, spaces at the ends), so ``java\tscript:`` and
    `` javascript:`` are refused like ``javascript:`` itself.
    """
    cleaned = _URL_NOISE.sub("", value or "")
    return cleaned if _WEB_URL.match(cleaned) else None


def commitment_url(base_url: str, commitment_id: str) -> str:
    return f"{base_url.rstrip('/')}/commitments/{quote(commitment_id, safe='')}"


def _change_summary(change: StatusChangeRow, title: str) -> str:
    was, now = change.from_status.replace("_", " "), change.to_status.replace("_", " ")
    how = "set by an operator" if change.kind == "manual" else f"on {change.kind.replace('_', ' ')}"
    lines = [f"{title}: status moved from {was} to {now} ({how}, {iso(change.at)})."]
    if change.reason:
        lines.append(change.reason)
    return "\n".join(lines)


def to_atom(
    config: Config,
    store: Store,
    now: dt.datetime | None = None,
    limit: int = 100,
    base_url: str = DEFAULT_BASE_URL,
) -> bytes:
    """The latest status changes, newest first, as an Atom feed (RFC 4287).

    Each entry's alternate link is its commitment's page on the board; evidence links go out as related
    links only when they are http(s). ElementTree escapes all text. (feedgen 1.0 was tried: it drops the
    ``rel`` of entry links, which turns related links into duplicate alternates.)
    """
    from xml.etree import ElementTree as ET

    atom = "http://www.w3.org/2005/Atom"
    ET.register_namespace("", atom)

    def add(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{atom}}}{tag}", attrs)
        element.text = text
        return element

    base = base_url.rstrip("/")
    changes = store.recent_changes(limit)
    links = store.evidence_link_map([i for c in changes for i in c.evidence_id_list])
    titles = {c.id: c.title for c in config.commitments}
    feed = ET.Element(f"{{{atom}}}feed")
    add(feed, "id", f"{base}/changes.atom")
    add(feed, "title", "trade-monitor: status changes")
    add(add(feed, "author"), "name", "trade-monitor")
    add(feed, "link", rel="self", href=f"{base}/changes.atom", type="application/atom+xml")
    add(feed, "link", rel="alternate", href=f"{base}/", type="text/html")
    newest = as_utc(changes[0].at) if changes else None
    add(feed, "updated", iso(newest or as_utc(now) or utcnow()))
    for change in changes:
        title = _xml_text(titles.get(change.commitment_id, change.commitment_id))
        entry = add(feed, "entry")
        words = f"{change.to_status.replace('_', ' ')} (was {change.from_status.replace('_', ' ')})"
        add(entry, "id", f"urn:trade-monitor:change:{change.id}")
        add(entry, "title", f"{title}: {words}")
        add(entry, "updated", iso(change.at))
        add(entry, "link", rel="alternate", type="text/html", href=commitment_url(base, change.commitment_id))
        for link in [links[i] for i in change.evidence_id_list if i in links][:5]:
            safe = web_link(link)
            if safe:
                add(entry, "link", rel="related", href=safe)
        add(entry, "category", term=change.commitment_id)
        add(entry, "summary", _xml_text(_change_summary(change, title)), type="text")
    data: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return data


def render(
    fmt: str,
    config: Config,
    store: Store,
    now: dt.datetime | None = None,
    base_url: str = DEFAULT_BASE_URL,
) -> bytes:
    """The export in one of `FORMATS`, as bytes ready to write."""
    if fmt == "atom":
        return to_atom(config, store, now, base_url=base_url)
    records = build_records(config, store)
    if fmt == "json":
        return to_json(records, now).encode()
    if fmt == "csv":
        return to_csv(records).encode()
    if fmt == "ics":
        return to_ics(records, now, reminder_days=max(config.alerts.reminder_days, default=7))
    raise ValueError(f"unknown export format {fmt!r} (use one of {', '.join(FORMATS)})")


def source_state(row: SourceRow) -> str:
    """One word or phrase for a feed's health, as `sources` and the board show it."""
    if not row.enabled:
        return f"disabled ({row.disabled_reason})" if row.disabled_reason else "disabled"
    if row.consecutive_failures:
        return f"failing x{row.consecutive_failures}"
    return "ok" if row.last_success_at else "new"


def source_record(row: SourceRow) -> dict[str, Any]:
    """A feed's state as `sources --json` prints it; the board's /api/sources adds to it."""
    return {
        "name": row.name,
        "url": row.url,
        "state": source_state(row),
        "last_success": iso(row.last_success_at),
        "last_error": row.error_message,
        "error_kind": row.error_kind,
        "failing_since": iso(row.failing_since),
        "consecutive_failures": row.consecutive_failures,
        "next_poll": iso(row.next_poll_at),
        "entries_seen": row.entries_seen,
        "official": row.official,
    }
