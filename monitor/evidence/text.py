"""Text, dates and quantities: sentences, dates in a sentence, amounts normalised to a target's unit."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from monitor.evidence.types import (
    Quantity,
)
from monitor.evidence.vocabulary import _MONTH_RE

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


def _expand(terms: Iterable[str], synonyms: Mapping[str, tuple[str, ...]]) -> list[str]:
    """The terms with what each stands for: a party's name brings its aliases ("China" finds Beijing)."""
    out: list[str] = []
    for t in terms:
        out.append(t)
        out.extend(synonyms.get(_term_key(t).replace(".", ""), ()))
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
    day: bool = False  # a day of the month is written: "13 May" sets a date, "in April" is a plan


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
                d = replace(d, date=d.date.replace(year=d.date.year - 1))
            except ValueError:  # 29 February
                d = replace(d, date=d.date - dt.timedelta(days=365))
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
        elif _SINCE.search(sentence[max(0, m.start() - 12) : m.start()]):  # "since 4 March": the last one
            y = ref.year if month <= ref.month else ref.year - 1
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
        out.append(_DateHit(m.start(), dt.date(y, month, d), m.group(0), bool(day1 or day2)))
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


_SINCE = re.compile(r"\b(?:since|as early as|as long ago as)\s+(?:on\s+)?$", re.I)
_ORDINAL_DAY = re.compile(r"\bon the (\d{1,2})(?:st|nd|rd|th)\b", re.I)
_LOOKS_AHEAD = re.compile(
    r"\b(?:from|until|through|till|by|effective|starting|beginning|before|to|expires?|ends?|runs? out|"
    r"as of|on or after)\s+(?:on\s+)?$",
    re.I,
)


def reading_day(text: str, first: dt.date, last: dt.date) -> dt.date:
    """The day a report of reduced precision (somewhere between ``first`` and ``last``) speaks from: the
    latest day it dates an event to in that period ("the order released on 4 November"), not a day it
    looks ahead to ("with effect from 10 November"). With no such day, the period's last day, as for
    eligibility: the report can be no later than that."""
    seen = [
        d.date
        for d in find_dates(text, last)
        if d.day and first <= d.date <= last and not _LOOKS_AHEAD.search(text[max(0, d.start - 24) : d.start])
    ]
    if first.month == last.month:  # "on the 4th": a day of the report's own month
        for m in _ORDINAL_DAY.finditer(text):
            if int(m.group(1)) <= last.day:
                seen.append(first.replace(day=int(m.group(1))))
    return max(seen, default=last)


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
