"""The engine's public data: a report in, matches and explanations out, and reading a report's date."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass, field

from monitor.config import Signal

# --- public data types ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    """One news item or official notice, as the engine sees it."""

    id: str
    title: str
    summary: str
    published: dt.datetime | None
    link: str = ""
    source: str = ""
    # Whether the report comes from a government source, as the config decides (official feeds and
    # domains); None leaves it to a guess from the link and source name (for `match` on bare reports).
    official: bool | None = None
    # The report carried a date that does not parse: it is never "unknown, so allowed" as evidence.
    date_unreadable: bool = False
    # How much of ``published`` the source gave: "day", or "month"/"year" for a reduced-precision date,
    # which ``published`` holds as the period's last day (see `read_published`).
    precision: str = "day"


def read_published(value: object) -> dt.datetime | None:
    """A publication date, full or reduced precision ISO 8601. A month-only ``2025-10`` (the page showed
    no day) or a year-only date reads as the last day of its period, so that it is eligible only when
    every day it may stand for is. None for no date; ValueError for a date that does not parse."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"publication date {value!r} is not a string")
    text = value.strip()
    reduced = re.fullmatch(r"(\d{4})(?:-(\d{2}))?", text)
    if reduced:
        year = int(reduced.group(1))
        month = int(reduced.group(2) or 12)
        if not 1 <= month <= 12:
            raise ValueError(f"publication date {value!r}: month {month} out of range")
        day = calendar.monthrange(year, month)[1]
        return dt.datetime(year, month, day, tzinfo=dt.UTC)
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"publication date {value!r} is not ISO 8601") from None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def published_precision(value: object) -> str:
    """ "month" for ``2025-11``, "year" for ``2025``, else "day": a reduced-precision date says only that
    the report falls somewhere in its period, which matters when reading its tense against other dates."""
    if isinstance(value, str) and (m := re.fullmatch(r"\d{4}(-\d{2})?", value.strip())):
        return "month" if m.group(1) else "year"
    return "day"


@dataclass(frozen=True)
class Quantity:
    """An amount read from a report, normalised to the commitment's target unit.

    ``cumulative`` says whether the figure is a running total ("so far this season") rather than one
    sale, because only a running total can be compared with the target.
    """

    value: float
    unit: str
    cumulative: bool = True
    text: str = ""


@dataclass(frozen=True)
class Match:
    """What one report says about one commitment, with the sentence and cue that decided it."""

    commitment: str
    signal: Signal
    confidence: float
    evidence: str
    cue: str = ""
    explanation: str = ""
    quantity: Quantity | None = None
    new_date: dt.date | None = None


@dataclass
class Explanation:
    """Why a commitment did or did not match a report, for `trade-monitor explain`."""

    commitment: str
    matched: bool
    reasons: list[str] = field(default_factory=list)
    match: Match | None = None
    # The signal the rules read before they dropped the pair as a family member or a bare naming: the
    # learned stage weighs it even when the rules did not keep the match.
    reading: Signal | None = None
