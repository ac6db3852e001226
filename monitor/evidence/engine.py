"""The engine: relevance, reading and confidence for one report against every commitment. How a report
is judged, step by step, is told once, in the package docstring (`monitor/evidence/__init__.py`)."""

from __future__ import annotations

import datetime as dt
import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import ahocorasick

from monitor.config import Commitment, MatchTerms, Party, Watchlist
from monitor.evidence.doc import _Compiled, _Doc, _Hit, _mode_of, _Reading, _Unit
from monitor.evidence.features import PairContext
from monitor.evidence.model import EvidenceModel, apply_model, shipped_model
from monitor.evidence.parties import Parties
from monitor.evidence.rules import read
from monitor.evidence.text import (
    _QUOTES,
    _case_sensitive,
    _expand,
    _lower_same_length,
    _term_key,
    extract_quantities,
    normalise,
    reading_day,
    split_sentences,
)
from monitor.evidence.types import (
    Explanation,
    Match,
    Report,
)
from monitor.evidence.vocabulary import (
    _COMMON,
    _GENERIC_DEAL,
    _MODE_CUES,
    _OPINION_TITLE,
    _TERMS_STATED,
    RULE_NO_CHANGE,
    strip_aggregator_suffix,
)

__all__ = ["EvidenceEngine", "_Compiled", "_Doc", "_Hit", "_Reading", "_Unit", "_mode_of"]


def _gave_reason(exp: Explanation, fragments: Sequence[str]) -> bool:
    """The rules matched nothing and said why with one of these reasons."""
    return exp.match is None and any(f in r for r in exp.reasons for f in fragments)


class EvidenceEngine:
    """Matches reports against a fixed set of commitments; build a new one when the watchlist changes.

    Construction compiles every term into one Aho-Corasick automaton, so matching a report costs one
    pass over its text plus work proportional to the commitments whose aliases actually occur.
    """

    def __init__(
        self,
        commitments: Sequence[Commitment],
        category_defaults: dict[str, MatchTerms] | None = None,
        parties: Mapping[str, Party] | None = None,
        third_countries: Sequence[str] | None = None,
        model: EvidenceModel | Literal["shipped"] | None = "shipped",
    ) -> None:
        # The learned stage decides over the rules' reading unless a caller asks for the rules alone
        # (their own tests, and the training script, which learns from what the rules say).
        self.model = shipped_model() if model == "shipped" else model
        self.commitments = list(commitments)
        self.category_defaults = category_defaults or {}
        self.parties = Parties.build(parties, third_countries)
        self._automaton: Any = ahocorasick.Automaton()
        self._keys: dict[str, bool] = {}  # key -> case-sensitive
        self._forms: dict[str, set[str]] = {}  # key -> original spellings (for case checks)
        self._alias_owner: dict[str, list[int]] = {}
        self._compiled: list[_Compiled] = []
        self._third = frozenset(self._add(t) for t in self.parties.third)
        self._leaders = frozenset(self._add(t) for t in self.parties.leaders)
        self._places = frozenset(self._add(t) for t in self.parties.places)
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

    @classmethod
    def for_watchlist(
        cls, watchlist: Watchlist, model: EvidenceModel | Literal["shipped"] | None = "shipped"
    ) -> EvidenceEngine:
        """The engine for a watchlist: its commitments, term defaults and parties."""
        return cls(
            watchlist.commitments,
            watchlist.category_defaults,
            watchlist.parties,
            watchlist.third_countries,
            model=model,
        )

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
        synonyms = self.parties.synonyms
        alias_keys = frozenset(self._add(a) for a in _expand(aliases, synonyms))
        for k in alias_keys:
            self._alias_owner.setdefault(k, []).append(index)
        require = tuple(frozenset(self._add(t) for t in _expand(g, synonyms)) for g in uniq_groups)
        exclude = frozenset(self._add(t) for t in (*c.terms.exclude, *d.exclude))
        party = self.parties.resolve(c.party)
        counterpart, other_party, own_party = self._sides(c, party)
        mode = _mode_of(c)
        return _Compiled(
            index, c, alias_keys, require, tuple(tuple(g) for g in uniq_groups), exclude, counterpart, mode,
            _COMMON + _MODE_CUES[mode], other_party=other_party, own_party=own_party, party=party,
        )  # fmt: skip

    def _sides(
        self, c: Commitment, party: str | None
    ) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
        """The names of the counterparts the commitment's title names (China, in "US cuts the fentanyl
        tariff on Chinese goods"), of every other party, and of its own party."""
        if party is None:
            return frozenset(), frozenset(), frozenset()
        title = c.title.translate(_QUOTES)
        counterpart: set[str] = set()
        for other in self.parties.others(party):
            names = self.parties.names(other)
            # "North America" names a region, not the US ("precursors shipped to North America")
            if any(
                re.search(
                    rf"(?<![\w])(?<!North )(?<!South )(?<!Latin )(?<!Central ){re.escape(n)}(?![\w])", title
                )
                for n in names
            ):
                counterpart |= {self._add(n) for n in names}
        others = frozenset(self._add(n) for o in self.parties.others(party) for n in self.parties.names(o))
        return frozenset(counterpart), others, frozenset(self._add(n) for n in self.parties.names(party))

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
        compounds = [m.span() for m in self.parties.compound.finditer(text)]
        read_on = published
        if published is not None and report.precision != "day":
            first = published.replace(day=1) if report.precision == "month" else published.replace(1, 1)
            read_on = reading_day(text, first, published)
        return _Doc(text, low, all_spans, starts, title_end, hits, published, report, compounds, read_on)

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
        """What the unit's focus sentence says about the commitment: the reading rules, in order
        (``monitor.evidence.rules``); None when the only cues are acts of the other party."""
        return read(cc, doc, unit, official, self.parties)

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
        self._second_stage(doc, exps, len(candidates), explain=False)
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
        self._second_stage(
            doc, [e for i, e in enumerate(exps) if i in candidates], len(candidates), explain=True
        )
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

    def _second_stage(self, doc: _Doc, exps: list[Explanation], candidates: int, explain: bool) -> None:
        """The learned stage over the rules' explanations of the candidates (see `model`)."""
        if self.model is not None:
            apply_model(self.model, self._contexts(doc, exps, candidates), explain)

    def _contexts(self, doc: _Doc, exps: list[Explanation], candidates: int) -> list[PairContext]:
        """What the model reads for each candidate. A report from before a commitment was made stays out
        whatever the model would say; a pair whose every cue is the other party's act, or that another
        pledge of the family fits better (`RULE_NO_CHANGE`), may be about it but changes no status."""
        official = self._official(doc.report)
        out = []
        for exp in exps:
            cc = self._compiled[self._index[exp.commitment]]
            if doc.published is not None and doc.published < cc.commitment.announced:
                continue
            out.append(PairContext(doc, cc, exp, official, candidates, _gave_reason(exp, RULE_NO_CHANGE)))
        return out

    def pair_contexts(self, report: Report) -> list[PairContext]:
        """The rules' reading of every candidate pair with its context, before any model: what the
        training script learns from, built by the very code the daemon runs."""
        if report.date_unreadable:
            return []
        doc = self._scan(report)
        candidates = self._candidates(doc)
        return self._contexts(doc, self._judge(doc, candidates, explain=True), len(candidates))

    def _official(self, report: Report) -> bool:
        if report.official is not None:
            return report.official
        return bool(self.parties.official.search(f"{report.source} {report.link}"))

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
