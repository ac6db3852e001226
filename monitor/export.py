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
from collections.abc import Sequence
from typing import Any

from monitor.config import Commitment, Config
from monitor.store import CommitmentRow, EvidenceRow, StatusChangeRow, Store, as_utc, utcnow
from monitor.tracking import official_positions

FORMATS = ("json", "csv", "ics", "atom")
CSV_COLUMNS = (
    "id", "title", "party", "category", "status", "status_since", "announced", "effective", "due", "ends",
    "target_value", "target_unit", "progress_value", "progress_percent", "evidence_count",
    "last_evidence_at", "last_evidence_link", "link",
)  # fmt: skip


def _iso(value: dt.date | dt.datetime | None) -> str | None:
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
        "published": _iso(ev.published),
        "sentence": ev.sentence,
    }


def _change(c: StatusChangeRow) -> dict[str, Any]:
    return {"from": c.from_status, "to": c.to_status, "at": _iso(c.at), "kind": c.kind, "reason": c.reason}


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
            "at": _iso(row.progress_at) if row is not None else None,
            "link": row.progress_link if row is not None else None,
        }
    return {
        "id": c.id,
        "title": c.title,
        "party": c.party,
        "category": c.category,
        "description": c.description,
        "announced": _iso(c.announced),
        "effective": _iso(c.effective),
        "due": _iso(c.due),
        "ends": _iso(c.ends),
        "new_due": _iso(row.new_due) if row is not None else None,
        "extended_until": _iso(row.extended_until) if row is not None else None,
        "link": c.link,
        "status": row.status if row is not None else "pending",
        "status_since": _iso(row.status_since) if row is not None else None,
        "archived": bool(row.archived) if row is not None else False,
        "progress": progress,
        "last_evidence_at": _iso(row.last_evidence_at) if row is not None else None,
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


def to_atom(config: Config, store: Store, now: dt.datetime | None = None, limit: int = 100) -> bytes:
    """The latest status changes as an Atom feed; ElementTree does the escaping of untrusted text."""
    from xml.etree import ElementTree as ET

    atom = "http://www.w3.org/2005/Atom"
    ET.register_namespace("", atom)
    changes = store.recent_changes(limit)
    titles = {c.id: c.title for c in config.commitments}
    feed = ET.Element(f"{{{atom}}}feed")
    ET.SubElement(feed, f"{{{atom}}}title").text = "trade-monitor: status changes"
    ET.SubElement(ET.SubElement(feed, f"{{{atom}}}author"), f"{{{atom}}}name").text = "trade-monitor"
    ET.SubElement(feed, f"{{{atom}}}id").text = "urn:trade-monitor:changes"
    newest = as_utc(changes[0].at) if changes else None
    ET.SubElement(feed, f"{{{atom}}}updated").text = _iso(newest or now or utcnow())
    for change in changes:
        entry = ET.SubElement(feed, f"{{{atom}}}entry")
        title = titles.get(change.commitment_id, change.commitment_id)
        words = f"{change.to_status.replace('_', ' ')} (was {change.from_status.replace('_', ' ')})"
        ET.SubElement(entry, f"{{{atom}}}title").text = _xml_text(f"{title}: {words}")
        ET.SubElement(entry, f"{{{atom}}}id").text = f"urn:trade-monitor:change:{change.id}"
        ET.SubElement(entry, f"{{{atom}}}updated").text = _iso(change.at)
        ET.SubElement(entry, f"{{{atom}}}category", term=change.commitment_id)
        for link in store.evidence_links(change.evidence_id_list)[:5]:
            ET.SubElement(entry, f"{{{atom}}}link", rel="related", href=link)
        ET.SubElement(entry, f"{{{atom}}}summary").text = _xml_text(f"{change.kind}: {change.reason}")
    data: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return data


def render(fmt: str, config: Config, store: Store, now: dt.datetime | None = None) -> bytes:
    """The export in one of `FORMATS`, as bytes ready to write."""
    if fmt == "atom":
        return to_atom(config, store, now)
    records = build_records(config, store)
    if fmt == "json":
        return to_json(records, now).encode()
    if fmt == "csv":
        return to_csv(records).encode()
    if fmt == "ics":
        return to_ics(records, now, reminder_days=max(config.alerts.reminder_days, default=7))
    raise ValueError(f"unknown export format {fmt!r} (use one of {', '.join(FORMATS)})")
