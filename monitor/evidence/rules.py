"""The reading rules: what the sentence that holds a commitment's subject says about it.

Reading runs in three stages, each an ordered tuple of small named functions. To change how a report is
read, find the rule by its name (``trade-monitor explain`` lists the rules that decided) and change that
one function; to add a rule, write a function and put it in its place in the tuple.

1. ``CUE_FILTERS`` drop a cue phrase found in the sentence when its grammar says it is no event
   ("the suspended rule" is an adjective, "on restoring the fees" a gerund after a preposition). A cue
   whose actor is the other party is dropped as well (``other_partys_act``).
2. ``CUE_RULES`` turn one cue into a verdict: negation, speculation, restatement and the future tense
   change what the cue says, then dates (history, a later effective date, a new end) refine it. The
   best cues are read in turn; a neutralised cue governs only its own clause.
3. ``SENTENCE_RULES`` then look at the whole sentence: a deadline moved, a quantity against the target,
   coverage of the announcement itself, and how sure the source is.

A rule takes the context and the verdict so far and returns a new verdict, or None to pass. A tuple inside
a stage is a choice: the first of its rules that returns a verdict decides, and the others are skipped
(the modality of a cue is one of negated, speculative, restated or future, in that order). A verdict
marked ``final`` ends its stage.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import NamedTuple, TypeVar

from monitor.config import Signal
from monitor.evidence import grammar as g
from monitor.evidence.doc import _Compiled, _Doc, _Reading, _Unit
from monitor.evidence.parties import Parties
from monitor.evidence.text import _DateHit, _is_target_amount, _past_dates, extract_quantities, find_dates
from monitor.evidence.types import Quantity
from monitor.evidence.vocabulary import (
    _ANNOUNCEMENT_COVERAGE,
    _ATTRIBUTED,
    _BACKGROUND,
    _COMMENTARY,
    _COMMENTARY_TITLE,
    _DENIAL,
    _FUTURE,
    _IMMEDIATE,
    _NEG,
    _PARTIAL,
    _RESTATE,
    _SAID,
    _SPEC,
    _STOPPED_BY,
    _TERMS_DOCUMENT,
    _YEAR_ONLY,
    _clause_of,
    _Cue,
    clause_spans,
)

# --- what the rules see and return -------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """The reading so far: each rule that applies returns a changed copy, and its name is recorded."""

    signal: Signal
    confidence: float
    cue: str = ""
    new_date: dt.date | None = None
    notes: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    final: bool = False

    def to(
        self, signal: Signal, confidence: float, *notes: str, cue: str | None = None, final: bool = False
    ) -> Verdict:
        """This verdict with a new signal and confidence, and the notes that say why."""
        return replace(
            self,
            signal=signal,
            confidence=confidence,
            cue=self.cue if cue is None else cue,
            notes=self.notes + notes,
            final=final,
        )


@dataclass
class Sentence:
    """The focus sentence of a unit, read for one commitment: what every rule may look at."""

    cc: _Compiled
    doc: _Doc
    unit: _Unit
    official: bool
    parties: Parties
    text: str
    alias_pos: list[int]
    clauses: list[tuple[int, int]]
    quantity: Quantity | None = None
    notes: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, cc: _Compiled, doc: _Doc, unit: _Unit, official: bool, parties: Parties) -> Sentence:
        """The unit's focus sentence with the positions of the commitment's aliases in it (the start
        when none is in it: the alias was in the title)."""
        i = unit.focus
        a, b = doc.spans[i]
        raw = doc.text[a:b]
        base = a + (len(raw) - len(raw.lstrip()))
        hits = doc.hits_by_sentence[i]
        alias_pos = [h.start - base for k in hits if k in cc.aliases for h in hits[k]] or [0]
        text = raw.strip()
        s = cls(cc, doc, unit, official, parties, text, alias_pos, clause_spans(text))
        s.quantity = g.target_quantity(cc, text)
        if s.quantity is not None and not g.in_period(cc, text, doc.read_on):
            s.notes.append("the quantity is dated before the commitment's period: not evidence for it")
            s.quantity = None
        return s

    @property
    def is_title(self) -> bool:
        return self.unit.focus == 0 and self.doc.title_end > 0

    @property
    def published(self) -> dt.date | None:
        """The day the report speaks from (`_Doc.read_on`): what "later", "overdue" and "before the
        effective date" are measured against."""
        return self.doc.read_on

    @property
    def mode(self) -> str:
        return self.cc.mode

    def clause_of(self, pos: int) -> int:
        return _clause_of(self.clauses, pos)

    @cached_property
    def alias_clauses(self) -> set[int]:
        return {self.clause_of(p) for p in self.alias_pos}


class Modality(NamedTuple):
    """What the words before a cue do to it: deny it, hedge it, put it ahead, or restate the promise."""

    neg: re.Match[str] | None
    spec: re.Match[str] | None
    fut: re.Match[str] | None
    restate: re.Match[str] | None


class CueHit:
    """One cue phrase in the sentence, with the words before it that change its meaning (computed once,
    when a rule first asks)."""

    def __init__(self, s: Sentence, cue: _Cue, m: re.Match[str]) -> None:
        self.s, self.cue, self.m = s, cue, m

    @cached_property
    def window(self) -> str:
        return g.window(self.s.text, self.m.start())

    @cached_property
    def dates(self) -> list[_DateHit]:
        return find_dates(self.s.text, self.s.published)

    @cached_property
    def modal(self) -> Modality:
        """Negation, speculation, future and restatement before the cue. "Would" is a future after a
        verb of saying ("said it would cut") and speculation otherwise."""
        head, w = self.s.text[: self.m.start()], self.window
        neg = _NEG.search(" ".join(w.split()[-6:])) or _DENIAL.search(head)
        spec = _SPEC.search(w)
        decided = re.search(
            r"\b(?:decided|decides|decision|determined|voted|moved|began|begun|started|chose)\s+to\s*$",
            w,
            re.I,
        )  # "decided to suspend" reports a decision taken, not a plan
        fut = _FUTURE.search(w) or (re.search(r"\bto\s*$", w) if not decided else None)
        if fut and fut.group(0).lower() == "would" and not _SAID.search(head):
            spec, fut = fut, None
        if spec and spec.group(0).lower() == "would" and _SAID.search(head):
            fut, spec = spec, None
        return Modality(neg, spec, fut, _RESTATE.search(w))


C = TypeVar("C")
Rule = Callable[[C, Verdict], "Verdict | None"]
Stage = tuple["Rule[C] | tuple[Rule[C], ...]", ...]


def apply(stage: Stage[C], ctx: C, verdict: Verdict) -> Verdict:
    """Run a stage's rules in order on ``verdict``, recording the name of each rule that applied."""
    for entry in stage:
        for rule in entry if isinstance(entry, tuple) else (entry,):
            out = rule(ctx, verdict)
            if out is not None:
                verdict = replace(out, rules=(*verdict.rules, rule.__name__))
                break
        if verdict.final:
            break
    return replace(verdict, final=False)  # a final verdict ends its own stage, not the next one


# --- stage 1: cue filters ----------------------------------------------------------------------------


def official_title_only(s: Sentence, cue: _Cue, m: re.Match[str]) -> bool:
    """The title of an official act starts with a gerund ("Modifying Reciprocal Tariff Rates"): the act
    itself, but only as the title of an official notice; anywhere else the gerund is a noun."""
    return cue.kind == "official" and not (s.official and s.is_title)


def gerund_after_preposition(s: Sentence, cue: _Cue, m: re.Match[str]) -> bool:
    """ "A comment period on restoring the fees": a gerund after a preposition names a topic, not an
    event."""
    return bool(
        re.match(r"\w+ing\b", m.group(0))
        and re.search(r"\b(?:on|about|of|for|against|over|from|without)\s+$", s.text[: m.start()], re.I)
    )


def extension_without_time_limit(s: Sentence, cue: _Cue, m: re.Match[str]) -> bool:
    """ "Extends controls to affiliates" is no renewal: an extension cue must renew a time limit."""
    return cue.signal == "extended" and not g.extension_ok(s.cc, s.text, m)


def base_form_without_modal(s: Sentence, cue: _Cue, m: re.Match[str]) -> bool:
    """A base form ("lower", "take effect") is an event only after a modal or "to", or as a headline's
    present tense after a plural subject ("New orders take effect")."""
    return cue.kind == "base" and not (
        g.modal_before(s.text, m.start()) or g.plural_subject(s.text, m.start())
    )


def participle_as_adjective(s: Sentence, cue: _Cue, m: re.Match[str]) -> bool:
    """ "The suspended affiliates rule": a participle after an article describes a noun; it is no
    event."""
    return bool(
        re.search(r"\b(the|a|an|its|this|these|their)\s+$", s.text[: m.start()], re.I)
        and re.match(r"\w+ed\b|lower\b|higher\b", m.group(0))
    )


def initial_gerund_is_a_noun(s: Sentence, cue: _Cue, m: re.Match[str]) -> bool:
    """A sentence-initial gerund is a noun ("Halving the tariff rewards ..."); an official notice's title
    is the exception (``official_title_only``)."""
    return m.start() == 0 and bool(re.match(r"\w+ing\b", m.group(0))) and not (s.official and s.is_title)


def stopped_reversal(s: Sentence, cue: _Cue, m: re.Match[str]) -> bool:
    """ "Suspending reciprocal increases", "halted the planned hike": a reversal that is the object of a
    verb that stops it did not happen; the sentence reports the opposite."""
    return cue.signal == "broken" and bool(_STOPPED_BY.search(s.text[max(0, m.start() - 60) : m.start()]))


CUE_FILTERS: tuple[Callable[[Sentence, _Cue, re.Match[str]], bool], ...] = (
    official_title_only,
    gerund_after_preposition,
    extension_without_time_limit,
    base_form_without_modal,
    participle_as_adjective,
    initial_gerund_is_a_noun,
    stopped_reversal,
)


def _actor(s: Sentence, pos: int) -> str | None:
    """The party acting at ``pos``: the one named last before it in its clause."""
    start = s.clauses[s.clause_of(pos)][0]
    return s.parties.actor_before(s.text[start:pos])


def other_partys_act(s: Sentence, m: re.Match[str]) -> bool:
    """ "China ... suspends port fees" is not the US suspending its own: for a measure or a suspension,
    a cue whose actor is the other party is no evidence about this commitment."""
    if s.mode not in ("suspension", "measure") or s.cc.party not in s.parties.actors:
        return False
    actor = _actor(s, m.start())
    return actor is not None and actor not in (s.cc.party, "both")


def subject_of_other_party(s: Sentence) -> bool:
    """ "China confirms tariff cuts on US goods and suspends port fees" says nothing about the US port
    fees: every alias in the sentence is the other party's."""
    own = [_actor(s, p) for p in s.alias_pos]
    return all(o is not None and o not in (s.cc.party, "both") for o in own)


Candidate = tuple[float, _Cue, re.Match[str]]


def candidates(s: Sentence) -> tuple[list[Candidate], int]:
    """The cues that pass the filters, scored (nearer the alias and in its clause is better, a joint
    actor slightly worse), best first; and how many were dropped as the other party's acts."""
    found: list[Candidate] = []
    foreign = 0
    for cue in s.cc.cues:
        for m in cue.pattern.finditer(s.text):
            if any(f(s, cue, m) for f in CUE_FILTERS):
                continue
            score = cue.weight - min(abs(m.start() - p) for p in s.alias_pos) / 2000.0
            if other_partys_act(s, m):
                foreign += 1
                continue
            if s.mode in ("suspension", "measure") and _actor(s, m.start()) == "both":
                score -= 0.1
            if s.clause_of(m.start()) in s.alias_clauses:
                score += 0.2
            found.append((score, cue, m))
    found.sort(key=lambda t: -t[0])
    return found, foreign


# --- stage 2: what one cue says -------------------------------------------------------------------------


def target_rate_only(c: CueHit, v: Verdict) -> Verdict | None:
    """A stated rate ("assessed at ten percent") is evidence only when it is the commitment's target
    rate; any other rate is just a number in the story."""
    if c.cue.kind == "rate" and not g.rate_ok(c.s.cc, c.m.group(0)):
        return v.to("mention", 0.5, cue="", final=True)
    return None


def not_done_after_due(c: CueHit, v: Verdict) -> Verdict | None:
    """ "Has yet to lift the fees" after the due date (or a week after an undated promise) is a delay."""
    if c.cue.kind == "overdue" and g.overdue(c.s.cc, c.s.published) and not _SPEC.search(c.window):
        return v.to("delayed", c.cue.weight, "not done after the due date: delayed", final=True)
    return None


def not_done_yet(c: CueHit, v: Verdict) -> Verdict | None:
    """ "Has yet to lift the fees" before the due date, or hedged, is only a mention: nothing is late."""
    if c.cue.kind == "overdue":
        return v.to("mention", 0.5, "not done yet, before the due date: a mention", cue="", final=True)
    return None


def begun_needs_a_pause(c: CueHit, v: Verdict) -> Verdict | None:
    """A start verb ("has begun") is fulfilment only after a suspension noun ("the pause has begun");
    talks, harvests and seasons begin too."""
    if c.cue.kind == "begun" and not re.search(
        r"\b(?:suspension|pause|waiver|reprieve|moratorium|exemption|truce)s?\b[^.;]{0,50}$",
        c.s.text[: c.m.start()],
        re.I,
    ):
        return v.to("mention", 0.5, cue="", final=True)
    return None


def negated(c: CueHit, v: Verdict) -> Verdict | None:
    """ "Has not lifted", "denied reports it would cancel": nothing happened. After the due date a
    negated fulfilment is a delay; otherwise a mention."""
    if c.modal.neg is None:
        return None
    note = f"negated by {c.modal.neg.group(0)!r}"
    if v.signal in ("fulfilled", "progress") and g.overdue(c.s.cc, c.s.published):
        return v.to("delayed", 0.6, note)
    return v.to("mention", 0.45, note)


def speculation(c: CueHit, v: Verdict) -> Verdict | None:
    """ "Could", "is considering", "sources said": talk about what may happen is at most a mention."""
    if c.modal.spec is None:
        return None
    return v.to("mention", 0.35, f"speculation ({c.modal.spec.group(0)!r}): at most a mention")


def restated_promise(c: CueHit, v: Verdict) -> Verdict | None:
    """ "Agreed to suspend", "under the deal": a report restating the promise tells of no step taken."""
    if c.modal.restate is None or v.signal not in ("fulfilled", "progress"):
        return None
    return v.to("mention", 0.5, f"restates the promise ({c.modal.restate.group(0)!r}), no step taken")


def _future_note(c: CueHit) -> str:
    assert c.modal.fut is not None
    return f"future tense ({c.modal.fut.group(0).strip()!r})"


def future_purchase(c: CueHit, v: Verdict) -> Verdict | None:
    """ "China will buy 12 MMT": a purchase promised is not a purchase made."""
    if c.modal.fut is None or c.s.mode != "purchase" or v.signal not in ("progress", "fulfilled"):
        return None
    return v.to("mention", 0.5, _future_note(c), "a purchase promised is not a purchase made")


def scheduled_lapse(c: CueHit, v: Verdict) -> Verdict | None:
    """ "The suspension will expire on 10 November": a time limit scheduled to run out is the schedule,
    not a decision to end it."""
    if c.modal.fut is None or c.cue.kind != "lapse":
        return None
    return v.to("mention", 0.5, _future_note(c), "a time limit scheduled to run out is not a decision")


def leaders_plan(c: CueHit, v: Verdict) -> Verdict | None:
    """ "Trump says he'll cut tariffs on China", "he will travel to Beijing in April": a leader restating
    the promise, with no day set and no official act. A scheduled step ("will fall to 10% from November
    10") or an agency's decision ("Commerce to pause the rule") stays progress."""
    if (
        c.modal.fut is None
        or v.signal not in ("fulfilled", "progress")
        or any(d.day for d in c.dates)
        or c.s.official
        or c.cue.kind == "official"
        or not c.s.parties.leader_says.search(c.s.text[: c.m.start()])
    ):
        return None
    return v.to("mention", 0.5, _future_note(c), "a leader's plan with no date: the promise restated")


def future_fulfilment_is_progress(c: CueHit, v: Verdict) -> Verdict | None:
    """ "Will take effect on 10 November": a fulfilment announced for later is progress until it
    happens."""
    if c.modal.fut is None or v.signal != "fulfilled":
        return None
    return v.to("progress", 0.7, _future_note(c))


def conditional_future_step(c: CueHit, v: Verdict) -> Verdict | None:
    """ "Will apply again when the suspension runs out", "will reinstate it unless talks succeed": the
    schedule or a condition, not a decision taken."""
    if (
        c.modal.fut is None
        or v.signal not in ("broken", "delayed", "extended")
        or not re.search(r"\b(?:if|unless|when|once|as soon as|should)\b", c.s.text[c.m.end() :], re.I)
    ):
        return None
    return v.to(
        "mention", 0.5, _future_note(c), "a future step on a condition or at the scheduled end: a mention"
    )


def future_reversal_less_sure(c: CueHit, v: Verdict) -> Verdict | None:
    """A reversal, delay or extension announced for later still counts, with less confidence."""
    if c.modal.fut is None or v.signal not in ("broken", "delayed", "extended"):
        return None
    return v.to(v.signal, v.confidence - 0.15, _future_note(c))


def future_tense(c: CueHit, v: Verdict) -> Verdict | None:
    """Any other cue in the future tense keeps its signal; the note says it was read as a plan."""
    if c.modal.fut is None:
        return None
    return v.to(v.signal, v.confidence, _future_note(c))


def background_not_news(c: CueHit, v: Verdict) -> Verdict | None:
    """ "China had blocked exports", "after Beijing banned exports": the past perfect or an 'after'
    clause tells what came before the report's event."""
    if v.signal == "mention" or not _BACKGROUND.search(c.window):
        return None
    return v.to("mention", 0.45, "background in the past perfect or an 'after' clause: not fresh news")


def removal_is_the_promise(c: CueHit, v: Verdict) -> Verdict | None:
    """ "Orders cancelling the fentanyl tariff": removing the measure is the promise kept, not broken;
    cancelling the cut would be the reversal."""
    if (
        v.signal != "broken"
        or c.s.mode not in ("measure", "suspension")
        or not g.removes_measure(c.s.text, c.m)
    ):
        return None
    return v.to("progress", 0.65, "the cue removes the measure itself, which is what was promised: progress")


def dated_before_the_promise(c: CueHit, v: Verdict) -> Verdict | None:
    """ "Raised the tariff to 20% in March", "In September, China imported ...": an event dated before the
    commitment was announced is about the original measure, not this promise."""
    if v.signal == "mention":
        return None
    s, m = c.s, c.m
    clause_start = s.clauses[s.clause_of(m.start())][0]
    earlier = [
        d
        for d in _past_dates(c.dates, m.group(0), s.published)
        if d.date < s.cc.commitment.announced
        and (
            re.fullmatch(r"\s*(?:on|in|since|back in|as of)\s+", s.text[m.end() : d.start])
            or clause_start <= d.start < m.start()
        )
    ]
    if not earlier:
        return None
    return v.to(
        "mention", 0.45, f"the cue is dated {earlier[0].date}, before the promise: about the original measure"
    )


def fulfilment_dated_later(c: CueHit, v: Verdict) -> Verdict | None:
    """ "Takes effect on 10 November" in a report of 5 November: a fulfilment dated after publication is
    only progress (a purchase dated later is a delivery schedule, and still counts)."""
    pub = c.s.published
    if v.signal != "fulfilled" or c.s.mode == "purchase" or pub is None:
        return None
    later = [
        d
        for d in c.dates
        if d.date > pub
        and d.start > c.m.start() - 40
        and not re.search(
            r"\b(until|through|till|to|by|expires?|ends?|runs? out)\s+(?:on\s+)?$", c.s.text[: d.start], re.I
        )
    ]
    if not later:
        return None
    return v.to("progress", 0.7, f"fulfilment dated {later[0].date} after publication: progress")


def before_effective_date(c: CueHit, v: Verdict) -> Verdict | None:
    """A measure reported as in force before its effective date is only scheduled: progress. Unless the
    report says it applies at once ("with immediate effect"): a party may act before the date agreed."""
    eff, pub = c.s.cc.commitment.effective, c.s.published
    if v.signal != "fulfilled" or not (eff and pub and pub < eff) or c.s.mode in ("purchase", "visit"):
        return None
    if _IMMEDIATE.search(c.s.doc.text):
        return None
    return v.to("progress", 0.65, f"published before the effective date {eff}: progress")


def kept_beyond_the_end(c: CueHit, v: Verdict) -> Verdict | None:
    """ "Keeps the suspension in place until 2027", past the suspension's end: that is an extension."""
    ends = c.s.cc.commitment.ends
    if v.signal not in ("fulfilled", "progress") or c.s.mode != "suspension" or ends is None:
        return None
    beyond = [
        d
        for d in c.dates
        if d.start > c.m.start()
        and d.date > ends + dt.timedelta(days=30)
        and not (_YEAR_ONLY.fullmatch(d.text) and d.date.year == ends.year)  # "through 2026" is no later
        and re.search(
            r"\b(until|through|till|to|into)\s+(?:the\s+)?(?:end of\s+)?$", c.s.text[: d.start], re.I
        )
    ]
    if not beyond:
        return None
    confidence = max(v.confidence, 0.7) if not c.modal.fut else 0.65
    note = f"kept in place until {beyond[0].date}, after the end {ends}: extended"
    return replace(v.to("extended", confidence, note), new_date=beyond[0].date)


def partial_is_progress(c: CueHit, v: Verdict) -> Verdict | None:
    """ "Partial", "case-by-case", "limited": supplies or purchases resumed only in part are progress."""
    if v.signal != "fulfilled" or c.s.mode not in ("supply", "purchase") or not _PARTIAL.search(c.s.text):
        return None
    return v.to("progress", v.confidence, "only partly: progress")


def extension_new_end(c: CueHit, v: Verdict) -> Verdict | None:
    """The new end of an extension is a date bounded by "until" or "through" after the cue; in "extends
    the truce ahead of the November deadline" the date is the old end and says nothing of the new one."""
    if v.signal != "extended":
        return None
    bounded = [
        d
        for d in c.dates
        if d.start > c.m.start()
        and re.search(r"\b(until|through|till|to|into)\s+$", c.s.text[: d.start], re.I)
    ]
    return replace(v, new_date=bounded[0].date if bounded else None)


def extension_is_the_promise(c: CueHit, v: Verdict) -> Verdict | None:
    """An extension to (about) the commitment's own end, or announced long before it, is the promise
    itself being kept: fulfilled (progress when the decision applies later)."""
    ends, pub, new = c.s.cc.commitment.ends, c.s.published, v.new_date
    if v.signal != "extended":
        return None
    if not (
        (new is not None and ends is not None and new <= ends + dt.timedelta(days=3))
        or (new is None and pub and ends and pub < ends - dt.timedelta(days=120))
    ):
        return None
    note = "the extension is the promise itself: fulfilled"
    eff = c.s.cc.commitment.effective
    if c.modal.fut or (not c.s.cc.is_extension and eff and pub and pub < eff):  # applies later: a step
        return v.to("progress", 0.7, note)
    return v.to("fulfilled", v.confidence, note)


def date_of_the_step(c: CueHit, v: Verdict) -> Verdict | None:
    """A delay's new date is the last date ahead in the sentence; a visit's date is the first."""
    delayed = v.signal == "delayed"
    visit = c.s.mode == "visit" and v.signal != "mention"
    if v.new_date is not None or not (delayed or visit):
        return None
    pub = c.s.published
    ahead = [d for d in c.dates if pub is None or d.date >= pub]
    if not ahead:
        return None
    return replace(v, new_date=ahead[-1].date if delayed else ahead[0].date)


CUE_RULES: Stage[CueHit] = (
    target_rate_only,
    (not_done_after_due, not_done_yet),
    begun_needs_a_pause,
    (
        negated,
        speculation,
        restated_promise,
        future_purchase,
        scheduled_lapse,
        leaders_plan,
        future_fulfilment_is_progress,
        conditional_future_step,
        future_reversal_less_sure,
        future_tense,
    ),
    background_not_news,
    removal_is_the_promise,
    dated_before_the_promise,
    (fulfilment_dated_later, before_effective_date),
    kept_beyond_the_end,
    partial_is_progress,
    extension_new_end,
    extension_is_the_promise,
    date_of_the_step,
)


def read_cue(s: Sentence, cand: Candidate) -> Verdict:
    """What one cue says, after every cue rule."""
    _, cue, m = cand
    return apply(CUE_RULES, CueHit(s, cue, m), Verdict(cue.signal, cue.weight, m.group(0)))


def choose(s: Sentence, found: list[Candidate]) -> tuple[Verdict, int | None]:
    """The verdict of the best cue, and the clause it is in. A negated or speculative cue governs its own
    clause only: a cue in another clause (or before it, out of its modal's reach) can still report a fact
    ("denied it would cancel, saying preparations continue"). A restatement covers the whole sentence."""
    chosen: Verdict | None = None
    clause: int | None = None
    first_clause = s.clause_of(found[0][2].start()) if found else 0
    for cand in found[:6]:
        got = read_cue(s, cand)
        here = s.clause_of(cand[2].start())
        if chosen is None or (
            got.signal != "mention" and (here != first_clause or cand[2].end() <= found[0][2].start())
        ):
            chosen, clause = got, here
        if chosen.signal != "mention" or "restated_promise" in chosen.rules:
            break
    return (chosen or Verdict("mention", 0.5)), clause


# --- stage 3: the whole sentence -----------------------------------------------------------------------


def deadline_moved_later(s: Sentence, v: Verdict) -> Verdict | None:
    """ "On pace to meet the pledge by the end of February", "to travel in 2027 instead": a target date in
    the subject's clause after the due date means the promise slipped."""
    if v.signal not in ("mention", "progress"):
        return None
    spans = [s.clauses[c] for c in s.alias_clauses]
    moved = g.moved_deadline(s.cc, s.text, s.published, spans)
    if moved is None:
        return None
    note = f"a new date {moved.date} after the due date {s.cc.commitment.due}: delayed"
    return replace(v.to("delayed", 0.6, note, cue=v.cue or moved.text), new_date=moved.date)


def purchase_short_after_due(s: Sentence, v: Verdict) -> Verdict | None:
    """Purchases reported after the due date below the target ("only 8 MMT of the 12 MMT pledged") mean
    the pledge was missed: delayed, not progress."""
    c, q, pub = s.cc.commitment, s.quantity, s.published
    target, due = c.target, c.due
    if not (
        v.signal == "progress"
        and s.mode == "purchase"
        and q is not None
        and target is not None
        and due is not None
        and pub is not None
        and pub > due
        and q.value < target.value * 0.999
    ):
        return None
    if not (
        any(_is_target_amount(s.text, x) for x in extract_quantities(s.text, target.unit))
        or re.search(r"\b(?:below|short of|only|just|less than)\b", s.text, re.I)
    ):
        return None
    return v.to(
        "delayed", 0.65, f"{q.value:g} {target.unit} after the due date {due}, below the target: delayed"
    )


def _reaches_target(s: Sentence) -> bool:
    t, q = s.cc.commitment.target, s.quantity
    return bool(t and q is not None and q.cumulative and q.value >= t.value * 0.999)


def quantity_reaches_target(s: Sentence, v: Verdict) -> Verdict | None:
    """A running total that reaches the target, stated as fact, is fulfilment, whatever the verb."""
    if not _reaches_target(s) or v.signal not in ("mention", "progress"):
        return None
    if (
        _RESTATE.search(s.text)
        or _SPEC.search(s.text)
        or _NEG.search(s.text)
        or re.search(r"\b(will|would|shall|plans? to|to buy|to purchase)\b", s.text, re.I)
    ):
        return None
    assert s.quantity is not None
    note = f"cumulative {s.quantity.value:g} MMT reaches the target"
    return v.to("fulfilled", 0.75, note, cue=s.quantity.text)


def quantity_is_progress(s: Sentence, v: Verdict) -> Verdict | None:
    """An amount bought, booked or shipped, below the target, is progress even without a cue."""
    if s.quantity is None or _reaches_target(s) or v.signal != "mention":
        return None
    if _RESTATE.search(s.text) or _SPEC.search(s.text):
        return None
    if not re.search(r"\b(bought|purchased|booked|sold|shipped|exported|imported|sales)\b", s.text, re.I):
        return None
    return v.to("progress", 0.65, cue=s.quantity.text)


def announcement_coverage(s: Sentence, v: Verdict) -> Verdict | None:
    """The coverage of a deal in the days after it is announced restates what was agreed; no step has
    happened yet. A stated schedule ("will cut the tariff from November 10") is the first concrete step
    and stays progress."""
    pub, c = s.published, s.cc.commitment
    if (
        v.signal == "mention"
        or s.mode not in ("suspension", "measure", "enforcement")
        or pub is None
        or pub > c.announced + _ANNOUNCEMENT_COVERAGE
    ):
        return None
    if v.signal == "progress" and any(d.date > pub for d in find_dates(s.text, pub)):
        return None
    note = f"published on the announcement day {c.announced}: the promise, mention"
    return v.to("mention", min(v.confidence, 0.55), note)


def terms_document(s: Sentence, v: Verdict) -> Verdict | None:
    """ "The White House fact sheet says China will halt shipments": what a statement of the terms says
    will happen is the promise, not a step; the step is the order signed or the measure in force. A
    headline that names the document ("Fact sheet confirms ...") says where the whole report comes from."""
    if v.signal not in ("progress", "fulfilled") or not _FUTURE.search(s.text):
        return None
    title = s.doc.sentence(0) if s.doc.title_end > 0 else ""
    cited = _TERMS_DOCUMENT.search(s.text) or _TERMS_DOCUMENT.search(title)
    if cited is None:
        return None
    note = f"the terms as a document states them ({cited.group(0)!r})"
    return v.to("mention", min(v.confidence, 0.5), note)


def official_source(s: Sentence, v: Verdict) -> Verdict | None:
    """A government source is the most reliable witness of its own acts."""
    if v.signal == "mention" or not s.official:
        return None
    return v.to(v.signal, v.confidence + 0.1, "official source")


def attributed_to_officials(s: Sentence, v: Verdict) -> Verdict | None:
    """A statement attributed to officials ("the ministry said") is better than an unsourced one."""
    if v.signal == "mention" or not _ATTRIBUTED.search(s.text):
        return None
    return v.to(v.signal, v.confidence + 0.05, "attributed to officials")


def commentary(s: Sentence, v: Verdict) -> Verdict | None:
    """Analysts' views and opinion pieces are not statements of fact."""
    if v.signal == "mention" or not (
        _COMMENTARY.search(s.text) or _COMMENTARY_TITLE.search(s.doc.report.title)
    ):
        return None
    return v.to(v.signal, v.confidence - 0.15, "commentary, not a statement of fact")


def headline_less_sure(s: Sentence, v: Verdict) -> Verdict | None:
    """A headline compresses and simplifies: read from the title, a signal is a little less sure."""
    if not s.is_title:
        return None
    return v.to(v.signal, v.confidence - 0.05)


SENTENCE_RULES: Stage[Sentence] = (
    deadline_moved_later,
    purchase_short_after_due,
    quantity_reaches_target,
    quantity_is_progress,
    announcement_coverage,
    terms_document,
    (official_source, attributed_to_officials),
    commentary,
    headline_less_sure,
)


def rule_names() -> list[str]:
    """Every filter and rule, in the order the stages apply them: the reading's table of contents."""
    rules = [
        r
        for stage in (CUE_RULES, SENTENCE_RULES)
        for e in stage
        for r in (e if isinstance(e, tuple) else (e,))
    ]
    return [f.__name__ for f in CUE_FILTERS] + [r.__name__ for r in rules]


# --- the reading --------------------------------------------------------------------------------------


def read(cc: _Compiled, doc: _Doc, unit: _Unit, official: bool, parties: Parties) -> _Reading | None:
    """What the unit's focus sentence says about the commitment, through every stage; None when the only
    cues are acts of the other party (China suspending *its* port fees is no evidence about the US
    suspending its own)."""
    s = Sentence.of(cc, doc, unit, official, parties)
    found, foreign = candidates(s)
    if foreign and not found and s.mode in ("suspension", "measure") and subject_of_other_party(s):
        return None
    chosen, clause = choose(s, found)
    v = apply(SENTENCE_RULES, s, chosen)
    notes = [*s.notes, *v.notes]
    if clause is not None and len(s.clauses) > 1 and v.cue:
        a, b = s.clauses[clause]
        notes.append(f"cue in clause {clause + 1} of {len(s.clauses)}: {s.text[a:b].strip()!r}")
    if v.rules:
        notes.append("rules: " + ", ".join(v.rules))
    confidence = max(0.05, min(0.99, v.confidence))
    strength = (
        (0.0 if v.signal == "mention" else 1.0) + confidence + (0.05 if len(unit.sentences) == 1 else 0.0)
    )
    return _Reading(
        v.signal, round(confidence, 3), unit.focus, v.cue, notes, s.quantity, v.new_date, strength
    )
