"""The parties of a watchlist as the engine uses them: names that expand in terms groups, the other
side a commitment is about, who acts in a clause, where a visit goes, compounds such as "US-China",
third countries and the hints of an official source.

The vocabulary comes from the watchlist's ``parties:`` section, so a US-Japan or an EU-China watchlist
needs no code. ``DEFAULT_PARTIES`` (the shipped US and China) serve watchlists written before that
section existed; a test keeps them equal to the shipped watchlist's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from monitor.config import Party, party_named
from monitor.evidence.text import _term_key
from monitor.evidence.vocabulary import _MODIFIED_NOUN, THIRD_COUNTRIES

DEFAULT_PARTIES: dict[str, Party] = {
    "US": Party(
        aliases=["U.S.", "USA", "United States", "America", "American", "Washington", "White House", "USTR",
                 "Trump administration"],
        leaders={"Trump": ["Donald Trump", "President Trump", "the US president", "the U.S. president"]},
        bodies={"Commerce": ["Commerce Department", "Department of Commerce", "BIS",
                             "Bureau of Industry and Security"]},
        actors=["US", "U.S.", "USA", "United States", "America", "American", "Washington", "White House",
                "USTR", "Trump", "Commerce Department", "BIS", "Treasury"],
        places=["US", "U.S.", "USA", "United States", "America", "Washington", "White House"],
        official=["whitehouse.gov", "ustr.gov", "federalregister.gov", "usda.gov", "commerce.gov",
                  "bis.doc.gov", "cbp.gov", ".gov", "White House", "USTR", "Federal Register", "USDA",
                  "Customs and Border"],
    ),
    "China": Party(
        aliases=["Chinese", "Beijing", "PRC", "MOFCOM", "Ministry of Commerce", "Chinese government",
                 "Mainland", "Chinese mainland"],
        leaders={"Xi": ["Xi Jinping", "President Xi", "the Chinese president", "China's president",
                        "Chinese leader"]},
        actors=["China", "Chinese", "Beijing", "PRC", "MOFCOM", "Xi", "Xi Jinping", "Ministry of Commerce",
                "Tariff Commission", "State Council", "Mainland"],
        places=["China", "Beijing", "PRC", "Chinese government"],
        combining=["Sino"],
        official=["mofcom.gov.cn", "gov.cn", "MOFCOM", "Ministry of Commerce", "State Council"],
    ),
}  # fmt: skip

# Third countries are the world without the watchlist's own parties: a US-Japan watchlist counts China.
WORLD = (*THIRD_COUNTRIES, "China", "Chinese", "Beijing", "US", "U.S.", "United States", "American",
         "Washington")  # fmt: skip


def _either(words: Sequence[str]) -> str:
    return "|".join(re.escape(w) for w in words)


def _hint(hint: str) -> str:
    """A source name or link containing the hint as whole words, in any case: "USTR" in "USTR says", not
    in "industry"; a domain ending (".gov") must end there: example.gov and example.gov.cn, not
    govdelivery.com."""
    before = r"(?<!\w)" if hint[:1].isalnum() else ""
    after = r"(?!\w)" if hint[-1:].isalnum() else ""
    return before + re.escape(hint) + after


@dataclass(frozen=True)
class Parties:
    """The compiled vocabulary of the watchlist's parties."""

    parties: Mapping[str, Party]
    synonyms: dict[str, tuple[str, ...]]  # a name in a terms group -> everything it stands for
    leaders: tuple[str, ...]
    places: tuple[str, ...]
    third: tuple[str, ...]
    actors: dict[str, re.Pattern[str]]
    compound: re.Pattern[str]
    official: re.Pattern[str]
    leader_says: re.Pattern[str]

    @classmethod
    def build(cls, parties: Mapping[str, Party] | None = None, third: Sequence[str] | None = None) -> Parties:
        """From the watchlist's ``parties:`` and ``third_countries:``; the defaults where it has none."""
        ps = dict(parties) if parties else DEFAULT_PARTIES
        synonyms: dict[str, tuple[str, ...]] = {}
        for name, p in ps.items():
            synonyms[_term_key(name).replace(".", "")] = tuple(p.names(name))
            for named, others in (*p.leaders.items(), *p.bodies.items()):
                synonyms[_term_key(named).replace(".", "")] = (named, *others)
        own = {_term_key(t) for name, p in ps.items() for t in (*p.names(name), *(p.places or ()))}
        return cls(
            ps,
            synonyms,
            tuple(t for p in ps.values() for leader, others in p.leaders.items() for t in (leader, *others)),
            tuple(t for name, p in ps.items() for t in (p.places if p.places is not None else p.names(name))),
            tuple(third) if third is not None else tuple(t for t in WORLD if _term_key(t) not in own),
            {name: _actor_re(name, p) for name, p in ps.items()},
            _compound_re(ps),
            re.compile("|".join(_hint(h) for p in ps.values() for h in p.official) or "(?!)", re.I),
            re.compile(
                rf"\b(?:{_either([lead for p in ps.values() for lead in p.leaders])}|president|leader)\b"
                r"[^.;]{0,40}\b(?:says?|said|told|tells|revealed|reveals|touts?|touted|hails?|hailed|claims?|"
                r"claimed|(?:re)?confirm(?:s|ed)?|reaffirm(?:s|ed)?|repeat(?:s|ed)?|reiterat(?:es|ed)|wrote|"
                r"writes|posted|posts|insist(?:s|ed)?|predict(?:s|ed)?)\b",
                re.I,
            ),
        )

    def resolve(self, name: str) -> str | None:
        """The party a commitment's ``party`` names."""
        return party_named(self.parties, name)

    def names(self, party: str) -> list[str]:
        return self.parties[party].names(party)

    def others(self, party: str) -> list[str]:
        return [p for p in self.parties if p != party]

    def actor_before(self, text: str) -> str | None:
        """The party named last before a verb in its clause, skipping objects of prepositions; "both" for
        a joint subject ("US and China suspend port fees")."""
        found: list[tuple[int, int, str]] = []
        # a relative clause describes its noun ("the rule, which covers Chinese firms, took effect")
        text = _RELATIVE.sub(lambda m: " " * len(m.group(0)), text)
        for party, rx in self.actors.items():
            for m in rx.finditer(text):
                head = text[: m.start()]
                if _OBJECT_PREP.search(head) and not _LISTED.search(head):
                    continue
                found.append((m.start(), m.end(), party))
        if not found:
            return None
        found.sort()
        last = found[-1]
        if len(found) > 1:
            prev = found[-2]
            if prev[2] != last[2] and _JOINT_SUBJECT.fullmatch(text[prev[1] : last[0]]):
                return "both"
        return last[2]


def _actor_re(name: str, p: Party) -> re.Pattern[str]:
    """Names of the party as a subject. A compound ("US-China truce") names the relationship, not an
    actor; a name before a noun of goods or firms ("US soybeans") is a modifier."""
    if p.actors is not None:
        words = p.actors
    else:
        bodies = [t for body, others in p.bodies.items() for t in (body, *others)]
        words = sorted({*p.names(name), *p.leaders, *bodies}, key=len, reverse=True)
    return re.compile(rf"(?<!-)\b(?:{_either(words)})(?![\w-])" + _MODIFIED_NOUN)


def _compound_re(ps: Mapping[str, Party]) -> re.Pattern[str]:
    """ "US-China", "U.S.-Chinese", "Sino-US": the relationship, not one of the parties. Dots are optional
    ("U.S" before a hyphen), and combining forms ("Sino") stand only first."""
    forms: list[str] = []
    for name, p in ps.items():
        for t in p.names(name):
            form = re.escape(t).replace(r"\.", r"\.?")
            if " " not in t and form not in forms:
                forms.append(form)
    first = forms + [re.escape(c) for p in ps.values() for c in p.combining]
    return re.compile(rf"\b(?:{'|'.join(first)})-(?:{'|'.join(forms)})\b")


_RELATIVE = re.compile(r",\s*(?:which|who|that)\b[^,]*,")
_OBJECT_PREP = re.compile(
    r"\b(?:on|to|from|for|against|with|of|by|at|in|into|toward|towards|over|than|and)\s+(?:the\s+)?$", re.I
)
_LISTED = re.compile(r"(?:^|[^\w\s])\s*\w+\s*(?:and|,)\s*(?:the\s+)?$")
_JOINT_SUBJECT = re.compile(
    r"\s*(?:,|and|&|,\s*and)\s*(?:the\s+)?(?:(?:President|Premier|Prime Minister|leader)\s+)?"
)
