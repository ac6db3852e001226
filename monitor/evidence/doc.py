"""The engine's working data: a commitment compiled for matching, a report scanned into sentences and
term hits, a unit of sentences that holds a commitment's subject, and the reading of one unit. Kept apart
from the engine so that the reading rules (``rules``) and their helpers (``grammar``) can use them."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from monitor.config import Commitment, Signal
from monitor.evidence.types import Quantity, Report
from monitor.evidence.vocabulary import _Cue


def _mode_of(c: Commitment) -> str:
    """The kind of promise decides which cues mean what: "halted" is good news for port fees, bad for
    soybean purchases."""
    cat = c.category.lower()
    title = f"{c.title} {c.description}".lower()
    if cat == "visit":
        return "visit"
    if cat == "purchase" or (c.target is not None and c.target.unit.lower() in ("mmt", "tonnes", "tons")):
        return "purchase"
    if cat == "enforcement":
        return "enforcement"
    if cat in ("supply_chain", "supply"):
        return "supply"
    if re.search(r"suspen|keeps? .* suspended|extend|lifts?|pause|exclusion|exempt", title):
        return "suspension"
    return "measure"


@dataclass
class _Compiled:
    index: int
    commitment: Commitment
    aliases: frozenset[str]
    require: tuple[frozenset[str], ...]
    require_display: tuple[tuple[str, ...], ...]
    exclude: frozenset[str]
    counterpart: frozenset[str]  # empty when the title names no counterpart
    mode: str
    cues: tuple[_Cue, ...]
    family: tuple[int, ...] = ()  # commitments with the same aliases (the yearly soybean pledges)
    other_party: frozenset[str] = frozenset()  # names of the other party (not found inside "US-China")
    own_party: frozenset[str] = frozenset()
    party: str | None = None  # the configured party the commitment's ``party`` names

    @property
    def is_extension(self) -> bool:
        """The promise is itself an extension ("US extends 178 exclusions"): making it keeps it, whenever
        it applies from; a suspension that is merely kept ("keeps the tariff suspended") is kept once in
        force."""
        return "extend" in self.commitment.title.lower()


@dataclass
class _Hit:
    start: int
    end: int
    key: str


@dataclass
class _Doc:
    text: str
    low: str
    spans: list[tuple[int, int]]
    starts: list[int]
    title_end: int  # sentence index 0 is the title when title_end > 0
    hits_by_sentence: list[dict[str, list[_Hit]]]
    published: dt.date | None
    report: Report
    compounds: list[tuple[int, int]] = field(default_factory=list)
    # The day the report speaks from, for tense against the dates it gives: ``published`` itself, except
    # for a reduced-precision date (`text.reading_day`). Eligibility always uses ``published``.
    read_on: dt.date | None = None

    def sentence(self, i: int) -> str:
        a, b = self.spans[i]
        return self.text[a:b].strip()


@dataclass
class _Unit:
    sentences: tuple[int, ...]
    focus: int  # the sentence that carries the subject (and the evidence)
    alias: str
    group_terms: list[str]


@dataclass
class _Reading:
    signal: Signal
    confidence: float
    sentence: int
    cue: str
    notes: list[str]
    quantity: Quantity | None = None
    new_date: dt.date | None = None
    strength: float = 0.0
