"""What the words around a cue mean: the clause window before it, modals, headline grammar, the time
limit an extension renews, stated rates, dates that move a deadline, quantities within a commitment's
period. Small pure functions the reading rules (``rules``) call."""

from __future__ import annotations

import datetime as dt
import re

from monitor.evidence.doc import _Compiled
from monitor.evidence.text import _DateHit, _is_target_amount, extract_quantities, find_dates
from monitor.evidence.types import Quantity
from monitor.evidence.vocabulary import (
    _CLAUSE_BREAK,
    _CLAUSE_SPLIT,
    _MEASURE_NOUNS,
    _MONTH_RE,
    _NEG,
    _SPEC,
    _SUSP_NOUNS,
)


def window(sentence: str, cue_start: int) -> str:
    """The words before a cue in its own clause: where "not", "could" and "will" change its meaning."""
    head = sentence[:cue_start]
    # a relative clause between commas belongs to its noun, not to the cue: in "exclusions, which
    # were scheduled to expire, are extended" the "scheduled to" does not make "extended" future
    head = re.sub(r",\s*(?:which|who|that|originally|initially)\b[^,]*,", ",", head)
    breaks = list(_CLAUSE_BREAK.finditer(head)) + list(_CLAUSE_SPLIT.finditer(head))
    breaks.sort(key=lambda b: b.end())
    if breaks:
        head = head[breaks[-1].end() :]
    words = head.split()
    return " ".join(words[-15:])


def moved_deadline(
    cc: _Compiled, sentence: str, published: dt.date | None, spans: list[tuple[int, int]]
) -> _DateHit | None:
    """A target date later than the commitment's due date ("on pace to meet the pledge by the end of
    February", "to travel to the US in 2027 instead") means the promise slipped. A month named after
    "by"/"before" is a deadline; a bare year needs a word that marks the change ("instead")."""
    due = cc.commitment.due
    if due is None or _SPEC.search(sentence) or _NEG.search(sentence):
        return None
    changed = re.search(
        r"\b(instead|rather than|new deadline|revised|now expected|pushed|moved)\b", sentence, re.I
    )
    for d in find_dates(sentence, published):
        if d.date <= due or not any(a <= d.start <= b for a, b in spans):
            continue  # only a date in the subject's own clause
        head = sentence[: d.start]
        if re.search(r"\b(?:by|before)\s+(?:the\s+)?$", head, re.I) and not d.text[:1].isdigit():
            return d
        if changed and re.search(r"\b(?:by|until|till|before|in|to|into)\s+(?:the\s+)?$", head, re.I):
            return d
    return None


def rate_ok(cc: _Compiled, text: str) -> bool:
    """A stated rate is evidence only when it is the target rate ("assessed at ten percent" for a cut
    to 10%); any other rate is just a number in the story."""
    t = cc.commitment.target
    if t is None or "percent" not in t.unit.lower().replace("%", "percent"):
        return False
    words = {"ten": 10.0, "twenty": 20.0, "five": 5.0, "fifteen": 15.0}
    m = re.search(r"(\d+(?:\.\d+)?|ten|twenty|five|fifteen)\s?(?:%|percent|per cent)", text, re.I)
    if not m:
        return False
    value = words.get(m.group(1).lower()) or float(m.group(1))
    return abs(value - t.value) < 1e-6


def plural_subject(sentence: str, pos: int) -> bool:
    """Headline present tense: "New orders take effect", "China, US suspend port fees" use the base
    form after a plural or compound subject."""
    last3 = sentence[:pos].split()[-3:]
    if (
        len(last3) >= 2
        and last3[-1][:1].isupper()
        and (last3[-2].endswith(",") or (len(last3) == 3 and last3[-2].lower() in ("and", "&")))
    ):
        return True
    words = sentence[:pos].split()[-1:]
    return bool(
        words
        and re.fullmatch(
            r"(?:orders|tariffs|duties|fees|curbs|controls|cuts|measures|rules|suspensions|changes|"
            r"exemptions|exclusions|concessions|levies|restrictions|steps|rates)",
            words[0],
            re.I,
        )
    )


def modal_before(sentence: str, pos: int) -> bool:
    """A base form counts only after a modal or "to" ("will take effect", "to lower"): alone, "lower"
    is more often an adjective or a noun than an event."""
    words = sentence[:pos].split()[-3:]
    return bool(
        words
        and re.search(
            r"\b(will|to|shall|'ll|would|could|may|might|must|not|n't|did|does|cannot)$",
            " ".join(words),
            re.I,
        )
    )


def extension_ok(cc: _Compiled, sentence: str, m: re.Match[str]) -> bool:
    """An extension cue must renew a time limit, not describe a rule extending controls to affiliates."""
    if cc.commitment.ends is None and "extend" not in cc.commitment.title.lower():
        return False
    tail = sentence[m.start() : m.end() + 80]
    head = sentence[max(0, m.start() - 60) : m.start()]
    if re.search(
        r"\b(suspension|pause|truce|exclusions?|exemptions?|waiver|reprieve|moratorium)\b", head, re.I
    ):
        return True  # passive: "the tariff truce was extended"
    if re.search(rf"\b(?:to|into|until) (?:{_MONTH_RE}|20\d\d)", tail, re.I):
        return True
    return bool(
        re.search(
            r"suspension|pause|truce|exclusions?|exemptions?|waiver|reprieve|deadline|until|through|"
            r"another|"
            r"further|additional|one more year|\d+ (?:days|months|years?)|by (?:a|one|two|"
            r"six) (?:year|month)s?",
            tail,
            re.I,
        )
    )


def overdue(cc: _Compiled, published: dt.date | None) -> bool:
    """Whether "has yet to" reads as late. A commitment with no date of its own (Nexperia's exports)
    was meant to happen at once: a week after the announcement, not having happened is a delay."""
    c = cc.commitment
    limit = c.due or c.effective or (c.announced + dt.timedelta(days=7))
    return bool(published and limit and published > limit)


def target_quantity(cc: _Compiled, sentence: str) -> Quantity | None:
    """The amount in the sentence in the target's unit, preferring a running total: the largest
    cumulative figure, else the largest single one; the target amount itself restated is no progress."""
    if cc.commitment.target is None:
        return None
    qs = [
        q
        for q in extract_quantities(sentence, cc.commitment.target.unit)
        if not _is_target_amount(sentence, q)
    ]
    if not qs:
        return None
    cum = [q for q in qs if q.cumulative]
    return max(cum or qs, key=lambda q: q.value)


def removes_measure(sentence: str, m: re.Match[str]) -> bool:
    """A reversal cue whose object is the measure (tariff, fee, control), not the relief (the cut,
    the suspension, the deal): cancelling a tariff is the cut, cancelling the cut is the reversal."""
    if not re.match(r"cancel|revok|scrap|abandon|call|tore|tear|lift|remov", m.group(0), re.I):
        return False  # "reinstated", "reimposed": the measure is back, a reversal
    after = sentence[m.end() : m.end() + 60]
    obj = re.match(rf"\s+(?:\S+\s+){{0,4}}?({_SUSP_NOUNS}|cuts?|reductions?|{_MEASURE_NOUNS})\b", after, re.I)
    return obj is not None and re.fullmatch(_MEASURE_NOUNS, obj.group(1), re.I) is not None


def in_period(cc: _Compiled, sentence: str, published: dt.date | None) -> bool:
    """A quantity counts toward a target only inside the commitment's period: a report published
    before the period opens, or a figure for a year (or season) that ended before the promise was
    made ("nearly 27 million tons in 2024", "2019-2020 imports"), is history, not progress."""
    c = cc.commitment
    start = c.effective or c.announced
    if published is not None and published < start:
        return False
    years = [int(y) for y in re.findall(r"\b((?:19|20)\d\d)\b", sentence)]
    return not years or max(years) >= c.announced.year
