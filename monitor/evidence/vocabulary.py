"""The vocabulary, as data apart from the code that reads it: cue tables per kind of commitment,
negation, modality, attribution and background. The parties' names, leaders and official sources come
from the watchlist (``parties``)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from monitor.config import Signal

# month names as they appear in dates ("Nov. 10", "September")
_MONTH_RE = r"(january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)\.?"  # noqa: E501


# --- shared vocabularies ----------------------------------------------------------------------------

# Countries other than the shipped parties; `parties.WORLD` adds those back for other watchlists.
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
        r"push(?:es|ed)? (?:\S+ ){1,6}?out (?:to|until)|"
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

# A reversal that is itself stopped is none: "suspending reciprocal increases", "pausing the planned
# hike", "averted a doubling". The verbs that stop what follows them (a few words before the cue).
_STOPPED_BY = re.compile(
    r"\b(?:suspend|paus|halt|freez|froze|delay|postpon|avert|avoid|prevent|forgo|shelv|block|"
    r"hold(?:s|ing)? off|held off|put(?:s|ting)? off|stav)\w*(?:\s+(?:the|a|an|any|its|their|further|"
    r"planned|scheduled|threatened|reciprocal|tariff|\w+-\w+))*\s+$",
    re.I,
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
        (  # some licences or exemptions granted: a partial step ("magnet makers received licences")
            r"\b((?:issu|grant|approv|receiv|obtain|secur|award)(?:ed|es|ing|s)? (?:\S+ ){0,4}?"
            r"(?:licen[cs]es|permits|exemptions|waivers)|"
            r"(?:won|wins|win) (?:\S+ ){0,4}?(?:licen[cs]es|permits|exemptions|waivers)|"
            r"approved (?:\S+ ){0,3}applications)\b",
            "progress",
            0.65,
        ),
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
        (  # the dates set ("due in China on 31 March", "the trip will run from ..."), or the leader leaving
            r"\b((?:is|was|are) due (?:in|to arrive in|to visit|to travel to) |"
            r"(?:visit|trip|stay|summit) (?:\S+ ){0,3}?(?:will )?(?:runs?|lasts?|take place|takes place) "
            r"(?:from|on|between)|"
            r"(?:heads|headed|heading|flew|flies|flying|set off|sets off|departed|departs|left) "
            r"(?:\S+ ){0,3}?(?:to|for) (?:Beijing|Washington|China|the United States|the US|the U\.S\.)|"
            r"bound for|en route to|on (?:his|her) way to)",
            "progress",
            0.7,
            "tensed",
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
    r"\b(agreed|agrees|agree to|pledged|pledges|promised|promises|committed|commits|vowed|vows|undertook|"
    r"undertakes|"
    r"invitation|invited|invites|deal (?:calls|called) for|commitment to|pledge to|promise to|"
    r"agreement to|under the (?:deal|agreement|truce))\b",
    re.I,
)
# A document that states the terms (a fact sheet, a readout, the deal's text): what it says will happen
# is the promise restated, however concrete it sounds ("the fact sheet says China will halt shipments").
_TERMS_DOCUMENT = re.compile(
    r"\b(fact ?sheets?|readouts?|joint statements?|(?:terms|text) of the (?:deal|agreement|arrangement)|"
    r"(?:deal|agreement|arrangement|framework|consensus) (?:says|said|states|stated|includes|included|"
    r"calls for|called for|provides|provided|lists|listed|spells out|spelled out|sets out|set out|"
    r"envisages|foresees))\b",
    re.I,
)
# A step that applies at once, whatever date the deal set for it.
_IMMEDIATE = re.compile(
    r"\b(with immediate effect|effective immediately|takes? effect immediately|immediately effective|"
    r"with effect from today|from today|as of today)\b",
    re.I,
)
_YEAR_ONLY = re.compile(r"(?:19|20)\d\d")  # a date written as a bare year
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


# Who acts (``parties.Parties.actor_before``): a party name before a noun of goods or firms ("US
# soybeans", "listed Chinese firms") is a modifier, not the actor.
_MODIFIED_NOUN = (
    r"(?!\s+(?:goods|products|imports|exports|soybeans|soy|farm|agricultural|firms|companies|ships|vessels|"
    r"chips?|buyers|sellers|exporters|importers|entities|cranes?|ports?|markets?|shippers|makers|"
    r"carmakers|automakers|chipmakers|subsidiaries|producers|manufacturers|operators|customers|"
    r"suppliers|businesses|cargoes|shipments|steel|cars|crops|growers|farmers|plants?|factories)\b)"
)


# --- the learned stage's vocabulary ---------------------------------------------------------------------
# Concept frames per kind of commitment: the ways reports talk about such a promise being acted on
# without using the commitment's own words (a visit is also a summit, talks, arriving or hosting; a
# purchase is also bookings, cargoes or sales). The model weighs whether each frame occurs anywhere.
def _frames(**items: str) -> dict[str, re.Pattern[str]]:
    return {name: re.compile(pattern, re.I) for name, pattern in items.items()}


_IN_FORCE_FRAME = r"\b(took effect|takes effect|in effect|in force|effective|from \d{1,2} \w+|began|begins)\b"
FRAME_CUES: dict[str, dict[str, re.Pattern[str]]] = {
    "visit": _frames(
        meeting=r"\b(summit|talks|meet(?:s|ing|ings)?|met|host(?:s|ed|ing)?|welcom(?:e|es|ed|ing)|banquet)\b",
        travel=r"\b(trip|visit\w*|travel\w*|arriv\w+|land(?:s|ed)|depart\w*|fl(?:y|ies|ew) to|"
        r"touch\w* down)\b",
        schedule=r"\b(dates?|schedul\w+|itinerary|agenda|plann\w+|expected|set for|invit\w+)\b",
        moved=r"\b(postpon\w+|delay\w*|push\w* back|reschedul\w+|put off|later date)\b",
    ),
    "purchase": _frames(
        flow=r"\b(bookings?|booked|cargo(?:es)?|shipments?|sales|sold|bought|buy(?:s|ing)?|purchas\w+|orders?)\b",
        amount=r"\b\d[\d,.]*\s*(?:million|mln|m)?\s*(?:metric )?(?:tons|tonnes|mmt|bushels)\b",
        total=r"\b(so far|to date|cumulative|in total|total(?:led|ing)?|reach(?:ed|es)?|brings?|bringing)\b",
        target=r"\b(target|pledge|commitment|goal|quota)\b",
    ),
    "suspension": _frames(
        in_force=_IN_FORCE_FRAME,
        notice=r"\b(federal register|notice|announcement|order|decree|statement|circular)\b",
        lapse=r"\b(expir\w+|lapse\w*|reimpos\w+|restor\w+|snap ?back|resum\w+)\b",
    ),
    "measure": _frames(
        in_force=_IN_FORCE_FRAME,
        notice=r"\b(federal register|executive order|order|notice|proclamation)\b",
        rate=r"\b\d{1,3}(?:\.\d)?\s*(?:%|percent|per cent|percentage points?|points)\b",
    ),
    "enforcement": _frames(
        action=r"\b(crackdown|arrest\w*|seiz\w+|schedul\w+|list(?:ed|ing)?|control(?:s|led)?|licen[cs]\w*)\b",
        notice=r"\b(announce\w*|notice|rules?|measures?|regulation\w*)\b",
    ),
    "supply": _frames(
        flow=r"\b(shipments?|deliver\w*|supply|supplies|exports?|resum\w+|exemptions?|licen[cs]\w*)\b",
        strain=r"\b(shortage\w*|halt\w*|stopp\w+|disrupt\w+|cut\w* (?:off|output)|idl\w+)\b",
    ),
}

# Why the rule reading matched nothing, by a fragment of its reason: each is a different kind of doubt,
# so each is a feature of its own.
WHY_NOT_MATCHED: dict[str, str] = {
    "no_alias": "no alias of this commitment",
    "incomplete": "holds the whole subject",
    "missing_group": "no word of required group",
    "excluded": "excluded by",
    "third_country": "not the counterpart",
    "traveller": "the traveller in this sentence",
    "family": "shares its words with",
    "generic": "generic name",
    "list": "list of the deal's parts",
    "opinion": "opinion piece",
    "other_party": "act of the other party",
}
# Reasons after which the model may still find the report about the commitment, but never a change of
# its status: the rules found that another pledge of the family fits the dates and amounts better (a
# "target reached" belongs to that one), or that every cue is the other party's act (the rules know whose
# act a cue is; a model weighing word counts does not, though it can tell the report is about it).
RULE_NO_CHANGE: tuple[str, ...] = (WHY_NOT_MATCHED["family"], WHY_NOT_MATCHED["other_party"])

# Aspect of what a report states, in general English: a measure that has taken effect, an instrument
# signed or published (a step, not yet the outcome), a schedule still ahead, and a recap of what was
# agreed. The model weighs each class by how often it occurs beside the subject.
ASPECT_CUES: dict[str, re.Pattern[str]] = {
    name: re.compile(pattern, re.I)
    for name, pattern in {
        "in_effect": r"\b(took effect|came into (?:force|effect)|went into effect|in effect|in force|"
        r"now (?:applies|apply|stands?|runs?)|has (?:been )?(?:suspended|lifted|cut|halved|lowered|"
        r"removed|extended|paused|resumed|granted)|have (?:been )?(?:suspended|lifted|cut|halved|lowered|"
        r"removed|extended|paused|resumed|granted)|(?:begins?|began|starts?|started) (?:to )?\w+ing|"
        r"kicks? in|kicked in|effective immediately|"
        r"with immediate effect|completed|arrived|landed|held (?:talks|a summit|a meeting)|concluded)\b",
        "instrument": r"\b(signed|signs|issued|issues|published|publishes|released|releases|unveiled|"
        r"executive orders?|federal register|notice|proclamation|announcement|announced|announces|"
        r"statement|decree|circular)\b",
        "ahead": r"\b(will take effect|takes effect on|to take effect|effective from|from next|"
        r"starting (?:on|from)|as of|scheduled|slated|set to|due to|is to|are to|ahead of|upcoming|"
        r"next (?:week|month|year))\b",
        "recap": r"\b(agreed|agreement|deal|truce|framework|pledged|promised|committed|fact sheet|"
        r"outcomes?|consensus|terms|under the)\b",
        "question": r"\?|\b(whether|doubts?|uncertain\w*|unclear|questions?)\b",
    }.items()
}
