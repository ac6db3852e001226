"""Matching and evidence: decides whether a report is about a commitment and what it says about it.

This module is pure (no I/O, no database): it takes a `Report` and returns `Match`es, so the same code
serves the daemon, `trade-monitor match`, `explain` and the evaluation harness.

FIRST VERSION: a naive placeholder that the evidence-engine issue replaces.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from monitor.config import Commitment, MatchTerms, Signal


@dataclass(frozen=True)
class Report:
    """One news item or official notice, as the engine sees it."""

    id: str
    title: str
    summary: str
    published: dt.datetime | None
    link: str = ""
    source: str = ""


@dataclass(frozen=True)
class Quantity:
    """An amount read from a report, normalised to the commitment's target unit."""

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


class EvidenceEngine:
    """Matches reports against a fixed set of commitments; build a new one when the watchlist changes."""

    def __init__(
        self, commitments: Sequence[Commitment], category_defaults: dict[str, MatchTerms] | None = None
    ) -> None:
        self.commitments = list(commitments)
        self.category_defaults = category_defaults or {}

    def match(self, report: Report) -> list[Match]:
        return [e.match for e in self.explain(report) if e.match is not None]

    def explain(self, report: Report) -> list[Explanation]:
        text = f"{report.title}. {report.summary}"
        out = []
        for c in self.commitments:
            exp = Explanation(c.id, False)
            if report.published is not None and report.published.date() < c.announced:
                exp.reasons.append("published before the commitment was announced")
                out.append(exp)
                continue
            for sentence in re.split(r"(?<=[.!?])\s+", text):
                low = sentence.lower()
                alias = next((a for a in c.terms.aliases if a.lower() in low), None)
                if alias and all(any(t.lower() in low for t in g) for g in c.terms.require):
                    signal: Signal = "mention"
                    cue = ""
                    for word, sig in (("took effect", "fulfilled"), ("came into force", "fulfilled"),
                                      ("will", "progress")):
                        if word in low:
                            signal, cue = sig, word  # type: ignore[assignment]
                            break
                    exp.matched = True
                    exp.match = Match(c.id, signal, 0.6, sentence.strip(), cue, f"alias {alias!r}")
                    break
            out.append(exp)
        return out
