"""What the board's pages and API show, built from the config and the store.

Everything here is plain data (dicts of strings, numbers and lists) so the HTML templates and the JSON
API show the same thing; the per-commitment columns come from `export.status_lines`, the function behind
`status --json`, so the board cannot drift from the command line.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from html import escape
from typing import Any

from monitor.config import Commitment, Config
from monitor.export import commitment_record, iso, source_record, status_lines, web_link
from monitor.store import CommitmentRow, EvidenceRow, SourceRow, StatusChangeRow, Store, as_utc, utcnow
from monitor.tracking import expected_share

STATUS_WORDS = {
    "pending": "pending",
    "in_progress": "in progress",
    "fulfilled": "fulfilled",
    "delayed": "delayed",
    "broken": "broken",
    "expired": "expired",
}


def countdown(day: dt.date | None, today: dt.date) -> str:
    """'in 12 days', 'today', '3 days ago': how far a date is, in words."""
    if day is None:
        return ""
    left = (day - today).days
    if left == 0:
        return "today"
    unit = "day" if abs(left) == 1 else "days"
    return f"in {left} {unit}" if left > 0 else f"{-left} {unit} ago"


def _key_date(c: Commitment, row: CommitmentRow | None) -> tuple[str, dt.date | None]:
    """The date that matters next: the due date (moved by evidence if so), else the end of the measure."""
    due = (row.new_due if row else None) or c.due
    ends = (row.extended_until if row else None) or c.ends
    if due is not None:
        return "due", due
    if ends is not None:
        return "ends", ends
    return "", None


def _position(ev: EvidenceRow) -> dict[str, Any]:
    return {
        "signal": ev.signal,
        "published": iso(ev.published),
        "link": web_link(ev.link),
        "title": ev.title,
    }


def overview(config: Config, store: Store, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """One entry per commitment: the `status --json` record plus what the board adds around it."""
    now = now or utcnow()
    rows, evidence = store.board_state()
    return overview_from(config, rows, evidence, now)


def overview_from(
    config: Config,
    rows: Mapping[str, CommitmentRow],
    evidence_of: Mapping[str, Sequence[EvidenceRow]],
    now: dt.datetime,
    commitments: Sequence[Commitment] | None = None,
) -> list[dict[str, Any]]:
    out = []
    chosen = config.commitments if commitments is None else commitments
    for c, line in zip(chosen, status_lines(config, rows, evidence_of, chosen), strict=True):
        row, status, waiting = rows.get(c.id), line.record, line.waiting
        evidence = evidence_of.get(c.id, ())
        kind, day = _key_date(c, row)
        last = evidence[-1] if evidence else None  # the store orders evidence by publication
        out.append(
            {
                **status,
                "title": c.title,
                "party": c.party,
                "category": c.category,
                "status_word": STATUS_WORDS.get(line.status, line.status),
                "key_date_kind": kind,
                "key_date": iso(day),
                "countdown": countdown(day, now.date()),
                "last_evidence_day": (iso(last.published or last.created_at) or "")[:10] if last else None,
                "last_evidence_title": last.title if last else None,
                "last_evidence_link": web_link(last.link) if last else None,
                "unconfirmed_signal": (
                    {"signal": waiting.signal, "publisher": waiting.publisher or waiting.source_name}
                    if waiting
                    else None
                ),
                "positions": {p: _position(e) for p, e in line.positions.items()},
                "stated_by": list(c.stated_by),
                "url": f"/commitments/{c.id}",
            }
        )
    return out


PER_PAGE = 100


def overview_page(
    config: Config, store: Store, wanted: Mapping[str, str | None], page: int = 1, per_page: int = PER_PAGE
) -> dict[str, Any]:
    """One page of the overview: filtered on the cheap fields first, so only the commitments shown get
    their full record built (a page of 1,000 rows is neither quick to build nor to read)."""
    known = store.statuses()
    status_of = {c.id: known.get(c.id, "pending") for c in config.commitments}
    matched = [
        c
        for c in config.commitments
        if (not wanted.get("party") or c.party == wanted["party"])
        and (not wanted.get("category") or c.category == wanted["category"])
        and (not wanted.get("status") or status_of[c.id] == wanted["status"])
    ]
    pages = max(1, -(-len(matched) // per_page))
    page = min(max(1, page), pages)
    shown = matched[(page - 1) * per_page : page * per_page]
    rows, evidence = store.board_state(only=[c.id for c in shown])
    return {
        "items": overview_from(config, rows, evidence, utcnow(), shown),
        "total": len(config.commitments),
        "matched": len(matched),
        "page": page,
        "pages": pages,
        "parties": sorted({c.party for c in config.commitments}),
        "categories": sorted({c.category for c in config.commitments}),
        "counts": {s: sum(1 for v in status_of.values() if v == s) for s in STATUS_WORDS},
    }


def filter_overview(items: Sequence[dict[str, Any]], **wanted: str | None) -> list[dict[str, Any]]:
    """Items whose party, category and status equal the given values (empty values match all)."""
    return [i for i in items if all(not v or i.get(k) == v for k, v in wanted.items())]


def _corroboration(change: StatusChangeRow, by_id: dict[int, EvidenceRow]) -> dict[str, Any]:
    support = [by_id[i] for i in change.evidence_id_list if i in by_id]
    publishers = sorted({e.publisher or e.source_name for e in support})
    return {
        "evidence_ids": [e.id for e in support],
        "publishers": publishers,
        "official": any(e.official for e in support),
    }


def timeline(changes: Sequence[StatusChangeRow], evidence: Sequence[EvidenceRow]) -> list[dict[str, Any]]:
    """Status changes and evidence in one list, newest first; each change names what supported it."""
    by_id = {e.id: e for e in evidence if e.id is not None}
    counted = {i for c in changes for i in c.evidence_id_list}
    events: list[tuple[dt.datetime, int, dict[str, Any]]] = []
    item: dict[str, Any]
    floor = dt.datetime.min.replace(tzinfo=dt.UTC)
    for ch in changes:
        item = {
            "type": "change",
            "at": iso(ch.at),
            "from": ch.from_status,
            "to": ch.to_status,
            "to_word": STATUS_WORDS.get(ch.to_status, ch.to_status),
            "kind": ch.kind,
            "by_hand": ch.kind == "manual",
            "reason": ch.reason,
            "corroboration": _corroboration(ch, by_id),
        }
        events.append((as_utc(ch.at) or floor, 1, item))
    for ev in evidence:
        item = {
            "type": "evidence",
            "id": ev.id,
            "at": iso(ev.published or ev.created_at),
            "signal": ev.signal,
            "confidence": round(float(ev.confidence), 2),
            "title": ev.title,
            "link": web_link(ev.link),
            "publisher": ev.publisher or ev.source_name,
            "official": ev.official,
            "official_party": ev.official_party,
            "sentence": ev.sentence,
            "counted": ev.id in counted,
        }
        events.append((as_utc(ev.published) or as_utc(ev.created_at) or floor, 0, item))
    events.sort(key=lambda e: (e[0], e[1]), reverse=True)
    return [e[2] for e in events]


def commitment_detail(
    config: Config, store: Store, commitment_id: str, now: dt.datetime | None = None
) -> dict[str, Any] | None:
    """The commitment page: its `status --json` record, the export record, the timeline and the chart."""
    now = now or utcnow()
    try:
        c = config.commitment(commitment_id)
    except KeyError:
        return None
    row = store.commitment(commitment_id)
    changes, evidence = store.history(commitment_id)
    rows = {commitment_id: row} if row is not None else {}
    item = overview_from(config, rows, {commitment_id: evidence}, now, [c])[0]
    record = commitment_record(c, row, evidence, changes)
    return {
        **item,
        "description": c.description,
        "link": web_link(str(c.link) if c.link else None),
        "announced": iso(c.announced),
        "due": iso(c.due),
        "ends": iso(c.ends),
        "target_progress": record["progress"],
        "timeline": timeline(changes, evidence),
        "chart": quantity_chart(c, evidence, now) if c.target else None,
    }


def source_list(store: Store, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    return [_source(r) for r in store.sources()]


def _source(r: SourceRow) -> dict[str, Any]:
    record = source_record(r)
    record["healthy"] = r.enabled and not r.consecutive_failures
    return record


def alert_list(store: Store, limit: int = 200) -> list[dict[str, Any]]:
    """The outbox, newest first, with each target's delivery state (targets are stored redacted)."""
    alerts = store.alerts(limit=limit)
    deliveries = store.deliveries_for([a.id for a in alerts if a.id is not None])
    out = []
    for a in alerts:
        out.append(
            {
                "id": a.id,
                "kind": a.kind,
                "severity": a.severity,
                "commitment": a.commitment_id,
                "subject": a.subject,
                "state": a.state,
                "attempts": a.attempts,
                "created_at": iso(a.created_at),
                "next_attempt_at": iso(a.next_attempt_at),
                "last_error": a.last_error,
                "deliveries": [
                    {
                        "target": d.target,
                        "state": d.state,
                        "attempts": d.attempts,
                        "sent_at": iso(d.sent_at),
                        "last_error": d.last_error,
                    }
                    for d in deliveries.get(a.id or 0, [])
                ],
            }
        )
    return out


# --- the quantity chart ----------------------------------------------------------------------------

CHART_W, CHART_H, PAD_L, PAD_R, PAD_T, PAD_B = 640, 280, 70, 20, 20, 40


def _points(c: Commitment, evidence: Sequence[EvidenceRow]) -> list[tuple[dt.date, float]]:
    """Cumulative figures in the target's unit, in date order, as the tracker counts them."""
    assert c.target is not None
    unit = c.target.unit.lower()
    out = []
    for ev in evidence:
        if ev.quantity_value is None or not ev.quantity_cumulative or ev.published is None:
            continue
        if ev.quantity_unit and ev.quantity_unit.lower() != unit:
            continue
        out.append(((as_utc(ev.published) or ev.published).date(), float(ev.quantity_value)))
    return sorted(out)


def _reported_series(
    points: Sequence[tuple[dt.date, float]],
    x: Callable[[dt.date], float],
    y: Callable[[float], float],
    unit: str,
    target: float,
    x0: float,
    y0: float,
) -> list[str]:
    """The reported figures as a step line (amounts hold until the next report), dots and a label."""
    coords = [f"{x0:.1f},{y0:.1f}"]
    for day, value in points:
        coords.append(f"{x(day):.1f},{coords[-1].split(',')[1]}")
        coords.append(f"{x(day):.1f},{y(value):.1f}")
    parts = [
        f'<polyline class="reported" points="{" ".join(coords)}" fill="none" stroke="#b5462a" '
        f'stroke-width="3"/>'
    ]
    for day, value in points:
        parts.append(
            f'<circle cx="{x(day):.1f}" cy="{y(value):.1f}" r="4" fill="#b5462a">'
            f"<title>{day}: {value:g} {unit}</title></circle>"
        )
    last_day, last_value = points[-1]
    parts.append(
        f'<text x="{x(last_day) + 6:.1f}" y="{y(last_value) + 4:.1f}" font-size="12">'
        f"reported {last_value:g} ({100 * last_value / target:.0f}%)</text>"
    )
    return parts


def quantity_chart(c: Commitment, evidence: Sequence[EvidenceRow], now: dt.datetime) -> str:
    """Cumulative reported amount against the target with the pro-rated pace line, as inline SVG.

    Server-side and self-contained (no script, no web fonts); lines differ by dash pattern as well as
    colour, and every series is named in text, so it reads in greyscale and to screen readers.
    """
    assert c.target is not None
    target = c.target.value
    start = c.effective or c.announced
    points = _points(c, evidence)
    end = max([d for d in (c.due, now.date(), *(p[0] for p in points)) if d is not None])
    span = max((end - start).days, 1)
    top = max([target, *(v for _, v in points)]) * 1.1
    plot_w, plot_h = CHART_W - PAD_L - PAD_R, CHART_H - PAD_T - PAD_B

    def x(day: dt.date) -> float:
        return PAD_L + plot_w * max(0, (day - start).days) / span

    def y(value: float) -> float:
        return PAD_T + plot_h * (1 - value / top)

    unit = escape(c.target.unit)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {CHART_W} {CHART_H}" role="img" '
        f'class="chart" aria-labelledby="chart-title"><title id="chart-title">{escape(c.title)}: '
        f"cumulative {unit} against the target of {target:g}</title>",
        f'<rect x="{PAD_L}" y="{PAD_T}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#888"/>',
        f'<line class="target" x1="{PAD_L}" y1="{y(target):.1f}" x2="{PAD_L + plot_w}" y2="{y(target):.1f}" '
        f'stroke="#555" stroke-dasharray="2 4"/>',
        f'<text x="{PAD_L + 4}" y="{y(target) - 4:.1f}" font-size="12">target {target:g} {unit}</text>',
    ]
    if c.due is not None:
        share = expected_share(c, dt.datetime.combine(now.date(), dt.time(), dt.UTC)) or 0.0
        parts.append(
            f'<line class="pace" x1="{x(start):.1f}" y1="{y(0):.1f}" '
            f'x2="{x(c.due):.1f}" y2="{y(target):.1f}" '
            f'stroke="#1f5fa8" stroke-width="2" stroke-dasharray="8 5"/>'
            f'<text x="{x(c.due) - 4:.1f}" y="{y(target) + 16:.1f}" font-size="12" text-anchor="end">'
            f"pace line (due {c.due}; {share * 100:.0f}% expected today)</text>"
        )
    if points:
        parts.extend(_reported_series(points, x, y, unit, target, x(start), y(0)))
    else:
        parts.append(f'<text x="{PAD_L + 10}" y="{PAD_T + plot_h / 2:.0f}">no figures reported yet</text>')
    for value in (0.0, target / 2, target):
        parts.append(
            f'<text x="{PAD_L - 6}" y="{y(value) + 4:.1f}" font-size="11" text-anchor="end">{value:g}</text>'
        )
    parts.append(
        f'<text x="{PAD_L}" y="{CHART_H - 12}" font-size="11">{start}</text>'
        f'<text x="{PAD_L + plot_w}" y="{CHART_H - 12}" font-size="11" text-anchor="end">{end}</text>'
        f'<text x="{PAD_L + plot_w / 2:.0f}" y="{CHART_H - 12}" font-size="11" text-anchor="middle">'
        f"solid: reported cumulative; dashed: pro-rated pace; dotted: target</text></svg>"
    )
    return "".join(parts)
