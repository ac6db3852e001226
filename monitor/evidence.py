"""Matching and evidence: decides whether a report is about a commitment and what it says about it.

This module is pure (no I/O except the evaluation harness reading its labelled file, no database): it
takes a `Report` and returns `Match`es, so the same code serves the daemon, `trade-monitor match`,
`explain` and the evaluation harness.

How a report is judged, and why each step exists:

1. **Prefilter.** Every term of every commitment (aliases, required words, exclusions) and a few shared
   vocabularies (third countries, leaders) go into one Aho-Corasick automaton. One pass over the text
   finds every term; only commitments with an alias hit are examined further, so the cost per report
   grows with the number of hits, not with the size of the watchlist.
2. **Relevance per sentence.** A match needs the subject in one sentence (or the title plus one
   sentence): an alias, one word of every ``require`` group, no ``exclude`` word. Words scattered over
   a long summary are not a match. A sentence that names a third country and not the counterpart that
   the commitment's title names (China buying *Brazilian* soybeans) is not evidence either.
   Aggregator suffixes ("... - Reuters") are cut from titles first, so a publisher's name neither
   supplies a term nor joins the headline's last clause.
3. **Time.** A report published before the commitment was announced is never evidence for it.
4. **Signal.** Cue phrases, chosen by the kind of commitment (a suspension, a tariff change, purchases,
   enforcement, supply, a visit), decide the signal. The words before the cue change its meaning:
   negation and denial, speculation and modality, future tense and restatements of the promise.
   A fulfilment dated after the publication day (or before the measure's effective date) is only
   progress. Official sources and statements attributed to officials raise the confidence; commentary
   lowers it. Headlines join two events in one sentence ("US cuts tariffs as Xi delays curbs"), so a
   sentence is split into clauses: a cue in the subject's own clause wins, a modal governs only its own
   clause, and the actor of a cue (the party named before the verb, not after "on"/"to") must be the
   commitment's party, so China suspending *its* port fees is no evidence about the US fees. A new target
   date later than the due date ("by the end of February", "in 2027 instead") reads as a delay.
5. **Quantities.** Amounts in tonnes, MMT or bushels (1 MMT = 36.744 million bushels of soybeans) and
   cargoes with a stated tonnage are normalised to the target unit; a cumulative amount that reaches the
   target is fulfilment.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import ahocorasick

from monitor.config import SIGNALS, Commitment, MatchTerms, Signal

__all__ = [
    "EvalResult",
    "EvidenceEngine",
    "Explanation",
    "Match",
    "Quantity",
    "Report",
    "evaluate",
    "explain_text",
    "extract_quantities",
    "format_explanations",
    "load_labelled",
    "read_published",
    "score_reports",
]

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


# --- shared vocabularies ----------------------------------------------------------------------------

# Names that stand in for a party. A term in a watchlist group that is one of these keys brings the
# whole list along, so users write "China" and get "Beijing" (the government) and "MOFCOM" for free.
ENTITY_SYNONYMS: dict[str, tuple[str, ...]] = {
    "china": ("China", "Chinese", "Beijing", "PRC", "MOFCOM", "Ministry of Commerce", "Chinese government"),
    "us": (
        "US",
        "U.S.",
        "USA",
        "United States",
        "America",
        "American",
        "Washington",
        "White House",
        "USTR",
        "Trump administration",
    ),
    "xi": (
        "Xi",
        "Xi Jinping",
        "President Xi",
        "the Chinese president",
        "China's president",
        "Chinese leader",
    ),
    "trump": ("Trump", "Donald Trump", "President Trump", "the US president", "the U.S. president"),
    "commerce": (
        "Commerce",
        "Commerce Department",
        "Department of Commerce",
        "BIS",
        "Bureau of Industry and Security",
    ),
}
_COUNTERPART_TERMS = {
    "US": ENTITY_SYNONYMS["us"] + ("U.S.-", "US-"),
    "China": ENTITY_SYNONYMS["china"],
}
THIRD_COUNTRIES = (
    "Japan", "Japanese", "Tokyo", "India", "Indian", "New Delhi", "European Union", "EU", "Brussels",
    "Canada", "Canadian", "Ottawa", "Mexico", "Mexican", "Vietnam", "Vietnamese", "South Korea",
    "South Korean", "Seoul", "Switzerland", "Swiss", "Indonesia", "Indonesian", "Brazil", "Brazilian",
    "Argentina", "Argentine", "Australia", "Australian", "Malaysia", "Thailand", "Cambodia", "Taiwan",
    "Britain", "British", "UK", "Germany", "German", "France", "French", "Russia", "Russian",
    "Guatemala", "Ecuador", "El Salvador", "Philippines", "Europe", "European", "Netherlands", "Dutch",
    "Singapore", "Italy", "Spain", "Turkey", "Pakistan", "Saudi Arabia", "Israel", "Chile", "Peru",
    "Colombia", "Korea", "Korean", "Norway", "New Zealand", "Venezuela", "Iran",
)  # fmt: skip
LEADERS = ENTITY_SYNONYMS["xi"] + ENTITY_SYNONYMS["trump"]

OFFICIAL_HINTS = re.compile(
    r"whitehouse\.gov|ustr\.gov|federalregister\.gov|usda\.gov|commerce\.gov|bis\.doc\.gov|cbp\.gov|"
    r"mofcom\.gov\.cn|gov\.cn|\.gov\b|white house|ustr|mofcom|ministry of commerce|federal register|usda|"
    r"customs and border|state council",
    re.I,
)
# A sentence that says what the parties undertook, not only which subjects the deal touched.
_TERMS_STATED = re.compile(
    r"\b(?:agreed|agrees?|agreeing|in exchange for|in return(?: for)?|committed|promised|pledged|"
    r"struck|strikes?|concessions?)\b",
    re.I,
)
# The whole deal's everyday name: a report that only names it ("investors assess the US-China trade
# truce") says nothing about any one measure, so an alias like this supports a mention only together with
# a term of the measure itself; a status cue on it ("the trade truce was extended") still counts.
_GENERIC_DEAL = re.compile(
    r"(?:(?:us-china|u\.s\.-china|sino-us) )?(?:trade )?(?:truce|deal|agreement)", re.I
)
_COMMENTARY_TITLE = re.compile(
    r"^\s*(opinion|commentary|analysis|editorial|column|view|letters?)\s*[:|-]", re.I
)
# A piece that argues (opinion, column) rather than a news analysis, which recaps what was agreed.
_OPINION_TITLE = re.compile(r"^\s*(opinion|commentary|editorial|column|view|letters?)\s*[:|-]", re.I)
_COMMENTARY = re.compile(
    r"\b(analysts?|experts?|commentators?|economists?|critics?|observers?|columnists?|strategists?)\b"
    r"[^.]{0,40}\b(say|said|says|argue[sd]?|believe[sd]?|warn(?:ed|s)?|note[sd]?|think|thought)\b",
    re.I,
)
_ATTRIBUTED = re.compile(
    r"\b(officials?|ministry|spokes(?:man|woman|person)|department|USTR|MOFCOM|customs|White House|"
    r"said in a statement|notice|Federal Register|USDA|the agency|the office|announced)\b",
    re.I,
)

# --- text helpers -------------------------------------------------------------------------------------

_ABBREV = {
    "u.s", "u.k", "mr", "mrs", "ms", "dr", "st", "no", "inc", "corp", "co", "ltd", "gov", "sen", "rep",
    "vs", "e.g", "i.e", "a.m", "p.m", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct",
    "nov", "dec", "gen", "u.n", "u.s.-china", "approx", "est",
}  # fmt: skip
_SENT_END = re.compile(r"[.!?][\"'”’)\]]?\s+")
_WS = re.compile(r"\s+")
_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "\u00a0": " ", "–": "-", "—": "-"})


def normalise(text: str) -> str:
    """Same-length-ish cleanup: typographic quotes and dashes to ASCII, whitespace runs to one space."""
    return _WS.sub(" ", text.translate(_QUOTES)).strip()


def _lower_same_length(text: str) -> str:
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Spans of the sentences of ``text``; abbreviations such as "U.S." and "Nov." do not end one."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _SENT_END.finditer(text):
        end = m.start() + 1
        word = re.search(r"([\w.\-]+)[.!?]$", text[start:end])
        if word and word.group(1).lower().rstrip(".") in _ABBREV:
            continue
        nxt = text[m.end() : m.end() + 1]
        if nxt and not (nxt.isupper() or nxt.isdigit() or nxt in "\"'("):
            continue
        spans.append((start, m.end()))
        start = m.end()
    if start < len(text):
        spans.append((start, len(text)))
    return [(a, b) for a, b in spans if text[a:b].strip()]


def _term_key(term: str) -> str:
    return _WS.sub(" ", term.translate(_QUOTES).lower()).strip()


def _case_sensitive(term: str) -> bool:
    """Acronyms ("US", "BIS", "MMT") must keep their case, or "us" the pronoun would read as a country."""
    letters = [c for c in term if c.isalpha()]
    return bool(letters) and all(c.isupper() for c in letters) and len(letters) <= 5


def _expand(terms: Iterable[str]) -> list[str]:
    out: list[str] = []
    for t in terms:
        out.append(t)
        out.extend(ENTITY_SYNONYMS.get(_term_key(t).replace(".", ""), ()))
    seen: set[str] = set()
    uniq = []
    for t in out:
        if t not in seen:
            seen.add(t)
            uniq.append(t)
    return uniq


# --- dates --------------------------------------------------------------------------------------------

_MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
_MONTHS.update({m.lower(): i for i, m in enumerate(calendar.month_abbr) if m})
_MONTHS["sept"] = 9
_MONTH_RE = r"(january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)\.?"  # noqa: E501
_DATE_RE = re.compile(
    rf"\b(?:(end|middle|mid|start|beginning|early|late)[- ](?:of )?)?(?:(\d{{1,2}}) {_MONTH_RE}|{_MONTH_RE}"
    rf"(?: (\d{{1,2}})(?:st|nd|rd|th)?)?)(?:,? (20\d\d))?\b",
    re.I,
)
# "in 2027", "until 2027": a year on its own, only after a preposition (not "the 2025/26 season")
_BARE_YEAR = re.compile(r"\b(in|by|until|through|till|into|before|from|for) (20\d\d)\b(?!\s*/)", re.I)
_REL_DATE = re.compile(r"\b(next|this|later this|early next|end of this|end of next) (month|year)\b", re.I)


@dataclass(frozen=True)
class _DateHit:
    start: int
    date: dt.date
    text: str


_PAST_CUE = re.compile(
    r"\w+ed\b|\b(?:cut|set|put|hit|made|took|began|begun|rose|fell|bought|sold|paid)\b", re.I
)
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")


def _past_dates(dates: list[_DateHit], cue: str, published: dt.date | None) -> list[_DateHit]:
    """Dates re-read for a past-tense cue: "raised the tariff to 20% in March" is the March just gone.

    `find_dates` takes a month without a year as the coming one, right for plans ("the visit in April")
    but wrong for what already happened; history dated before a promise is no evidence about it.
    """
    if published is None or not _PAST_CUE.match(cue.split()[0] if cue.split() else ""):
        return dates
    out = []
    for d in dates:
        if d.date > published and not _YEAR.search(d.text):
            try:
                d = _DateHit(d.start, d.date.replace(year=d.date.year - 1), d.text)
            except ValueError:  # 29 February
                d = _DateHit(d.start, d.date - dt.timedelta(days=365), d.text)
        out.append(d)
    return out


def find_dates(sentence: str, published: dt.date | None) -> list[_DateHit]:
    """Dates written in a sentence, resolved against the publication day.

    A month without a year is taken as the next such month on or after the publication month (reports
    speak of the coming April, not the last one). "end of" gives the last day of the month.
    """
    ref = published or dt.date.today()
    out: list[_DateHit] = []
    for m in _DATE_RE.finditer(sentence):
        qual, day1, mon1, mon2, day2, year = m.groups()
        if re.search(r"\b(?:pre|post|mid)-$", sentence[: m.start()], re.I) and not qual:
            continue  # "pre-October levels": a comparison, not a date
        mon_name = (mon1 or mon2 or "").lower().rstrip(".")
        if mon_name == "may" and not (day1 or day2 or year):
            continue  # the modal verb, far more often than the month
        if mon_name in ("mar", "jun") and not (day1 or day2):
            continue
        month = _MONTHS.get(mon_name)
        if month is None:
            continue
        if not (day1 or day2) and re.match(
            r"\s+(?:[a-z][a-z-]*(?<!ed)\s+){0,3}?(?:tariffs?|duties|curbs|controls|measures|rules?|restrictions|"
            r"ban|list|announcements?|orders?|levies|deal|agreement|truce|framework)\b",
            sentence[m.end() :],
            re.I if not year else 0,
        ):
            continue  # "its March tariffs": a name for a measure, not a date
        if year:
            y = int(year)
        else:  # the nearest such month: "in December" read in January is the last one, "in April" the next
            y = min(
                (ref.year - 1, ref.year, ref.year + 1),
                key=lambda yy: abs((yy - ref.year) * 12 + month - ref.month),
            )
        last = calendar.monthrange(y, month)[1]
        if day1 or day2:
            d = min(int(day1 or day2), last)
        elif qual and qual.lower() in ("end", "late"):
            d = last
        elif qual and qual.lower() in ("middle", "mid"):
            d = 15
        else:
            d = 1
        out.append(_DateHit(m.start(), dt.date(y, month, d), m.group(0)))
    for m in _BARE_YEAR.finditer(sentence):
        y = int(m.group(2))
        late = m.group(1).lower() in ("by", "until", "through", "before", "till")
        out.append(_DateHit(m.start(2), dt.date(y, 12, 31) if late else dt.date(y, 1, 1), m.group(2)))
    for m in _REL_DATE.finditer(sentence):
        what, unit = m.group(1).lower(), m.group(2).lower()
        if unit == "month":
            months = ref.month + (1 if "next" in what else 0)
            y, mo = ref.year + (months - 1) // 12, (months - 1) % 12 + 1
            d = calendar.monthrange(y, mo)[1] if "end" in what else 1
            out.append(_DateHit(m.start(), dt.date(y, mo, d), m.group(0)))
        else:
            y = ref.year + (1 if "next" in what else 0)
            out.append(
                _DateHit(
                    m.start(),
                    dt.date(y, 12, 31) if "end" in what or "later" in what else dt.date(y, 1, 1),
                    m.group(0),
                )
            )
    return sorted(out, key=lambda h: h.start)


# --- quantities ---------------------------------------------------------------------------------------

BUSHELS_PER_MMT_SOY = 36.744e6  # 1 metric ton of soybeans = 36.744 bushels
_NUM = r"(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
_QTY_RE = re.compile(
    _NUM + r"[\s-]*(million|mln|m|billion|bn|thousand|k)?[\s-]*"
    r"(?:(?:metric|short)[\s-]+)?(mmt|mt|tonnes|tonne|tons|ton|t|bushels|bu)\b\.?",
    re.I,
)
_WORD_NUMS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "a dozen": 12, "fifteen": 15, "twenty": 20, "a": 1,
}  # fmt: skip
_CARGO_RE = re.compile(
    r"\b(\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|a dozen|fifteen|twenty|a)\s+"
    r"(?:more\s+|additional\s+|new\s+|further\s+)?(?:\w+\s+)?(?:cargoes|cargos|cargo|shipments|vessels|"
    r"ships|boatloads)\b",
    re.I,
)
_PER_CARGO = re.compile(
    r"(?:each|apiece|per cargo|a cargo|each of|each carrying|of about|of around|of roughly|"
    r"of some)\s*(?:of\s*)?"
    r"(?:about |around |roughly |some )?" + _NUM + r"\s*(?:metric\s+)?(?:tonnes|tons|t)\b(?:\s*each)?",
    re.I,
)
_CUMULATIVE = re.compile(
    r"\b(so far|to date|in total|total(?:ling|led|ing|ed|s)?|cumulative(?:ly)?|since|bringing|year-to-date|"
    r"altogether|in all|overall|this season|the season|running total|now|reached|reaching|topped|"
    r"exceed(?:ed|ing|s)|surpass(?:ed|ing)|(?:has|have) (?:now )?(?:bought|purchased|imported|booked))\b",
    re.I,
)
_MULT = {"million": 1e6, "mln": 1e6, "m": 1e6, "billion": 1e9, "bn": 1e9, "thousand": 1e3, "k": 1e3}


def _num(text: str) -> float:
    return float(text.replace(",", ""))


def extract_quantities(sentence: str, target_unit: str = "MMT") -> list[Quantity]:
    """Amounts of a bulk commodity in ``sentence``, in million metric tons.

    Handles "1.2 million metric tons", "12 MMT", "65,000 tonnes", "440 million bushels" (soybean
    bushels: 36.744 million to the MMT) and "ten cargoes of about 65,000 tonnes each". Cargoes without a
    tonnage are not converted: a cargo is not a unit. ``target_unit`` other than a tonnage yields nothing.
    """
    unit_key = target_unit.lower().replace(" ", "")
    if unit_key not in ("mmt", "millionmetrictons", "milliontonnes", "milliontons", "mt"):
        return []
    cumulative = bool(_CUMULATIVE.search(sentence))
    out: list[Quantity] = []
    per_cargo_spans: list[tuple[int, int]] = []
    for cm in _CARGO_RE.finditer(sentence):
        count_word = cm.group(1).lower()
        count = float(_WORD_NUMS.get(count_word, 0)) if not count_word.isdigit() else float(count_word)
        tail = sentence[cm.end() : cm.end() + 70]
        pm = _PER_CARGO.search(tail)
        if count and pm and pm.start() < 25:
            tonnes = _num(pm.group(1)) * count
            per_cargo_spans.append((cm.end() + pm.start(), cm.end() + pm.end()))
            out.append(
                Quantity(
                    round(tonnes / 1e6, 4), "MMT", cumulative, sentence[cm.start() : cm.end() + pm.end()]
                )
            )
    for m in _QTY_RE.finditer(sentence):
        if any(a <= m.start() < b for a, b in per_cargo_spans):
            continue
        value = _num(m.group(1))
        mult = _MULT.get((m.group(2) or "").lower(), 1.0)
        unit = m.group(3).lower()
        if unit == "t" and not m.group(2):
            continue  # "10 t" is too rare and too ambiguous to trust
        if unit in ("bushels", "bu"):
            mmt = value * mult / BUSHELS_PER_MMT_SOY
        elif unit == "mmt":
            mmt = value * (mult / 1e6 if m.group(2) else 1.0)
        elif unit == "mt" and not m.group(2):
            mmt = value  # "12 mt" in trade copy almost always means million tonnes when it is that small
            if value > 1000:
                mmt = value / 1e6
        else:
            mmt = value * mult / 1e6
        out.append(Quantity(round(mmt, 4), "MMT", cumulative, m.group(0).strip()))
    return out


_TARGET_WORDS = r"(?:pledge[sd]?|target|goal|commitment|promise[sd]?|quota|benchmark)"


def _is_target_amount(sentence: str, q: Quantity) -> bool:
    """The pledge itself, not a purchase: "short of the 12 million ton goal", "a pledge of 25 MMT",
    "the 12 million tonnes the White House said it had promised"."""
    pos = sentence.find(q.text)
    if pos < 0 or not q.text:
        return False
    head, tail = sentence[:pos], sentence[pos + len(q.text) :]
    if re.search(
        rf"\b{_TARGET_WORDS} (?:of|to (?:buy|purchase|import)) (?:at least |about |some )?$", head, re.I
    ):
        return True
    return bool(
        re.search(r"\b(?:the|a|its|their)\s+$", head, re.I)
        and re.match(rf"(?:\s+[\w'-]+){{0,7}}?\s+(?:had |has |was |were )?{_TARGET_WORDS}\b", tail, re.I)
    )


# --- cues ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Cue:
    pattern: re.Pattern[str]
    signal: Signal
    weight: float
    # "tensed" or "" (tense free); "base" needs a modal (or a plural headline subject) to count;
    # "lapse": a time limit running out, which in the future tense is only the schedule, not a decision;
    # "rate": a stated rate, which counts only when it is the commitment's target rate;
    # "begun": a start verb, which counts only after a suspension noun ("the pause has begun")
    kind: str = ""


def _cues(*items: tuple[str, Signal, float] | tuple[str, Signal, float, str]) -> tuple[_Cue, ...]:
    out = []
    for item in items:
        pat, sig, w = item[0], item[1], item[2]
        kind = str(item[3]) if len(item) > 3 else ""
        out.append(_Cue(re.compile(pat, re.I), sig, w, kind))
    return tuple(out)


_SUSP_NOUNS = (
    r"(?:suspension|pause|truce|exemptions?|exclusions?|waivers?|reprieve|deal|agreement|moratorium)"
)
_MEASURE_NOUNS = (
    r"(?:controls?|curbs?|restrictions?|fees?|charges?|levies|levy|tariffs?|duties|duty|ban|rule|measures?|"
    r"licen[cs]ing requirements?|collection|collecting|charging|levying)"
)
_POSITIVE_FLOW = (
    r"(?:exports?|shipments?|sales|deliveries|supplies|supply|purchases?|buying|imports?|trade)"
    r"(?! (?:controls?|curbs?|restrictions?|bans?|licen[cs]\w*|rules?|regime|measures?))"
)

_COMMON = _cues(
    (
        r"\b(postpon(?:e[sd]?|ing|ement)|delay(?:s|ed|ing)?|pushed back|push(?:es|ing)? back|"
        r"reschedul(?:e[sd]?|ing)|"
        r"deferr?(?:ed|s|ing)?|put off|behind schedule|overdue|missed (?:the |a |its )?(?:deadline|"
        r"target))\b",
        "delayed",
        0.8,
    ),
    (  # "pushed to May", "moved to 2027": a new, later date
        rf"\b((?:pushed|moved|shifted|bumped|slipp(?:ed|s)|slides?|slid) (?:back )?(?:to|into|until) "
        rf"(?:late |early |mid-?)?(?:{_MONTH_RE}|next|20\d\d))",
        "delayed",
        0.8,
    ),
    (
        r"\b(cancel(?:l?ed|s|l?ing)?|called off|calls? off|scrapp(?:ed|ing) (?:the |his |its )?(?:trip|"
        r"visit|deal|plan)|"
        r"revok(?:ed|es|ing)|abandon(?:ed|s|ing)|tore up|tears? up|pulled out of|collaps(?:ed|es)|"
        r"reneged?|backtrack(?:ed|s)?|violat(?:ed|es|ing))\b",
        "broken",
        0.75,
    ),
    (
        r"\b(extend(?:ed|s|ing)?|renew(?:ed|s|ing)?|prolong(?:ed|s|ing)?|roll(?:ed|s)? over|"
        r"(?:approv|announc|confirm|grant|agre)\w* (?:a |the |its )?(?:\w+ ){0,2}renewal|"
        r"(?:continu(?:e|es|ed|ing)|run|runs|last|lasts|stay|stays|remain|remains) (?:in place |"
        r"suspended |on hold |paused )?for (?:another|a further|an additional|one more|a second) "
        r"(?:year|\d+ months|twelve months|12 months))\b",
        "extended",
        0.8,
    ),
    (
        r"\b(took effect|takes effect|taken effect|came into (?:force|effect)|comes? into (?:force|effect)|"
        r"went into effect|goes into effect|entered into force|enters into force|is now in (?:force|effect)|"
        r"(?:is|are|was|were|remains?|remained|'s) in (?:force|effect)|kicked in|kicks in|"
        r"(?:remains?|remained|stays?|stayed|is now|are now) in place)\b",
        "fulfilled",
        0.85,
        "tensed",
    ),
    (
        r"\b(take effect|come into force|come into effect|enter into force|go into effect)\b",
        "fulfilled",
        0.85,
        "base",
    ),
)

# "has yet to lift", "has not yet been lowered": nothing happened. Once the due date has passed that is a
# delay; before it, or about a decision still open ("has yet to say whether"), only a mention.
_COMMON = _COMMON + _cues(
    (
        r"\b((?:yet to|(?:has|have|had) not yet|(?:has|have|had)n't yet|still (?:has|have|had)(?: not|n't)|"
        r"(?:is|are|was|were) not yet) (?:be |been )?(?!(?:say|said|decide|decided|comment|commented|"
        r"confirm|confirmed|announce|announced|respond|responded|renew|renewed|extend|extended|reveal|"
        r"disclose|specify|indicate|clarify|explain|detail|determine|rule|weigh)\b)\w+)",
        "delayed",
        0.7,
        "overdue",
    ),
)

# The titles of official acts start with a gerund ("Modifying Reciprocal Tariff Rates ...", "Continuing
# the Suspension of ..."): from an official source, the title is the act itself.
_COMMON = _COMMON + _cues(
    (r"^(modifying|adjusting|amending|implementing|reducing|suspending)\b", "progress", 0.6, "official"),
    (
        r"^(continuing|extending) (?:the )?(?:suspension|pause|exclusions?|exemptions?)",
        "extended",
        0.8,
        "official",
    ),
)

_MODE_CUES: dict[str, tuple[_Cue, ...]] = {
    "suspension": _cues(
        (
            rf"\b(reimpos(?:ed|es|ing|e)|re-impos(?:ed|es|ing|e)|reinstat(?:ed|es|ing|e)|restor(?:ed|es|"
            rf"ing|e) "
            rf"(?:the |its |a )?(?:\S+\s){{0,4}}?{_MEASURE_NOUNS}|snap(?:ped)? back|"
            rf"reactivat(?:ed|es|ing|e)|reintroduc(?:ed|"
            rf"es|ing|e)|"
            rf"resum(?:ed|es|ing|e) (?:the )?(?:\w+ )?{_MEASURE_NOUNS}|re-?tighten(?:ed|s|ing)?|"
            rf"tighten(?:ed|s|ing)? (?:\w+ ){{0,2}}(?:again|anew)|"
            rf"(?:ended|ends|end|ending|lifted|lifts|terminated|terminates|scrapped|scraps) (?:the |its |"
            rf"a )?(?:\w+ )?{_SUSP_NOUNS})\b",
            "broken",
            0.8,
        ),
        (  # the suspended measure applies again
            r"\b((?:took|takes|has taken|have taken|came|comes|went|goes) (?:into )?(?:effect|force) again|"
            r"(?:back|again) in (?:force|effect|place)|back into (?:force|effect)|"
            r"appl(?:y|ies|ied) again|in force again|in effect again)\b",
            "broken",
            0.9,
        ),
        (
            r"\b(suspend(?:ed|s|ing)?|paus(?:ed|es|ing)|halt(?:ed|s|ing)|lift(?:ed|s|ing)|waiv(?:ed|es|ing)|"
            r"exempt(?:ed|s|ing)|remov(?:ed|es|ing)|scrapp(?:ed|ing)|scraps|dropp(?:ed|ing)|drops|stopp(?:ed|"
            r"ing) (?:collecting|charging|levying)|"
            r"no longer (?:collect|charge|levy|appl)\w*|(?:remains?|remained|stays?|stayed) (?:\w+ )?"
            r"(?:suspended|on hold|paused)|"
            r"(?:kept|keeps?|keeping) (?:\S+ ){0,9}?(?:suspended|on hold|paused)|"
            r"continu(?:e|es|ed|ing) (?:the |its |their )?(?:\S+ ){0,2}(?:suspension|pause|exclusions?|"
            r"exemptions?)|(?:suspension|pause) (?:\S+ ){0,8}?(?:will |would )?continu(?:e|es|ed)|"
            r"put (?:\w+ ){0,8}on hold|shelv(?:ed|es|ing)|froze|frozen)\b",
            "fulfilled",
            0.75,
            "tensed",
        ),
        (r"\b((?:issu|grant|approv)(?:ed|es|ing|s) (?:\w+ ){0,3}licen[cs]es)\b", "progress", 0.65),
        (  # delaying a measure is suspending it ("Xi delays rare earth curbs")
            rf"\b((?:delay(?:s|ed|ing)?|postpon(?:es|ed|ing)|defer(?:s|red|ring)?) (?:the |its |their )?"
            rf"(?:\S+ ){{0,3}}{_MEASURE_NOUNS})\b",
            "fulfilled",
            0.85,
            "tensed",
        ),
        (
            rf"\b(end of (?:the |its )?(?:\S+ ){{0,3}}{_MEASURE_NOUNS})\b(?! (?:pause|suspension|truce|"
            rf"reprieve|waiver|exemption|moratorium|freeze|holiday))",
            "fulfilled",
            0.7,
        ),
        (
            r"\b(has begun|have begun|has started|have started|began|started|begins|starts|took hold)\b",
            "fulfilled",
            0.75,
            "begun",
        ),
        (  # a time limit running out with nobody renewing it
            r"\b((?:let|lets|letting|allowed|allows|allowing) (?:\S+ ){0,9}?(?:to )?(?:lapse|expire|run out)|"
            r"expired|lapsed|lapses|ran out|"
            r"(?:suspension|pause|truce|reprieve|waiver|moratorium) (?:\S+ ){0,3}?(?:ended|had ended))\b",
            "broken",
            0.8,
            "lapse",
        ),
        (
            r"\b(still (?:being )?(?:charg|levi|levy|collect|appl|impos|enforc)\w*)\b",
            "delayed",
            0.75,
        ),
        (r"\b(suspend|pause|halt|lift|waive|remove|scrap|drop|stop)\b", "fulfilled", 0.75, "base"),
        (rf"\bresum(?:ed|es|ing) (?:\w+ ){{0,2}}{_POSITIVE_FLOW}", "progress", 0.65),
        (
            r"\b(published|issued|released|posted) (?:a |an |the )?(?:\w+ ){0,2}(?:notice|announcement|"
            r"order|proclamation|"
            r"decision|statement|implementation)\b|\bfederal register\b|\bsigned (?:an |"
            r"the )?(?:executive )?order",
            "progress",
            0.6,
        ),
    ),
    "measure": _cues(
        (
            r"\b(rais(?:ed|es|ing)|hik(?:ed|es|ing)|increas(?:ed|es|ing)|doubl(?:ed|es|ing)|restor(?:ed|"
            r"es|ing)|"
            r"reinstat(?:ed|es|ing)|reimpos(?:ed|es|ing)|revers(?:ed|es|ing)|went back up|back up to)\b",
            "broken",
            0.75,
        ),
        (
            r"\b(lower(?:ed|s|ing)?|cuts|(?:was|were|been|has|have) cut|cut (?:\S+ ){0,8}to (?:\d|ten\b)|"
            r"(?:US|U\.S\.|Washington|Trump|administration|president|it|he|they) cut|reduc(?:ed|"
            r"es|ing)|halv(?:ed|es|ing)|slash(?:ed|es|ing)|dropp(?:ed|ing)|drops|"
            r"fell|falls|trimm(?:ed|ing)|trims|now stands? at|(?:is|are) now|dropped to|fell to)\b",
            "fulfilled",
            0.7,
            "tensed",
        ),
        (r"\b(lower|reduce|halve|slash|trim|fall|drop|decline|cut)\b", "fulfilled", 0.7, "base"),
        (  # "assessed at ten percent", "the duty rate ... is 10 percent": the rate now charged
            r"\b((?:assessed|charged|collected|levied|applied|set|now) at (?:the )?(?:\S+ ){0,2}?"
            r"(?:\d+(?:\.\d+)?|ten|twenty|five|fifteen)\s?(?:%|percent|per cent)|"
            r"(?:rate|duty|tariff|levy)(?: rate)? (?:\S+ ){0,14}?(?:is|stands at|remains|of) "
            r"(?:\d+(?:\.\d+)?|ten|twenty|five|fifteen)\s?(?:%|percent|per cent))",
            "fulfilled",
            0.7,
            "rate",
        ),
        (
            r"\b(sign(?:ed|s|ing)? (?:an |the |two |executive )*orders?|(?:executive )?orders? (?:was |"
            r"were )?signed|"
            r"published (?:a |an |the )?(?:\w+ ){0,2}notice|federal register|formaliz(?:ed|es|ing)|"
            r"formalis(?:ed|es|ing))\b",
            "progress",
            0.65,
        ),
    ),
    "purchase": _cues(
        (
            rf"\b((?:halt(?:ed|s|ing)|stopp(?:ed|ing)|stops|suspend(?:ed|s|ing)|cancel(?:l?ed|s|l?ing)|"
            rf"paus(?:ed|es|ing)|"
            rf"froze|freez(?:es|ing)|block(?:ed|s|ing)|banned|bans) (?:\w+ ){{0,3}}(?:{_POSITIVE_FLOW}|"
            rf"orders?|buying|bookings?|cargoes)|"
            rf"stopped buying|stops buying|turn(?:ed|s|ing) (?:away|back) (?:to|toward)s? (?:brazil|"
            rf"argentin)\w*|"
            rf"switch(?:ed|es|ing) (?:\w+ ){{0,2}}to (?:brazil|argentin)\w*)\b",
            "broken",
            0.75,
        ),
        (
            r"\b(met|meets|reached|reaches|hit|hits|fulfill?(?:ed|s)?|completed|completes|achieved|"
            r"exceeded|surpassed|enough (?:\S+ ){0,4}?to (?:meet|satisfy|fill|reach|cover)) "
            r"(?:\S+ ){0,7}?(?:target|pledge|commitment|goal|quota|promise)\b",
            "fulfilled",
            0.8,
        ),
        (
            r"\b(behind (?:the )?(?:pace|schedule)|short of|fell short|falls short|slow(?:er)? (?:than|"
            r"pace)|lagg(?:ing|ed)|"
            r"sluggish|stalled|trail(?:s|ed|ing)|slow(?:s|ed|ing|down)|"
            r"(?:has|have) (?:\w+ )?slowed)\b",
            "delayed",
            0.75,
        ),
        (
            # "bought time" / "buys time" is an idiom, not a purchase
            r"\b((?:bought|buys|buying)(?! (?:some |more )?time\b)|purchased|booked|books|purchasing|"
            r"snapped up|placed orders?|ordered|"
            r"secured|shipped|"
            r"loaded|inspected for export|sold|imported|imports|bound for|"
            r"left (?:\w+ ){0,3}ports?|resum(?:ed|es|ing) (?:\w+ ){0,2}(?:purchases|buying|imports)|"
            r"returned to (?:the )?(?:\w+ )?market|first (?:\w+ )?(?:purchase|cargo|shipment|order)s?|tally|"
            r"arrived|arrive|"
            r"deliver(?:ed|ies|y))\b",
            "progress",
            0.7,
        ),
        # nouns of trade flow: weaker than any verb in the sentence ("export sales ... are trailing")
        (r"\b(export sales|sales to china|purchases to date)\b", "progress", 0.6),
    ),
    "enforcement": _cues(
        (
            r"\b(tighten(?:ed|s|ing)|impos(?:ed|es|ing)|requir(?:ed|es|ing)|add(?:ed|s|"
            r"ing) (?:\S+ ){0,4}to (?:\S+ ){0,3}(?:list|controls?|licen[cs]\w*|regime|catalogu?e)|"
            r"bust(?:ed|s)?|raid(?:ed|s)?|dismantl(?:ed|es)|detain(?:ed|s)|"
            r"crack(?:ed|s|ing) down|seiz(?:ed|es|ing)|arrest(?:ed|s|ing)|shut down|clamp(?:ed|s|"
            r"ing) down|curb(?:ed|s|ing)|"
            r"implement(?:ed|s|ing)|enforc(?:ed|es|ing)|began requiring|start(?:ed|s) requiring)\b",
            "fulfilled",
            0.75,
            "tensed",
        ),
        (r"\b(tighten|impose|require|crack down|curb|implement|enforce)\b", "fulfilled", 0.75, "base"),
        (
            r"\b(still (?:flowing|shipping|being shipped|pouring|reaching|arriving|getting through|entering|"
            r"being sold|available)|continu(?:e|ed|es|ing) to (?:flow|ship|pour|arrive|reach)|"
            r"loosen(?:ed|s|ing)|eas(?:ed|es|ing) (?:\w+ ){0,2}controls|halt(?:ed|s) cooperation|"
            r"suspend(?:ed|s) cooperation|"
            r"lax enforcement)\b",
            "broken",
            0.7,
        ),
        (
            r"\b(announc(?:ed|es|ing)|publish(?:ed|es|ing)|issu(?:ed|es|ing)) (?:\w+ ){0,3}(?:rules?|"
            r"measures?|list|notice|regulations?)\b",
            "progress",
            0.65,
        ),
    ),
    "supply": _cues(
        (
            rf"\b(halt(?:ed|s|ing)|block(?:ed|s|ing)|ban(?:ned|s)?|stopp(?:ed|ing)|stops|suspend(?:ed|s|"
            rf"ing)|restrict(?:ed|s|ing)|"
            rf"reimpos(?:ed|es|ing)) (?:\w+ ){{0,3}}{_POSITIVE_FLOW}(?: again)?\b",
            "broken",
            0.7,
        ),
        (
            r"\b((?:remain(?:s|ed)?|still) (?:halted|blocked|stuck|suspended|frozen|waiting|disrupted|"
            r"constrained|short|scarce|tight|limited|unavailable|curtailed|snarled))\b",
            "delayed",
            0.7,
        ),
        (
            r"\b(partial(?:ly)?|some (?:exports|shipments|deliveries)|case-by-case|limited (?:exports|"
            r"shipments)|"
            r"exemptions? for (?:civilian|some)|trickle)\b",
            "progress",
            0.65,
        ),
        (
            rf"\b(resum(?:ed|es|ing)|restart(?:ed|s|ing)|restor(?:ed|es|ing)|allow(?:ed|s|"
            rf"ing) (?:\w+ ){{0,4}}to (?:resume|continue)|"
            rf"(?:extend|renew)(?:ed|s|ing) (?:\S+ ){{0,2}}exemptions?|"
            rf"lift(?:ed|s|ing) (?:\w+ ){{0,3}}(?:ban|halt|restrictions?)|grant(?:ed|s|"
            rf"ing) (?:\w+ ){{0,2}}exemptions?|"
            rf"approv(?:ed|es|ing) (?:\w+ ){{0,2}}{_POSITIVE_FLOW})\b",
            "fulfilled",
            0.7,
            "tensed",
        ),
        (r"\b(resume|restart|lift|allow)\b", "fulfilled", 0.7, "base"),
        (
            r"\b(flowing (?:normally|again|freely)|back to normal|normali[sz]ed|fully resumed|"
            r"(?:running|operating|shipping) normally)\b",
            "fulfilled",
            0.75,
        ),
    ),
    "visit": _cues(
        (
            r"\b(arrived|arrives|landed|lands|touched down|touches down|visited|was in Beijing|is in Beijing|"
            r"reached (?:Beijing|Washington|China|the United States)|"
            r"concluded (?:\w+ ){0,2}(?:meetings|talks|summit|visit)|"
            r"was in Washington|"
            r"is in Washington|(?:held|holds) talks in|toured|welcomed (?:\w+ ){0,4}(?:to|in)|"
            r"hosted (?:\w+ ){0,3}(?:in|at)|"
            r"began (?:a |an |his )?(?:\w+ )?(?:visit|trip)|wrapp(?:ed|s) up (?:a |an |"
            r"his )?(?:\w+ )?(?:visit|trip)|"
            r"during (?:his|a|the) (?:\w+ )?(?:visit|trip) to|hosted|hosts|"
            r"(?:hold|holds|held) talks (?:in|at)|"
            r"(?:visit|trip|summit|tour) (?:ends|ended|concludes|concluded|wraps up|wrapped up|closes|"
            r"closed)|"
            r"(?:first|second|third|final|last) day of (?:his|her|a|the) (?:\w+ )?(?:visit|trip|tour)|"
            r"(?:left|leaves|departed|departs) "
            r"(?:Beijing|Washington|China|the United States|the US|the U\.S\.) "
            r"(?:\S+ ){0,3}?after)\b",
            "fulfilled",
            0.8,
            "tensed",
        ),
        (r"\b(arrive|land|visit|travel|go|head|host|pay)\b", "fulfilled", 0.8, "base"),
        (
            r"\b(accept(?:ed|s|ing)? (?:an |the |his |xi's |trump's )?invitation|confirm(?:ed|s|"
            r"ing)? (?:\w+ ){0,3}(?:visit|trip|dates?)|"
            r"dates? (?:was |were |has been |have been )?(?:set|fixed|announced|agreed)|set (?:the )?dates?|"
            r"(?:visit|trip)(?: \w+){0,3} (?:is |was |has been )?(?:set|scheduled|planned|slated|"
            r"confirmed) for|preparations?|"
            r"advance team|(?:is|are) scheduled to|will (?:visit|travel|go|head|arrive|make)|"
            r"^(?:\S+ ){1,4}to (?:make|pay) (?:a |an |his |her )?(?:\w+ )?(?:state )?(?:visit|trip)|"
            r"plans? to (?:visit|travel|go)|expected to (?:visit|travel|arrive)|set to (?:visit|travel|"
            r"arrive))\b",
            "progress",
            0.7,
        ),
        (
            r"\b(will not (?:visit|travel|go)|won't (?:visit|travel|go)|no longer (?:plans|going|visit))\b",
            "broken",
            0.75,
        ),
    ),
}

_NEG = re.compile(
    r"\b(not|n't|never|no|nor|yet to|failed to|fails to|fail to|without|denied|denies|deny|refused to|"
    r"refuses to|"
    r"rather than|instead of|false|dismissed (?:reports|claims))\b|n't\b",
    re.I,
)
_DENIAL = re.compile(
    r"\b(denied|denies|deny|dismissed|rejected|rebuffed) (?:\w+ ){0,3}(?:reports?|claims?|suggestions?|"
    r"speculation|rumou?rs?)",
    re.I,
)
_SPEC = re.compile(
    r"\b(could|may|might|consider(?:s|ing|ed)?|weigh(?:s|ing|ed)?|mull(?:s|ing|ed)?|reportedly|"
    r"rumou?r(?:s|ed)?|"
    r"possib(?:le|ly|ility)|likely|unlikely|threaten(?:s|ed|ing)? to|warn(?:s|ed|ing)? (?:that |"
    r"it )?(?:it )?could|if|unless|"
    r"whether|speculat\w+|sources (?:said|say)|people (?:familiar|briefed)|hop(?:e|es|ed|ing) to|seek(?:s|"
    r"ing)? to|"
    r"aim(?:s|ing)? to|propos(?:ed|es|al)|talk(?:s|ed)? (?:of|about)|explor(?:e|es|ing)|open to|ask(?:ed|"
    r"s|ing)? (?:\w+ ){0,2}to|"
    r"urg(?:e|ed|es|ing)|call(?:ed|s|ing)? (?:on|for)|question(?:s|ed)? (?:over|about|whether)|doubts?|"
    r"press(?:es|ed|ing)? (?:\S+ ){0,3}to|lobb(?:y|ies|ied|ying)|push(?:es|ed|ing)? (?:\S+ ){0,3}for|"
    r"demand(?:s|ed|ing)?|expected to|said to (?:be|weigh|plan|consider)|"
    r"fears?|risk(?:s)?|"
    r"would)\b",
    re.I,
)
_FUTURE = re.compile(
    r"\b(will|shall|'ll|set to|due to|scheduled to|slated to|going to|is to|are to|expected to|plans? to|"
    r"planning to|"
    r"intends? to|prepar(?:es|ing) to|would|starting|from next|next (?:week|month)|ready to)\b",
    re.I,
)
_RESTATE = re.compile(
    r"\b(agreed|agrees|pledged|pledges|promised|promises|committed|commits|vowed|vows|undertook|undertakes|"
    r"invitation|invited|invites|deal (?:calls|called) for|commitment to|pledge to|promise to|"
    r"agreement to|under the (?:deal|agreement|truce))\b",
    re.I,
)
# A leader speaking about the deal ("Trump says he'll cut", "Xi told reporters he would"): a claim or a
# plan, not an act of government.
_LEADER_SAYS = re.compile(
    r"\b(?:Trump|Xi|president|leader)\b[^.;]{0,40}\b(?:says?|said|told|tells|revealed|reveals|touts?|"
    r"touted|hails?|hailed|claims?|claimed)\b",
    re.I,
)
_CLAUSE_BREAK = re.compile(
    r"[;:]|,\s*(?:but|while|whereas|although|though)\b|\b(?:but|while|whereas|although)\b", re.I
)
_PARTIAL = re.compile(
    r"\b(partial(?:ly)?|some (?:exports|shipments|deliveries|customers)|case-by-case|limited)\b", re.I
)
# Background, not news: a past-perfect verb ("China had blocked exports from October 4") or an event
# in an "after"/"since" clause ("after Beijing banned exports") tells what came before the report's event.
_BACKGROUND = re.compile(
    r"(?:\b(?:had|had been|had already|had earlier|had previously)\s*$|"
    r"\b(?:after|since|following|prompted by)\s+(?:\S+\s+){0,4}$)",
    re.I,
)
# The coverage of a deal runs for a couple of days after it is announced (30 Oct - 1 Nov for a 30 Oct
# deal): what it states is the promise, not its implementation.
_ANNOUNCEMENT_COVERAGE = dt.timedelta(days=2)
_SAID = re.compile(r"\b(said|says|told|announced|stated|confirmed)\b", re.I)

# Google News and many aggregators append " - Publisher" (or " | Publisher") to every title. Left in, the
# publisher's name joins the headline's last clause ("... says - Reuters") and can even supply a term.
# A suffix counts as a publisher when it is short and every word is capitalised, a domain or a connective.
_AGGREGATOR_SUFFIX = re.compile(r"\s+[-|\u2013\u2014]\s+([^-|\u2013\u2014]{2,48})$")
_PUBLISHER_WORD = re.compile(
    r"^(?:[A-Z0-9][\w.&'’()-]*|of|the|and|de|for|on|\(\.gov\)|[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|gov|cn|uk|io|news))$"
)


def strip_aggregator_suffix(title: str) -> str:
    """The headline without a trailing publisher name ("Trump lands in Beijing - AP News")."""
    m = _AGGREGATOR_SUFFIX.search(title)
    if not m:
        return title
    words = m.group(1).split()
    if 1 <= len(words) <= 6 and all(_PUBLISHER_WORD.match(w) for w in words):
        return title[: m.start()].rstrip()
    return title


# Clauses inside one sentence. Headlines join two events with "as", ";" or ", and" ("Trump lowers China
# tariffs as Xi delays rare earth curbs"); a cue in another clause than the subject is weaker evidence.
_CLAUSE_SPLIT = re.compile(
    r"[;:]|\s-\s|,\s*(?:and|but|while|whereas|after|before|as)\s|\s(?:while|whereas|but)\s|"
    r"\sas\s(?=[A-Z]|(?:the|new|its|his|her|their|talks|sales|prices|trade|exports|imports)\b)|"
    r",?\sand\s(?=(?:China|Beijing|the US|the U\.S\.|Washington|US|U\.S\.|Chinese|Trump|Xi|"
    r"the White House)\b)"
)


def clause_spans(sentence: str) -> list[tuple[int, int]]:
    """Spans of the clauses of one sentence (see ``_CLAUSE_SPLIT``)."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _CLAUSE_SPLIT.finditer(sentence):
        spans.append((start, m.start()))
        start = m.end()
    spans.append((start, len(sentence)))
    return spans


def _clause_of(spans: list[tuple[int, int]], pos: int) -> int:
    for n, (a, b) in enumerate(spans):
        if a <= pos < b or (n == len(spans) - 1 and pos >= a):
            return n
    return 0


# Who acts. "China ... suspends port fees" is China's measure even when "US goods" appear in the same
# clause; a party named right after a preposition ("on US vessels") or as a modifier ("US-linked") is the
# object, not the actor.
# A compound ("US-China truce", "Sino-US talks") names the relationship, not an actor: (?<!-) and (?![\w-]).
# A party name before a noun of goods or firms ("US soybeans", "listed Chinese firms") is a modifier.
_MODIFIED_NOUN = (
    r"(?!\s+(?:goods|products|imports|exports|soybeans|soy|farm|agricultural|firms|companies|ships|vessels|"
    r"chips?|buyers|sellers|exporters|importers|entities|cranes?|ports?|markets?|shippers|makers|"
    r"carmakers|automakers|chipmakers|subsidiaries|producers|manufacturers|operators|customers|"
    r"suppliers|businesses|cargoes|shipments|steel|cars|crops|growers|farmers|plants?|factories)\b)"
)
_PARTY_RE = {
    "US": re.compile(
        r"(?<!-)\b(?:US|U\.S\.|USA|United States|America|American|Washington|White House|USTR|Trump|"
        r"Commerce Department|BIS|Treasury)(?![\w-])" + _MODIFIED_NOUN
    ),
    "China": re.compile(
        r"(?<!-)\b(?:China|Chinese|Beijing|PRC|MOFCOM|Xi|Xi Jinping|Ministry of Commerce|Tariff Commission|"
        r"State Council)(?![\w-])" + _MODIFIED_NOUN
    ),
}
_RELATIVE = re.compile(r",\s*(?:which|who|that)\b[^,]*,")
_OBJECT_PREP = re.compile(
    r"\b(?:on|to|from|for|against|with|of|by|at|in|into|toward|towards|over|than|and)\s+(?:the\s+)?$", re.I
)


def _actor_before(text: str) -> str | None:
    """The party named last before a verb in its clause, skipping objects of prepositions; "both" for a
    joint subject ("US and China suspend port fees")."""
    found: list[tuple[int, int, str]] = []
    # a relative clause describes its noun ("the rule, which covers Chinese firms, took effect"): blank it
    text = _RELATIVE.sub(lambda m: " " * len(m.group(0)), text)
    for party, rx in _PARTY_RE.items():
        for m in rx.finditer(text):
            if _OBJECT_PREP.search(text[: m.start()]) and not re.search(
                r"(?:^|[^\w\s])\s*\w+\s*(?:and|,)\s*(?:the\s+)?$", text[: m.start()]
            ):
                continue
            found.append((m.start(), m.end(), party))
    if not found:
        return None
    found.sort()
    last = found[-1]
    if len(found) > 1:
        prev = found[-2]
        if prev[2] != last[2] and re.fullmatch(
            r"\s*(?:,|and|&|,\s*and)\s*(?:the\s+)?(?:(?:President|Premier|Prime Minister|leader)\s+)?",
            text[prev[1] : last[0]],
        ):
            return "both"
    return last[2]


# "US-China", "U.S.-Chinese", "Sino-US", "China-US": the relationship, not one of the parties. Inside such a
# compound the other party's name does not count for a commitment: a "US-China port fee suspension" names
# the US fees, not also China's (which would need the US named again, as their object).
_COMPOUND = re.compile(
    r"\b(?:U\.?S\.?|USA|America|American|China|Chinese|Sino|Beijing|Washington)-"
    r"(?:U\.?S\.?|USA|America|American|China|Chinese|Beijing|Washington)\b"
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
        self, commitments: Sequence[Commitment], category_defaults: dict[str, MatchTerms] | None = None
    ) -> None:
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
        candidates: set[int] = set()
        for h in doc.hits_by_sentence:
            for k in h:
                owners = self._alias_owner.get(k)
                if owners:
                    candidates.update(owners)
        return [e.match for e in self._judge(doc, sorted(candidates), explain=False) if e.match is not None]

    def explain(self, report: Report) -> list[Explanation]:
        """One explanation per commitment on the watchlist, matched or not, with the reasons."""
        doc = self._scan(report)
        if report.date_unreadable:
            return [
                Explanation(c.id, False, ["the publication date does not parse: never evidence"])
                for c in self.commitments
            ]
        return self._judge(doc, list(range(len(self._compiled))), explain=True)

    def _judge(self, doc: _Doc, indices: list[int], explain: bool) -> list[Explanation]:
        official = doc.report.official
        if official is None:
            official = bool(OFFICIAL_HINTS.search(f"{doc.report.source} {doc.report.link}"))
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


# --- explain helpers for the CLI ---------------------------------------------------------------------


def format_explanations(explanations: Sequence[Explanation], verbose: bool = False) -> str:
    """Readable text for `trade-monitor explain`: matches first, then why the others did not match.

    Commitments that were never candidates (none of their aliases occur) are listed in one line unless
    ``verbose``, so the output stays readable with a long watchlist.
    """
    lines: list[str] = []
    matched = [e for e in explanations if e.matched and e.match is not None]
    others = [e for e in explanations if not e.matched]
    for e in matched:
        m = e.match
        assert m is not None
        lines.append(f"MATCH {e.commitment}: {m.signal} (confidence {m.confidence:.2f})")
        lines.append(f"  evidence: {m.evidence}")
        for r in e.reasons:
            lines.append(f"  - {r}")
    if not matched:
        lines.append("no commitment matched")
    silent = [e.commitment for e in others if e.reasons == ["no alias of this commitment in the text"]]
    for e in others:
        if e.commitment in silent and not verbose:
            continue
        lines.append(f"no match {e.commitment}:")
        for r in e.reasons:
            lines.append(f"  - {r}")
    if silent and not verbose:
        lines.append(f"no alias found for: {', '.join(silent)}")
    return "\n".join(lines)


def explain_text(engine: EvidenceEngine, text: str, published: dt.datetime | dt.date | None = None) -> str:
    """What `trade-monitor explain "TEXT" [--published DATE]` prints.

    The first line of ``text`` (or its first sentence when it is one line) is read as the title.
    """
    if isinstance(published, dt.date) and not isinstance(published, dt.datetime):
        published = dt.datetime(published.year, published.month, published.day, tzinfo=dt.UTC)
    title, _, summary = text.strip().partition("\n")
    report = Report("explain", title.strip(), summary.strip(), published)
    return format_explanations(engine.explain(report))


# --- evaluation ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelledReport:
    report: Report
    labels: dict[str, Signal]
    split: str = "dev"
    note: str = ""


def _parse_dt(value: object) -> dt.datetime | None:
    try:
        return read_published(value)
    except ValueError:
        return None


def load_labelled(path: str | Path) -> list[LabelledReport]:
    """JSON lines: ``{"id", "title", "summary", "published", "link", "source", "labels": {id: signal}}``
    plus optional ``split`` ("dev" or "heldout") and ``note``."""
    out: list[LabelledReport] = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        labels = row.get("labels") or {}
        for cid, sig in labels.items():
            if sig not in SIGNALS:
                raise ValueError(f"{path}:{n}: {cid}: unknown signal {sig!r}")
        rep = Report(
            str(row["id"]), row.get("title", ""), row.get("summary", ""), _parse_dt(row.get("published")),
            row.get("link", ""), row.get("source", ""),
        )  # fmt: skip
        out.append(
            LabelledReport(rep, cast(dict[str, Signal], labels), row.get("split", "dev"), row.get("note", ""))
        )
    return out


@dataclass
class EvalResult:
    """Relevance over (report, commitment) pairs and signal accuracy on the pairs both sides found."""

    reports: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    signal_correct: int = 0
    signal_total: int = 0
    confusion: dict[tuple[str, str], int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    label: str = ""

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def signal_accuracy(self) -> float:
        return self.signal_correct / self.signal_total if self.signal_total else 1.0

    def format(self, max_errors: int = 20) -> str:
        head = f"evaluation{' (' + self.label + ')' if self.label else ''}: {self.reports} reports"
        lines = [
            head,
            f"relevance  precision {self.precision:.3f}  recall {self.recall:.3f}  F1 {self.f1:.3f}"
            f"  (tp {self.tp}, fp {self.fp}, fn {self.fn})",
            f"signal accuracy on relevant pairs {self.signal_accuracy:.3f}"
            f" ({self.signal_correct}/{self.signal_total})",
            "confusion matrix (rows: labelled, columns: predicted; '-' = no match)",
        ]
        cols = [*SIGNALS, "-"]
        width = max(len(c) for c in cols) + 1
        lines.append(" " * width + "".join(c[:9].rjust(10) for c in cols))
        for g in cols:
            row = "".join(str(self.confusion.get((g, p), 0)).rjust(10) for p in cols)
            lines.append(g.ljust(width) + row)
        if self.errors:
            lines.append(f"errors ({len(self.errors)}, first {min(max_errors, len(self.errors))}):")
            lines.extend("  " + e for e in self.errors[:max_errors])
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format()


def evaluate(engine: EvidenceEngine, labelled_path: str | Path, split: str | None = None) -> EvalResult:
    """Score the engine on a labelled set (``split`` "dev" or "heldout" restricts it)."""
    items = [x for x in load_labelled(labelled_path) if split is None or x.split == split]
    return score_reports(engine, ((x.report, x.labels) for x in items), label=split or "all")


def score_reports(
    engine: EvidenceEngine, items: Iterable[tuple[Report, dict[str, Signal]]], label: str = "all"
) -> EvalResult:
    """Score the engine on (report, gold labels) pairs from any source.

    Separate from `evaluate` so that sets whose text may not be stored in the project (real reports read
    from a third-party corpus at test time) are scored exactly like the labelled files.
    """
    res = EvalResult(label=label)
    for report, gold in items:
        res.reports += 1
        got = {m.commitment: m for m in engine.match(report)}
        for cid in set(got) | set(gold):
            g = gold.get(cid)
            p = got[cid].signal if cid in got else None
            key = (g or "-", p or "-")
            res.confusion[key] = res.confusion.get(key, 0) + 1
            if g and p:
                res.tp += 1
                res.signal_total += 1
                if g == p:
                    res.signal_correct += 1
                else:
                    res.errors.append(f"{report.id} {cid}: signal {p}, labelled {g}: {got[cid].explanation}")
            elif p:
                res.fp += 1
                res.errors.append(f"{report.id} {cid}: false match ({p}): {got[cid].evidence[:100]}")
            else:
                res.fn += 1
                res.errors.append(f"{report.id} {cid}: missed (labelled {g}): {report.title[:80]}")
    return res
