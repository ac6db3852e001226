"""Named features of one (report, commitment) pair, for the learned second stage (`model`).

The rule engine reads sentences; it is precise and explains itself, but it needs a whole subject in one
sentence and one cue to decide. Real reports spread a subject over a headline and a lead and carry
several cues at once. These features describe the whole document in general terms (where the
commitment's words occur, which kinds of cue occur near them, how the date relates to the commitment's
dates, what the rule reading concluded) so that a small linear model can weigh them. No feature names a
phrase of any one report: the cue classes come from the vocabulary the rules use.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from monitor.config import SIGNALS
from monitor.evidence.text import extract_quantities, find_dates
from monitor.evidence.types import Explanation
from monitor.evidence.vocabulary import (
    _ATTRIBUTED,
    _BACKGROUND,
    _COMMENTARY,
    _DENIAL,
    _FUTURE,
    _GENERIC_DEAL,
    _NEG,
    _OPINION_TITLE,
    _RESTATE,
    _SPEC,
    ASPECT_CUES,
    FRAME_CUES,
    WHY_NOT_MATCHED,
)

if TYPE_CHECKING:
    from monitor.evidence.engine import _Compiled, _Doc

MODES = ("visit", "purchase", "enforcement", "supply", "suspension", "measure")
_MOOD_PATTERNS = {
    "spec": _SPEC,
    "future": _FUTURE,
    "neg": _NEG,
    "denial": _DENIAL,
    "restate": _RESTATE,
    "attributed": _ATTRIBUTED,
    "commentary": _COMMENTARY,
}


@dataclass(frozen=True)
class PairContext:
    """What the features read: the scanned document, one compiled commitment and the rule verdict."""

    doc: _Doc
    compiled: _Compiled
    rule: Explanation
    official: bool
    candidates: int
    no_change: bool = False  # the rules allow no status change here (`RULE_NO_CHANGE`)


def alias_sentences(doc: _Doc, cc: _Compiled) -> list[int]:
    """The sentences that name the commitment's subject (an alias), title first when there is one."""
    return [i for i, hits in enumerate(doc.hits_by_sentence) if any(k in cc.aliases for k in hits)]


def _doc_keys(ctx: PairContext, sentences: list[int]) -> set[str]:
    keys: set[str] = set()
    for s in sentences:
        keys.update(ctx.doc.hits_by_sentence[s])
    return keys


def _place_features(ctx: PairContext, out: dict[str, float]) -> list[int]:
    """Where the commitment's words occur: a headline or lead that names the subject makes the report
    about it even when no single sentence holds every required word."""
    doc, cc = ctx.doc, ctx.compiled
    sents = alias_sentences(doc, cc)
    has_title = doc.title_end > 0
    lead = 1 if has_title else 0
    out["alias_title"] = float(has_title and 0 in sents)
    out["alias_lead"] = float(lead in sents)
    out["alias_sentences"] = math.log1p(len(sents))
    out["alias_share"] = len(sents) / max(1, len(doc.spans))
    all_keys = _doc_keys(ctx, list(range(len(doc.spans))))
    distinct = {k for k in all_keys if k in cc.aliases}
    out["alias_distinct"] = math.log1p(len(distinct))
    out["alias_generic_only"] = float(bool(distinct) and all(_GENERIC_DEAL.fullmatch(k) for k in distinct))
    groups = cc.require
    out["require_doc"] = sum(bool(all_keys & g) for g in groups) / len(groups) if groups else 1.0
    title_keys = _doc_keys(ctx, [0]) if has_title else set()
    out["require_title"] = sum(bool(title_keys & g) for g in groups) / len(groups) if groups else 1.0
    out["excluded_doc"] = float(bool(all_keys & cc.exclude))
    out["candidates"] = math.log1p(ctx.candidates)
    out["opinion_title"] = float(bool(_OPINION_TITLE.search(doc.report.title)))
    return sents


def _rule_features(ctx: PairContext, out: dict[str, float]) -> None:
    """The rule reading's verdict, or the reason it gave for none: the rules are precise, so their
    verdict is the strongest single feature, and each reason for a miss is a different kind of doubt."""
    rule = ctx.rule
    out["rule_match"] = float(rule.match is not None)
    signal = rule.match.signal if rule.match is not None else "none"
    for s in (*SIGNALS, "none"):
        out[f"rule_{s}"] = float(signal == s)
    out["rule_confidence"] = rule.match.confidence if rule.match is not None else 0.0
    for s in SIGNALS:
        out[f"read_{s}"] = float(rule.reading == s)
    text = " ".join(rule.reasons).lower()
    for name, fragment in WHY_NOT_MATCHED.items():
        out[f"why_{name}"] = float(rule.match is None and fragment in text)


# Python's re is several times slower with IGNORECASE than on text lowered in advance; a pattern with no
# upper-case literal finds the same on the lowered text (which `_Doc.low` holds, same length).
_UPPER_LITERAL = re.compile(r"(?<!\\)[A-Z]")


@functools.cache
def _lowered(pattern: re.Pattern[str]) -> re.Pattern[str] | None:
    if _UPPER_LITERAL.search(pattern.pattern):
        return None
    return re.compile(pattern.pattern, pattern.flags & ~re.IGNORECASE)


def _count(pattern: re.Pattern[str], text: str, low: str) -> int:
    fast = _lowered(pattern)
    return len(fast.findall(low)) if fast is not None else len(pattern.findall(text))


def _found(pattern: re.Pattern[str], text: str, low: str) -> bool:
    fast = _lowered(pattern)
    return bool(fast.search(low) if fast is not None else pattern.search(text))


def _span_text(doc: _Doc, s: int) -> tuple[str, str]:
    a, b = doc.spans[s]
    return doc.text[a:b], doc.low[a:b]


def _cue_features(ctx: PairContext, sents: list[int], out: dict[str, float]) -> None:
    """Which kinds of cue occur in the sentences that name the subject, headline apart: a cue counts
    for the signal the commitment's own cue table gives it, so "halted" means what it means here."""
    doc, cc = ctx.doc, ctx.compiled
    scores = dict.fromkeys(SIGNALS, 0.0)
    title_scores = dict.fromkeys(SIGNALS, 0.0)
    pieces = [_span_text(doc, s) for s in sents]
    for s, (sentence, low) in zip(sents, pieces, strict=True):
        for cue in cc.cues:
            if _found(cue.pattern, sentence, low):
                scores[cue.signal] += 1.0
                if s == 0 and doc.title_end > 0:
                    title_scores[cue.signal] += 1.0
    for signal in SIGNALS:
        out[f"cue_{signal}"] = math.log1p(scores[signal])
        out[f"cue_{signal}_title"] = float(title_scores[signal] > 0)
    text, low = " ".join(p[0] for p in pieces), " ".join(p[1] for p in pieces)
    for name, pattern in _MOOD_PATTERNS.items():
        out[f"mood_{name}"] = math.log1p(_count(pattern, text, low))
    out["mood_background"] = float(any(_found(_BACKGROUND, *p) for p in pieces))
    title = _span_text(doc, 0) if doc.title_end > 0 and 0 in sents else None
    for name, pattern in ASPECT_CUES.items():
        out[f"aspect_{name}"] = math.log1p(_count(pattern, text, low))
        out[f"aspect_{name}_title"] = float(title is not None and _found(pattern, *title))
    for mode, frames in FRAME_CUES.items():
        for name, pattern in frames.items():  # every frame is a feature; only the commitment's kind fires
            out[f"frame_{mode}_{name}"] = float(mode == cc.mode and _found(pattern, doc.text, doc.low))


def _days(a: dt.date | None, b: dt.date | None) -> float | None:
    return None if a is None or b is None else float((a - b).days)


def _time_features(ctx: PairContext, out: dict[str, float]) -> None:
    """How the report's date sits against the commitment's: coverage of the announcement states terms,
    news after the effective date can report implementation, news after the due date can report a miss."""
    c = ctx.compiled.commitment
    published = ctx.doc.read_on
    since = _days(published, c.announced)
    out["announcement_window"] = float(since is not None and since <= 2)
    out["first_fortnight"] = float(since is not None and 2 < since <= 14)
    out["months_since"] = min(12.0, since / 30.0) if since is not None and since > 0 else 0.0
    to_effective = _days(published, c.effective)
    out["before_effective"] = float(to_effective is not None and to_effective < 0)
    to_due = _days(published, c.due)
    out["after_due"] = float(to_due is not None and to_due > 0)
    out["official"] = float(ctx.official)
    out["day_unknown"] = float(ctx.doc.report.precision != "day")


def _date_features(ctx: PairContext, sents: list[int], out: dict[str, float]) -> None:
    """Dates beside the subject: one after the publication day is a schedule, one before the commitment
    was made is history; neither is the report's own news."""
    published = ctx.doc.read_on
    announced = ctx.compiled.commitment.announced
    ahead = history = 0
    for s in sents:
        for hit in find_dates(ctx.doc.sentence(s), published):
            ahead += published is not None and hit.date > published
            history += hit.date < announced
    out["date_ahead"] = float(ahead > 0)
    out["date_history"] = float(history > 0)


def _quantity_features(ctx: PairContext, sents: list[int], out: dict[str, float]) -> None:
    """A purchase figure as a share of the target: only a running total in the right unit compares."""
    target = ctx.compiled.commitment.target
    best = 0.0
    if target is not None and target.value > 0 and ctx.compiled.mode == "purchase":
        for s in sents:
            for q in extract_quantities(ctx.doc.sentence(s), target.unit):
                if q.cumulative:
                    best = max(best, q.value / target.value)
    out["quantity_share"] = min(best, 2.0)
    out["quantity_reached"] = float(best >= 1.0)


def pair_features(ctx: PairContext) -> dict[str, float]:
    """Every feature of one pair, by name (the names are what `explain` shows and the model file keys)."""
    out: dict[str, float] = {"bias": 1.0}
    sents = _place_features(ctx, out)
    _rule_features(ctx, out)
    _cue_features(ctx, sents, out)
    _time_features(ctx, out)
    _quantity_features(ctx, sents, out)
    _date_features(ctx, sents, out)
    for m in MODES:
        out[f"mode_{m}"] = float(ctx.compiled.mode == m)
    # A commitment that is itself an extension is kept by the extension being made (the spec's rule):
    # the one interaction the linear model cannot build from its parts.
    made = out["cue_extended"] > 0 or out["read_fulfilled"] > 0
    out["extension_made"] = float(ctx.compiled.is_extension and made)
    # The deal's everyday name ("the trade truce") is only a naming, unless something happens to it.
    status_cue = any(out[f"cue_{s}"] > 0 for s in SIGNALS if s != "mention")
    out["generic_with_status_cue"] = float(out["alias_generic_only"] > 0 and status_cue)
    out["in_effect_after_effective"] = out["aspect_in_effect"] * (1.0 - out["before_effective"])
    # The rules read "took effect" itself, on or after the effective date: the plainest fulfilment there is
    rule = ctx.rule.match
    out["rule_in_force"] = float(
        rule is not None
        and rule.signal == "fulfilled"
        and bool(ASPECT_CUES["in_effect"].search(rule.cue))
        and not out["before_effective"]
    )
    return out
