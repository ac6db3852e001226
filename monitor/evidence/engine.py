"""The engine: relevance, reading and confidence for one report against every commitment. How a report
is judged, step by step, is told once, in the package docstring (`monitor/evidence/__init__.py`)."""

from __future__ import annotations

import datetime as dt
import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import ahocorasick

from monitor.config import Commitment, MatchTerms, Signal
from monitor.evidence.features import PairContext
from monitor.evidence.model import EvidenceModel, apply_model, shipped_model
from monitor.evidence.text import (
    _QUOTES,
    _case_sensitive,
    _DateHit,
    _expand,
    _is_target_amount,
    _lower_same_length,
    _past_dates,
    _term_key,
    extract_quantities,
    find_dates,
    normalise,
    split_sentences,
)
from monitor.evidence.types import (
    Explanation,
    Match,
    Quantity,
    Report,
)
from monitor.evidence.vocabulary import (
    _ANNOUNCEMENT_COVERAGE,
    _ATTRIBUTED,
    _BACKGROUND,
    _CLAUSE_BREAK,
    _CLAUSE_SPLIT,
    _COMMENTARY,
    _COMMENTARY_TITLE,
    _COMMON,
    _COMPOUND,
    _COUNTERPART_TERMS,
    _DENIAL,
    _FUTURE,
    _GENERIC_DEAL,
    _LEADER_SAYS,
    _MEASURE_NOUNS,
    _MODE_CUES,
    _MONTH_RE,
    _NEG,
    _OPINION_TITLE,
    _PARTIAL,
    _PARTY_RE,
    _RESTATE,
    _SAID,
    _SPEC,
    _SUSP_NOUNS,
    _TERMS_STATED,
    LEADERS,
    OFFICIAL_HINTS,
    RULE_NO_CHANGE,
    RULE_VETOES,
    THIRD_COUNTRIES,
    _actor_before,
    _clause_of,
    _Cue,
    clause_spans,
    strip_aggregator_suffix,
)

# --- compiled commitments ----------------------------------------------------------------------------


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


class EvidenceEngine:
    """Matches reports against a fixed set of commitments; build a new one when the watchlist changes.

    Construction compiles every term into one Aho-Corasick automaton, so matching a report costs one
    pass over its text plus work proportional to the commitments whose aliases actually occur.
    """

    def __init__(
        self,
        commitments: Sequence[Commitment],
        category_defaults: dict[str, MatchTerms] | None = None,
        model: EvidenceModel | Literal["shipped"] | None = "shipped",
    ) -> None:
        # The learned stage decides over the rules' reading unless a caller asks for the rules alone
        # (their own tests, and the training script, which learns from what the rules say).
        self.model = shipped_model() if model == "shipped" else model
        self.commitments = list(commitments)
        self.category_defaults = category_defaults or {}
        self._automaton: Any = ahocorasick.Automaton()
        self._keys: dict[str, bool] = {}  # key -> case-sensitive
        self._forms: dict[str, set[str]] = {}  # key -> original spellings (for case checks)
        self._alias_owner: dict[str, list[int]] = {}
        self._compiled: list[_Compiled] = []
        self._third = frozenset(self._add(t) for t in THIRD_COUNTRIES)
        self._leaders = frozenset(self._add(t) for t in LEADERS)
        self._places = frozenset(
            self._add(t)
            for t in (*_COUNTERPART_TERMS["US"], *_COUNTERPART_TERMS["China"])
            if not t.endswith("-")
        ) - {
            _term_key(t)
            for t in ("MOFCOM", "Ministry of Commerce", "USTR", "Trump administration", "American", "Chinese")
        }
        for i, c in enumerate(self.commitments):
            self._compiled.append(self._compile(i, c))
        self._index = {c.id: i for i, c in enumerate(self.commitments)}
        families: dict[frozenset[str], list[int]] = {}
        for cc in self._compiled:
            families.setdefault(cc.aliases, []).append(cc.index)
        for members in families.values():
            if len(members) > 1:
                for m in members:
                    self._compiled[m].family = tuple(members)
        for key in self._keys:
            self._automaton.add_word(key, key)
        if self._keys:
            self._automaton.make_automaton()

    # -- compilation

    def _add(self, term: str) -> str:
        key = _term_key(term)
        if not key:
            return key
        sensitive = _case_sensitive(term.translate(_QUOTES))
        self._keys[key] = self._keys.get(key, False) or sensitive
        self._forms.setdefault(key, set()).add(term.translate(_QUOTES))
        return key

    def _compile(self, index: int, c: Commitment) -> _Compiled:
        d = self.category_defaults.get(c.category, MatchTerms())
        aliases = [a for a in (*c.terms.aliases, *d.aliases) if a.strip()]
        if not aliases:
            aliases = [c.title]
        # Defaults fill in what a commitment leaves out: its own groups, when it has any, say exactly what
        # its subject needs (the affiliates rule need not name an export); otherwise the category's.
        groups = [g for g in (c.terms.require or d.require) if g]
        uniq_groups: list[list[str]] = []
        for g in groups:
            if {_term_key(t) for t in g} not in [{_term_key(t) for t in u} for u in uniq_groups]:
                uniq_groups.append(list(g))
        alias_keys = frozenset(self._add(a) for a in _expand(aliases))
        for k in alias_keys:
            self._alias_owner.setdefault(k, []).append(index)
        require = tuple(frozenset(self._add(t) for t in _expand(g)) for g in uniq_groups)
        exclude = frozenset(self._add(t) for t in (*c.terms.exclude, *d.exclude))
        counterpart: frozenset[str] = frozenset()
        other = {"china": "US", "us": "China", "united states": "China"}.get(c.party.lower())
        if other is not None:
            title = c.title.translate(_QUOTES)
            names = _COUNTERPART_TERMS[other]
            # "North America" names a region, not the US ("precursors shipped to North America")
            if any(
                re.search(
                    rf"(?<![\w])(?<!North )(?<!South )(?<!Latin )(?<!Central ){re.escape(n)}(?![\w])", title
                )
                for n in names
            ):
                counterpart = frozenset(self._add(n) for n in names)
        mode = _mode_of(c)
        other_party: frozenset[str] = frozenset()
        own_party: frozenset[str] = frozenset()
        if other is not None:
            other_party = frozenset(self._add(n) for n in _COUNTERPART_TERMS[other] if not n.endswith("-"))
            own = "China" if other == "US" else "US"
            own_party = frozenset(self._add(n) for n in _COUNTERPART_TERMS[own] if not n.endswith("-"))
        return _Compiled(
            index, c, alias_keys, require, tuple(tuple(g) for g in uniq_groups), exclude, counterpart, mode,
            _COMMON + _MODE_CUES[mode], other_party=other_party, own_party=own_party,
        )  # fmt: skip

    # -- scanning

    def _scan(self, report: Report) -> _Doc:
        title = strip_aggregator_suffix(normalise(report.title))
        summary = normalise(report.summary)
        if title and title[-1] not in ".!?":
            title += "."
        text = f"{title} {summary}".strip() if title else summary
        low = _lower_same_length(text)
        spans = split_sentences(summary)
        title_end = len(title)
        offset = len(title) + 1 if title else 0
        all_spans = ([(0, len(title))] if title else []) + [(a + offset, b + offset) for a, b in spans]
        if not title:
            title_end = 0
        starts = [a for a, _ in all_spans]
        hits: list[dict[str, list[_Hit]]] = [{} for _ in all_spans]
        if self._keys and all_spans:
            for end, key in self._automaton.iter(low):
                start = end - len(key) + 1
                if start > 0 and (low[start - 1].isalnum() or low[start - 1] == "_"):
                    continue
                if end + 1 < len(low) and (low[end + 1].isalnum() or low[end + 1] == "_"):
                    # allow a plural or possessive "s" only when the term itself lacks it
                    continue
                if self._keys[key] and text[start : end + 1] not in self._forms[key]:
                    continue
                si = bisect_right(starts, start) - 1
                if si < 0:
                    continue
                hits[si].setdefault(key, []).append(_Hit(start, end + 1, key))
        published = report.published.date() if report.published is not None else None
        compounds = [m.span() for m in _COMPOUND.finditer(text)]
        return _Doc(text, low, all_spans, starts, title_end, hits, published, report, compounds)

    # -- relevance

    def _units(self, cc: _Compiled, doc: _Doc, reasons: list[str] | None) -> list[_Unit]:
        """Sentence-level units in which the commitment's subject is complete."""
        has_title = doc.title_end > 0
        units: list[_Unit] = []
        n = len(doc.spans)
        for i in range(n):
            h = doc.hits_by_sentence[i]
            alias_here = [k for k in h if k in cc.aliases]
            candidates: list[tuple[int, ...]] = [(i,)]
            if has_title and i > 0:
                candidates.append((0, i))
            for sents in candidates:
                keys: set[str] = set()
                for s in sents:
                    keys.update(doc.hits_by_sentence[s])
                if doc.compounds and keys & cc.other_party:
                    keys -= {k for k in keys & cc.other_party if self._only_in_compounds(doc, sents, k)}
                    if keys & cc.other_party:
                        # the other party named on its own is the one talked about: "US port fee pause,
                        # part of the US-China truce" names no Chinese measure
                        keys -= {k for k in keys & cc.own_party if self._only_in_compounds(doc, sents, k)}
                aliases = [k for k in keys if k in cc.aliases]
                if not aliases:
                    continue
                if len(sents) == 2 and not alias_here and not any(k in g for g in cc.require for k in h):
                    continue  # the sentence must itself carry part of the subject
                missing = [gi for gi, g in enumerate(cc.require) if not (keys & g)]
                if missing:
                    if reasons is not None and sents == (i,) and alias_here:
                        shown = ", ".join(cc.require_display[missing[0]][:6])
                        reasons.append(
                            f"sentence {i}: alias {alias_here[0]!r} but no word of required group [{shown}]"
                        )
                    continue
                excl = keys & cc.exclude
                if excl:
                    if reasons is not None:
                        reasons.append(f"sentence {i}: excluded by {sorted(excl)[0]!r}")
                    continue
                if cc.counterpart and keys & self._third and not keys & cc.counterpart:
                    if reasons is not None:
                        third = sorted(keys & self._third)[0]
                        reasons.append(
                            f"sentence {i}: about {third!r}, not the counterpart named in the commitment"
                        )
                    continue
                if cc.mode == "visit" and not self._traveller_ok(cc, doc, sents):
                    if reasons is not None:
                        reasons.append(f"sentence {i}: the traveller in this sentence is someone else")
                    continue
                groups = [sorted(keys & g)[0] for g in cc.require]
                units.append(_Unit(sents, i, sorted(aliases)[0], groups))
                break
        return units

    @staticmethod
    def _only_in_compounds(doc: _Doc, sents: tuple[int, ...], key: str) -> bool:
        """Whether every occurrence of ``key`` in ``sents`` is one half of a "US-China" compound."""
        for s in sents:
            for h in doc.hits_by_sentence[s].get(key, []):
                if not any(
                    a <= h.start and h.end <= b and (h.start, h.end) != (a, b) for a, b in doc.compounds
                ):
                    return False
        return True

    _TRAVEL = re.compile(
        r"\b(visit(?:s|ed|ing)?|trip|travel(?:s|led|ed|ing)?|arriv(?:e|es|ed|al|ing)|land(?:s|ed)|tour|"
        r"state visit|go|going|head(?:s|ed|ing)?|reach(?:ed|es)|touch(?:es|ed)? down|"
        r"summits?|talks|meetings?)\b",
        re.I,
    )
    # Both leaders take part in a summit, talks or a meeting: the host is there as much as the guest, so
    # only the place decides ("Xi and Trump concluded meetings in Beijing" is the Beijing visit).
    _JOINT = re.compile(r"summits?|talks|meetings?", re.I)

    @staticmethod
    def _meeting_at(
        sentence: str, tm: re.Match[str], places: list[tuple[int, str]], dest_terms: set[str]
    ) -> bool:
        """A meeting held at the destination: "summit in Beijing", "meetings in the Chinese capital", or
        "his Beijing summit" (the place just before the word), not "before meeting Chinese President"."""
        for pos, k in places:
            if k not in dest_terms:
                continue
            if pos >= tm.end() and re.fullmatch(
                r"\s+(?:[\w'-]+\s+){0,4}?(?:in|at)\s+(?:the\s+)?", sentence[tm.end() : pos]
            ):
                return True
            if pos < tm.start() and re.fullmatch(r"[\w'-]+(?:\s+[\w'-]+)?\s+", sentence[pos : tm.start()]):
                return True
        return False

    def _traveller_ok(self, cc: _Compiled, doc: _Doc, sents: tuple[int, ...]) -> bool:
        """Who travels where. In "Trump invited Xi to visit Washington" the visitor is Xi (the leader named
        nearest before the travel word) and the destination is Washington (the place named just after
        it); either one pointing elsewhere rules the sentence out for this commitment."""
        dest_terms: set[str] = set()
        for g in cc.require:
            dest_terms |= g & self._places
        for s in sents:
            a, b = doc.spans[s]
            sentence = doc.text[a:b]
            leaders: list[tuple[int, str]] = []
            places: list[tuple[int, str]] = []
            for k, hs in doc.hits_by_sentence[s].items():
                if k in self._leaders:
                    # the inviter is not the traveller: "Trump accepts Xi's invitation to visit Beijing"
                    leaders.extend(
                        (hh.start - a, k)
                        for hh in hs
                        if not re.match(
                            r"'s? (?:invitation|invite|offer|request)", doc.text[hh.end : hh.end + 14]
                        )
                    )
                if k in self._places:
                    places.extend((hh.start - a, k) for hh in hs)
            leaders.sort()
            places.sort()
            for tm in self._TRAVEL.finditer(sentence):
                after = [k for pos, k in places if tm.end() <= pos <= tm.end() + 40]
                if after and dest_terms and after[0] not in dest_terms:
                    continue
                before_place = [k for pos, k in places if tm.start() - 25 <= pos < tm.start()]
                if not after and before_place and dest_terms and before_place[-1] not in dest_terms:
                    continue  # "a Washington visit" names the destination before the word
                if self._JOINT.fullmatch(tm.group(0)):
                    if any(k in cc.aliases for _, k in leaders) and self._meeting_at(
                        sentence, tm, places, dest_terms
                    ):
                        return True
                    continue
                before = [k for pos, k in leaders if pos < tm.start()]
                if before and re.search(r"\b(?:his|her)\s+(?:\w+\s+)?$", sentence[: tm.start()], re.I):
                    before = before[:1]  # "Trump met Xi ..., the second day of his state visit": the subject
                if before:
                    if before[-1] in cc.aliases:
                        return True
                elif any(k in cc.aliases for _, k in leaders) or (
                    s == 0 and any(k in cc.aliases for k in doc.hits_by_sentence[0])
                ):
                    return True
        return False

    # -- signals

    def _read(self, cc: _Compiled, doc: _Doc, unit: _Unit, official: bool) -> _Reading | None:
        """What the unit's focus sentence says about the commitment; None when the only cues are acts of
        the other party (China suspending *its* port fees is no evidence about the US suspending its own)."""
        i = unit.focus
        a, b = doc.spans[i]
        sentence = doc.text[a:b].strip()
        offs = b - a - len(doc.text[a:b].lstrip())
        base = a + (len(doc.text[a:b]) - len(doc.text[a:b].lstrip()))
        del offs
        alias_pos = [
            h.start - base
            for k in doc.hits_by_sentence[i]
            if k in cc.aliases
            for h in doc.hits_by_sentence[i][k]
        ]
        if not alias_pos:
            alias_pos = [0]
        notes: list[str] = []
        clauses = clause_spans(sentence)
        alias_clauses = {_clause_of(clauses, p) for p in alias_pos}
        is_title = i == 0 and doc.title_end > 0
        candidates: list[tuple[float, _Cue, re.Match[str]]] = []
        foreign = 0
        for cue in cc.cues:
            for m in cue.pattern.finditer(sentence):
                if cue.kind == "official" and not (official and is_title):
                    continue
                if re.match(r"\w+ing\b", m.group(0)) and re.search(
                    r"\b(?:on|about|of|for|against|over|from|without)\s+$", sentence[: m.start()], re.I
                ):
                    continue  # "a comment period on restoring the fees": a gerund after a preposition
                if cue.signal == "extended" and not self._extension_ok(cc, sentence, m):
                    continue
                dist = min(abs(m.start() - p) for p in alias_pos)
                score = cue.weight - dist / 2000.0
                if cue.kind == "base" and not (
                    self._modal_before(sentence, m.start()) or self._plural_subject(sentence, m.start())
                ):
                    continue
                if re.search(
                    r"\b(the|a|an|its|this|these|their)\s+$", sentence[: m.start()], re.I
                ) and re.match(r"\w+ed\b|lower\b|higher\b", m.group(0)):
                    continue  # "the suspended affiliates rule": an adjective, not an event
                if m.start() == 0 and re.match(r"\w+ing\b", m.group(0)) and not (official and is_title):
                    continue  # a sentence-initial gerund is a noun ("Halving the tariff rewards..."); an
                    # official notice's title is the exception ("Modifying Reciprocal Tariff Rates")
                clause = _clause_of(clauses, m.start())
                if cc.mode in ("suspension", "measure"):
                    ca, _ = clauses[clause]
                    actor = _actor_before(sentence[ca : m.start()])
                    if (
                        actor is not None
                        and actor not in (cc.commitment.party, "both")
                        and cc.commitment.party in _PARTY_RE
                    ):
                        foreign += 1
                        continue  # "China ... suspends port fees" is not the US suspending its own
                    if actor == "both":
                        score -= 0.1
                if clause in alias_clauses:
                    score += 0.2
                candidates.append((score, cue, m))
        if foreign and not candidates and cc.mode in ("suspension", "measure"):
            # the subject itself belongs to the other party: "China confirms tariff cuts on US goods and
            # suspends port fees" says nothing about the US port fees
            own = [_actor_before(sentence[clauses[_clause_of(clauses, p)][0] : p]) for p in alias_pos]
            if all(o is not None and o not in (cc.commitment.party, "both") for o in own):
                return None
        candidates.sort(key=lambda t: -t[0])
        best: tuple[float, _Cue, re.Match[str]] | None = candidates[0] if candidates else None
        quantity = self._quantity(cc, sentence)
        if quantity is not None and not self._in_period(cc, sentence, doc.published):
            notes.append("the quantity is dated before the commitment's period: not evidence for it")
            quantity = None
        confidence = 0.5
        signal: Signal = "mention"
        cue_text = ""
        new_date: dt.date | None = None

        def modify(
            cand: tuple[float, _Cue, re.Match[str]], notes: list[str]
        ) -> tuple[Signal, float, str, dt.date | None]:
            """The cue's signal after negation, speculation, tense, restatement and dates."""
            _, cue, m = cand
            new_date: dt.date | None = None
            signal, confidence, cue_text = cue.signal, cue.weight, m.group(0)
            window = self._window(sentence, m.start())
            if cue.kind == "rate" and not self._rate_ok(cc, m.group(0)):
                return "mention", 0.5, "", None
            if cue.kind == "overdue":
                if self._overdue(cc, doc.published) and not _SPEC.search(window):
                    notes.append("not done after the due date: delayed")
                    return "delayed", cue.weight, m.group(0), None
                notes.append("not done yet, before the due date: a mention")
                return "mention", 0.5, "", None
            if cue.kind == "begun" and not re.search(
                r"\b(?:suspension|pause|waiver|reprieve|moratorium|exemption|truce)s?\b[^.;]{0,50}$",
                sentence[: m.start()],
                re.I,
            ):
                return "mention", 0.5, "", None
            neg = _NEG.search(" ".join(window.split()[-6:])) or (_DENIAL.search(sentence[: m.start()]))
            spec = _SPEC.search(window)
            # "decided to suspend" reports a decision taken, not a plan
            fut = _FUTURE.search(window) or (
                re.search(r"\bto\s*$", window)
                if not re.search(
                    r"\b(?:decided|decides|decision|determined|voted|moved|began|begun|started|chose)\s+to\s*$",
                    window,
                    re.I,
                )
                else None
            )
            restate = _RESTATE.search(window)
            if fut and fut.group(0).lower() == "would" and not _SAID.search(sentence[: m.start()]):
                spec, fut = fut, None
            if spec and spec.group(0).lower() == "would" and _SAID.search(sentence[: m.start()]):
                fut, spec = spec, None
            dates = find_dates(sentence, doc.published)
            if neg:
                notes.append(f"negated by {neg.group(0)!r}")
                overdue = self._overdue(cc, doc.published)
                if signal in ("fulfilled", "progress") and overdue:
                    signal, confidence = "delayed", 0.6
                else:
                    signal, confidence = "mention", 0.45
            elif spec:
                notes.append(f"speculation ({spec.group(0)!r}): at most a mention")
                signal, confidence = "mention", 0.35
            elif restate and signal in ("fulfilled", "progress"):
                notes.append(f"restates the promise ({restate.group(0)!r}), no step taken")
                signal, confidence = "mention", 0.5
            elif fut:
                notes.append(f"future tense ({fut.group(0).strip()!r})")
                if cc.mode == "purchase" and signal in ("progress", "fulfilled"):
                    notes.append("a purchase promised is not a purchase made")
                    signal, confidence = "mention", 0.5
                elif cue.kind == "lapse":
                    notes.append("a time limit scheduled to run out is not a decision")
                    signal, confidence = "mention", 0.5
                elif (
                    signal in ("fulfilled", "progress")
                    and not (dates or official or cue.kind == "official")
                    and _LEADER_SAYS.search(sentence[: m.start()])
                ):
                    # "Trump says he'll cut tariffs on China": a leader restating the promise, with no
                    # date set and no official act; a scheduled step ("will fall to 10% from November
                    # 10") or an agency's decision ("Commerce to pause the rule") stays progress
                    notes.append("a leader's plan with no date: the promise restated")
                    signal, confidence = "mention", 0.5
                elif signal == "fulfilled":
                    signal, confidence = "progress", 0.7
                elif signal in ("broken", "delayed", "extended") and re.search(
                    r"\b(?:if|unless|when|once|as soon as|should)\b", sentence[m.end() :], re.I
                ):
                    # "the rule will apply again when the suspension runs out", "will reinstate it
                    # unless talks succeed": the schedule or a condition, not a decision taken
                    notes.append("a future step on a condition or at the scheduled end: a mention")
                    signal, confidence = "mention", 0.5
                elif signal in ("broken", "delayed", "extended"):
                    confidence -= 0.15
            if signal != "mention" and _BACKGROUND.search(window):
                notes.append("background in the past perfect or an 'after' clause: not fresh news")
                signal, confidence = "mention", 0.45
            if (
                signal == "broken"
                and cc.mode in ("measure", "suspension")
                and self._removes_measure(sentence, m)
            ):
                # "orders cancelling the fentanyl tariff": removing the measure is the promise kept
                notes.append("the cue removes the measure itself, which is what was promised: progress")
                signal, confidence = "progress", 0.65
            cue_clause = clauses[_clause_of(clauses, m.start())]
            earlier = [
                d
                for d in _past_dates(dates, m.group(0), doc.published)
                if d.date < cc.commitment.announced
                and (
                    re.fullmatch(r"\s*(?:on|in|since|back in|as of)\s+", sentence[m.end() : d.start])
                    or cue_clause[0] <= d.start < m.start()  # "In September, China imported ..."
                )
            ]
            if signal != "mention" and earlier:
                notes.append(
                    f"the cue is dated {earlier[0].date}, before the promise: about the original measure"
                )
                signal, confidence = "mention", 0.45
            if signal == "fulfilled":
                later = [
                    d
                    for d in dates
                    if doc.published
                    and d.date > doc.published
                    and d.start > m.start() - 40
                    and not re.search(
                        r"\b(until|through|till|to|by|expires?|ends?|runs? out)\s+(?:on\s+)?$",
                        sentence[: d.start],
                        re.I,
                    )
                ]
                eff = cc.commitment.effective
                if later and cc.mode != "purchase":
                    notes.append(f"fulfilment dated {later[0].date} after publication: progress")
                    signal, confidence = "progress", 0.7
                elif eff and doc.published and doc.published < eff and cc.mode not in ("purchase", "visit"):
                    notes.append(f"published before the effective date {eff}: progress")
                    signal, confidence = "progress", 0.65
            ends = cc.commitment.ends
            if signal in ("fulfilled", "progress") and cc.mode == "suspension" and ends is not None:
                beyond = [
                    d
                    for d in dates
                    if d.start > m.start()
                    and d.date > ends + dt.timedelta(days=30)
                    and re.search(
                        r"\b(until|through|till|to|into)\s+(?:the\s+)?(?:end of\s+)?$",
                        sentence[: d.start],
                        re.I,
                    )
                ]
                if beyond:
                    notes.append(f"kept in place until {beyond[0].date}, after the end {ends}: extended")
                    signal, new_date = "extended", beyond[0].date
                    confidence = max(confidence, 0.7) if not fut else 0.65
            if signal == "fulfilled" and cc.mode in ("supply", "purchase") and _PARTIAL.search(sentence):
                notes.append("only partly: progress")
                signal = "progress"
            if signal == "extended":
                after = [d for d in dates if d.start > m.start()]
                bounded = [
                    d
                    for d in after
                    if re.search(r"\b(until|through|till|to|into)\s+$", sentence[: d.start], re.I)
                ]
                # Only a bounded date ("until", "through") is the new end: in "extends the truce ahead of
                # the November deadline" the date is the old end, and says nothing about the new one.
                new_date = bounded[0].date if bounded else None
                ends = cc.commitment.ends
                if (
                    new_date is not None and ends is not None and new_date <= ends + dt.timedelta(days=3)
                ) or (
                    new_date is None
                    and doc.published
                    and ends
                    and doc.published < ends - dt.timedelta(days=120)
                ):
                    notes.append("the extension is the promise itself: fulfilled")
                    signal = "fulfilled"
                    if fut:  # the decision to extend is the fulfilment, whenever it applies from
                        signal, confidence = "progress", 0.7
            if signal in ("delayed", "progress") or (cc.mode == "visit" and signal != "mention"):
                after = [d for d in dates if doc.published is None or d.date >= doc.published]
                if after and new_date is None and (signal == "delayed" or cc.mode == "visit"):
                    new_date = after[-1].date if signal == "delayed" else after[0].date
            return signal, confidence, cue_text, new_date

        chosen: tuple[Signal, float, str, dt.date | None] | None = None
        first_clause = _clause_of(clauses, best[2].start()) if best is not None else 0
        kept: list[str] = []
        for cand in candidates[:6]:
            trial: list[str] = []
            got = modify(cand, trial)
            if chosen is None:
                chosen, kept = got, trial
            elif got[0] != "mention" and (
                _clause_of(clauses, cand[2].start()) != first_clause
                or (best is not None and cand[2].end() <= best[2].start())
            ):  # ... and a cue before the neutralised one is outside the reach of its modal
                # a negated or speculative cue governs its own clause only: another clause can
                # still report a fact ("denied it would cancel, saying preparations continue")
                chosen, kept = got, trial
            if chosen[0] != "mention" or any("restates the promise" in n for n in kept):
                break  # a restatement of the promise covers the whole sentence
        if chosen is not None:
            signal, confidence, cue_text, new_date = chosen
            notes.extend(kept)
        moved = (
            self._moved_deadline(cc, sentence, doc.published, [clauses[c] for c in alias_clauses])
            if signal in ("mention", "progress")
            else None
        )
        if moved is not None:
            notes.append(f"a new date {moved.date} after the due date {cc.commitment.due}: delayed")
            signal, confidence, new_date = "delayed", 0.6, moved.date
            cue_text = cue_text or moved.text
        due = cc.commitment.due
        target = cc.commitment.target
        if (
            signal == "progress"
            and cc.mode == "purchase"
            and quantity is not None
            and target is not None
            and due is not None
            and doc.published is not None
            and doc.published > due
            and quantity.value < target.value * 0.999
            and (
                any(_is_target_amount(sentence, q) for q in extract_quantities(sentence, target.unit))
                or re.search(r"\b(?:below|short of|only|just|less than)\b", sentence, re.I)
            )
        ):
            notes.append(
                f"{quantity.value:g} {target.unit} after the due date {due}, below the target: delayed"
            )
            signal, confidence = "delayed", 0.65
        if quantity is not None:
            if (
                cc.commitment.target
                and quantity.cumulative
                and quantity.value >= cc.commitment.target.value * 0.999
            ):
                if (
                    signal in ("mention", "progress")
                    and not _RESTATE.search(sentence)
                    and not _SPEC.search(sentence)
                    and not _NEG.search(sentence)
                    and not re.search(r"\b(will|would|shall|plans? to|to buy|to purchase)\b", sentence, re.I)
                ):
                    signal, confidence, cue_text = "fulfilled", 0.75, quantity.text
                    notes.append(f"cumulative {quantity.value:g} MMT reaches the target")
            elif (
                signal == "mention"
                and not _RESTATE.search(sentence)
                and not _SPEC.search(sentence)
                and (
                    re.search(
                        r"\b(bought|purchased|booked|sold|shipped|exported|imported|sales)\b", sentence, re.I
                    )
                )
            ):
                signal, confidence, cue_text = "progress", 0.65, quantity.text
        if (
            signal != "mention"
            and cc.mode in ("suspension", "measure", "enforcement")
            and doc.published is not None
            and doc.published <= cc.commitment.announced + _ANNOUNCEMENT_COVERAGE
            and not (
                signal == "progress"
                and any(d.date > doc.published for d in find_dates(sentence, doc.published))
            )
        ):  # the summit coverage restates what was agreed, no step has happened yet; a stated schedule
            # ("will cut the tariff from November 10") is the first concrete step and stays progress
            notes.append(f"published on the announcement day {cc.commitment.announced}: the promise, mention")
            signal, confidence = "mention", min(confidence, 0.55)
        if signal != "mention":
            if official:
                confidence += 0.1
                notes.append("official source")
            elif _ATTRIBUTED.search(sentence):
                confidence += 0.05
                notes.append("attributed to officials")
            if _COMMENTARY.search(sentence) or _COMMENTARY_TITLE.search(doc.report.title):
                confidence -= 0.15
                notes.append("commentary, not a statement of fact")
        if i == 0 and doc.title_end:
            confidence -= 0.05
        confidence = max(0.05, min(0.99, confidence))
        strength = (
            {"mention": 0.0}.get(signal, 1.0) + confidence + (0.05 if len(unit.sentences) == 1 else 0.0)
        )
        return _Reading(signal, round(confidence, 3), i, cue_text, notes, quantity, new_date, strength)

    @staticmethod
    def _window(sentence: str, cue_start: int) -> str:
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

    @staticmethod
    def _moved_deadline(
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

    @staticmethod
    def _rate_ok(cc: _Compiled, text: str) -> bool:
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

    @staticmethod
    def _plural_subject(sentence: str, pos: int) -> bool:
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

    @staticmethod
    def _modal_before(sentence: str, pos: int) -> bool:
        words = sentence[:pos].split()[-3:]
        return bool(
            words
            and re.search(
                r"\b(will|to|shall|'ll|would|could|may|might|must|not|n't|did|does|cannot)$",
                " ".join(words),
                re.I,
            )
        )

    @staticmethod
    def _extension_ok(cc: _Compiled, sentence: str, m: re.Match[str]) -> bool:
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

    @staticmethod
    def _overdue(cc: _Compiled, published: dt.date | None) -> bool:
        """Whether "has yet to" reads as late. A commitment with no date of its own (Nexperia's exports)
        was meant to happen at once: a week after the announcement, not having happened is a delay."""
        c = cc.commitment
        limit = c.due or c.effective or (c.announced + dt.timedelta(days=7))
        return bool(published and limit and published > limit)

    @staticmethod
    def _quantity(cc: _Compiled, sentence: str) -> Quantity | None:
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

    @staticmethod
    def _removes_measure(sentence: str, m: re.Match[str]) -> bool:
        """A reversal cue whose object is the measure (tariff, fee, control), not the relief (the cut,
        the suspension, the deal): cancelling a tariff is the cut, cancelling the cut is the reversal."""
        if not re.match(r"cancel|revok|scrap|abandon|call|tore|tear|lift|remov", m.group(0), re.I):
            return False  # "reinstated", "reimposed": the measure is back, a reversal
        after = sentence[m.end() : m.end() + 60]
        obj = re.match(
            rf"\s+(?:\S+\s+){{0,4}}?({_SUSP_NOUNS}|cuts?|reductions?|{_MEASURE_NOUNS})\b", after, re.I
        )
        return obj is not None and re.fullmatch(_MEASURE_NOUNS, obj.group(1), re.I) is not None

    @staticmethod
    def _in_period(cc: _Compiled, sentence: str, published: dt.date | None) -> bool:
        """A quantity counts toward a target only inside the commitment's period: a report published
        before the period opens, or a figure for a year (or season) that ended before the promise was
        made ("nearly 27 million tons in 2024", "2019-2020 imports"), is history, not progress."""
        c = cc.commitment
        start = c.effective or c.announced
        if published is not None and published < start:
            return False
        years = [int(y) for y in re.findall(r"\b((?:19|20)\d\d)\b", sentence)]
        return not years or max(years) >= c.announced.year

    # -- family disambiguation (the 2025 and the 2026 soybean pledges share their words)

    def _family_score(self, cc: _Compiled, doc: _Doc, sentences: set[int]) -> float:
        c = cc.commitment
        text = " ".join(doc.sentence(s) for s in sorted(sentences))
        score = 0.0
        # "the 2025/26 marketing year" names a crop season, not the year the pledge covers
        years = {int(y) for y in re.findall(r"\b(20\d\d)\b(?!\s*/\s*(?:20)?\d\d)(?<!/20\d\d)", text)}
        pub = doc.published
        if pub is not None:
            low = text.lower()
            if re.search(r"\bnext year\b|\bin the coming year\b", low):
                years.add(pub.year + 1)
            if re.search(r"\bthis year\b", low):
                years.add(pub.year)
            if re.search(r"\bby (?:the )?(?:end of the year|year-end|year end)\b", low):
                # read early in a year with a past tense, the year end is the one just gone
                past = pub.month <= 2 and re.search(
                    r"\b(?:bought|purchased|imported|booked|fell|missed)\b", low
                )
                years.add(pub.year - 1 if past else pub.year)
            if re.search(r"\blast year\b", low):
                years.add(pub.year - 1)
        due_year = c.due.year if c.due else None
        if due_year in years:
            score += 2
        elif years and due_year is not None:
            score -= 1
        if c.target is not None:
            for q in extract_quantities(text, c.target.unit):
                if 0.9 * c.target.value <= q.value <= 1.15 * c.target.value:
                    score += 2
            for sib in cc.family:
                t = self._compiled[sib].commitment.target
                if (
                    sib != cc.index
                    and t is not None
                    and t.value != c.target.value
                    and any(
                        0.9 * t.value <= q.value <= 1.15 * t.value for q in extract_quantities(text, t.unit)
                    )
                ):
                    score -= 2
        if pub is not None:
            start = c.announced
            end = c.due or c.ends
            if end is not None and start <= pub <= end:
                score += 1
            # the period a purchase pledge covers: the 2026 pledge is about buying in 2026
            if due_year is not None and pub.year == due_year:
                score += 0.5
        return score

    # -- public API

    def match(self, report: Report) -> list[Match]:
        """The matches for one report: only commitments whose aliases occur are examined."""
        if report.date_unreadable:
            return []
        doc = self._scan(report)
        candidates = self._candidates(doc)
        exps = self._judge(doc, candidates, explain=self.model is not None)
        self._second_stage(doc, exps, len(candidates))
        return [e.match for e in exps if e.match is not None]

    def explain(self, report: Report) -> list[Explanation]:
        """One explanation per commitment on the watchlist, matched or not, with the reasons."""
        doc = self._scan(report)
        if report.date_unreadable:
            return [
                Explanation(c.id, False, ["the publication date does not parse: never evidence"])
                for c in self.commitments
            ]
        candidates = set(self._candidates(doc))
        exps = self._judge(doc, list(range(len(self._compiled))), explain=True)
        self._second_stage(doc, [e for i, e in enumerate(exps) if i in candidates], len(candidates))
        return exps

    def _candidates(self, doc: _Doc) -> list[int]:
        """Commitments with an alias anywhere in the text: the only ones worth a closer look."""
        found: set[int] = set()
        for h in doc.hits_by_sentence:
            for k in h:
                owners = self._alias_owner.get(k)
                if owners:
                    found.update(owners)
        return sorted(found)

    def _second_stage(self, doc: _Doc, exps: list[Explanation], candidates: int) -> None:
        """The learned stage over the rules' explanations of the candidates (see `model`)."""
        if self.model is not None:
            apply_model(self.model, self._contexts(doc, exps, candidates))

    def _contexts(self, doc: _Doc, exps: list[Explanation], candidates: int) -> list[PairContext]:
        """What the model reads for each candidate. A report from before a commitment was made, and a
        pair the rules vetoed (`RULE_VETOES`), stay out whatever the model would say."""
        official = self._official(doc.report)
        out = []
        for exp in exps:
            cc = self._compiled[self._index[exp.commitment]]
            if doc.published is not None and doc.published < cc.commitment.announced:
                continue
            if exp.match is None and any(v in r for r in exp.reasons for v in RULE_VETOES):
                continue
            no_change = exp.match is None and any(v in r for r in exp.reasons for v in RULE_NO_CHANGE)
            out.append(PairContext(doc, cc, exp, official, candidates, no_change))
        return out

    def pair_contexts(self, report: Report) -> list[PairContext]:
        """The rules' reading of every candidate pair with its context, before any model: what the
        training script learns from, built by the very code the daemon runs."""
        if report.date_unreadable:
            return []
        doc = self._scan(report)
        candidates = self._candidates(doc)
        return self._contexts(doc, self._judge(doc, candidates, explain=True), len(candidates))

    @staticmethod
    def _official(report: Report) -> bool:
        if report.official is not None:
            return report.official
        return bool(OFFICIAL_HINTS.search(f"{report.source} {report.link}"))

    def _judge(self, doc: _Doc, indices: list[int], explain: bool) -> list[Explanation]:
        official = self._official(doc.report)
        out: list[Explanation] = []
        readings: dict[int, tuple[_Reading, _Unit, list[_Unit]]] = {}
        exps: dict[int, Explanation] = {}
        for idx in indices:
            cc = self._compiled[idx]
            c = cc.commitment
            exp = Explanation(c.id, False)
            exps[idx] = exp
            reasons: list[str] | None = exp.reasons if explain else None
            if doc.published is not None and doc.published < c.announced:
                exp.reasons.append(
                    f"published {doc.published} before the commitment was announced on {c.announced}: "
                    "never evidence"
                )
                continue
            if not any(k in cc.aliases for h in doc.hits_by_sentence for k in h):
                exp.reasons.append("no alias of this commitment in the text")
                continue
            units = self._units(cc, doc, reasons)
            if not units:
                exp.reasons.append("no sentence (or title plus sentence) holds the whole subject")
                continue
            best: tuple[_Reading, _Unit] | None = None
            for u in units:
                r = self._read(cc, doc, u, official)
                if r is None:
                    continue
                if best is None or r.strength > best[0].strength:
                    best = (r, u)
            if best is None:
                exp.reasons.append("every cue is an act of the other party, not this commitment's")
                continue
            readings[idx] = (best[0], best[1], units)
            exp.reading = best[0].signal
        self._resolve_families(doc, readings, exps)
        self._drop_namings(doc, readings, exps)
        for idx in indices:
            exp = exps[idx]
            if idx in readings:
                r, u, units = readings[idx]
                cc = self._compiled[idx]
                evidence = doc.sentence(r.sentence)
                parts = [
                    f"alias {u.alias!r} in sentence {u.focus}"
                    + (" (with the title)" if len(u.sentences) == 2 else "")
                ]
                if u.group_terms:
                    parts.append("required words " + ", ".join(repr(t) for t in u.group_terms))
                if r.cue:
                    parts.append(f"cue {r.cue!r} -> {r.signal}")
                else:
                    parts.append("no status cue: mention")
                parts.extend(r.notes)
                if r.quantity is not None:
                    kind = "cumulative" if r.quantity.cumulative else "single"
                    parts.append(f"quantity {r.quantity.value:g} {r.quantity.unit} ({kind})")
                if r.new_date is not None:
                    parts.append(f"date {r.new_date}")
                explanation = "; ".join(parts)
                exp.matched = True
                exp.reasons.extend(parts)
                exp.match = Match(
                    cc.commitment.id,
                    r.signal,
                    r.confidence,
                    evidence,
                    r.cue,
                    explanation,
                    r.quantity,
                    r.new_date,
                )
            out.append(exp)
        return out

    def _resolve_families(
        self,
        doc: _Doc,
        readings: dict[int, tuple[_Reading, _Unit, list[_Unit]]],
        exps: dict[int, Explanation],
    ) -> None:
        """Keep one pledge of a family unless the text clearly speaks about several."""
        done: set[int] = set()
        for idx in list(readings):
            cc = self._compiled[idx]
            if not cc.family or idx in done:
                continue
            members = [m for m in cc.family if m in readings]
            done.update(cc.family)
            if len(members) < 2:
                continue
            scores = {}
            for m in members:
                sents = {s for u in readings[m][2] for s in u.sentences}
                scores[m] = self._family_score(self._compiled[m], doc, sents)
            top = max(scores.values())
            keep = {m for m, s in scores.items() if s == top}
            if len(keep) > 1:
                keep = {min(keep, key=lambda m: self._compiled[m].commitment.due or dt.date.max)}
            # a text with explicit evidence for two pledges keeps both
            keep |= {m for m, s in scores.items() if s >= 2 and top >= 2 and top - s <= 0.5}
            for m in members:
                if m not in keep:
                    del readings[m]
                    other = self._compiled[max(keep, key=lambda k: scores[k])].commitment.id
                    exps[m].reasons.append(
                        f"shares its words with {other}, which fits the dates and amounts better"
                    )

    def _drop_namings(
        self,
        doc: _Doc,
        readings: dict[int, tuple[_Reading, _Unit, list[_Unit]]],
        exps: dict[int, Explanation],
    ) -> None:
        """Commentary that only names the deal ("the truce covered soybeans, rare earths and fentanyl")
        says nothing about any one commitment: a bare mention in a list of three or more subjects, or in
        an opinion piece, is dropped.

        A list that states the terms ("Trump agreed to cut tariffs in exchange for Beijing's crackdown on
        fentanyl, the resumption of soybean purchases and ...") is kept: real reports recap the deal
        exactly so, and each item says what a party undertook, which is the commitment itself."""
        per_sentence = Counter(r.sentence for r, _, _ in readings.values())
        for idx in list(readings):
            r, _, units = readings[idx]
            if r.signal != "mention":
                continue
            if all(_GENERIC_DEAL.fullmatch(u.alias) for u in units):
                del readings[idx]
                exps[idx].reasons.append(
                    "only the deal's generic name, with no term of this measure and nothing said about it"
                )
            elif per_sentence[r.sentence] >= 3 and not _TERMS_STATED.search(doc.sentence(r.sentence)):
                del readings[idx]
                exps[idx].reasons.append(
                    "only named in a list of the deal's parts, with nothing said about it"
                )
            elif (
                _OPINION_TITLE.search(doc.report.title)
                and not _TERMS_STATED.search(doc.sentence(r.sentence))
                and not (
                    doc.title_end and any(k in self._compiled[idx].aliases for k in doc.hits_by_sentence[0])
                )
            ):  # an opinion piece whose headline is about this commitment is still about it, and an
                # analysis that states what a party agreed recaps the commitment itself
                del readings[idx]
                exps[idx].reasons.append("only named in an opinion piece")
