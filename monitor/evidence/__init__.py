"""Matching and evidence: decides whether a report is about a commitment and what it says about it.

This package is pure (no I/O except the evaluation harness reading its labelled file, no database): it
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

6. **The learned stage.** The rules are precise but need a whole subject in one sentence. Every
   candidate (a commitment with an alias anywhere) is also described by general, named features
   (``features``) and two logistic regressions weigh them (``model``, weights in ``model.json``, learned
   by ``train``): one for relevance, one for the signal. Overruling the rules, and any status-changing
   signal, need more certainty than agreeing with them; a report from before the commitment and another
   party's act stay out.

Where things live (change the data, not the code, where you can):

- ``types``: ``Report``, ``Match``, ``Explanation``, ``Quantity`` and ``read_published`` (reduced-precision
  dates are the last day of their period; an unreadable date is never evidence).
- ``text``: sentences, clauses, dates in a sentence, quantities normalised to a target's unit.
- ``vocabulary``: data only: shared names, cue tables per kind of commitment, negation, modality,
  attribution and background patterns.
- ``doc``: the engine's working data (a compiled commitment, a scanned report, a unit, a reading).
- ``rules``: the reading of a sentence, as ordered tuples of small named rules (cue filters, cue rules,
  sentence rules); ``explain`` lists the rules that decided. Change one rule, not the engine.
- ``grammar``: the small helpers the rules call (clause windows, modals, stated rates, moved deadlines).
- ``engine``: compilation, scanning, relevance, families and ``EvidenceEngine``.
- ``evaluate``: ``explain`` output and the evaluation harness over labelled files.
- ``features``, ``model``, ``train``: the learned stage's features, its scorer, and the script that
  learns ``model.json`` (``python -m monitor.evidence.train [--cv 5]``).
"""

from monitor.evidence.engine import EvidenceEngine
from monitor.evidence.evaluate import (
    EvalResult,
    LabelledReport,
    evaluate,
    explain_text,
    format_explanations,
    load_labelled,
    score_reports,
)
from monitor.evidence.text import (
    BUSHELS_PER_MMT_SOY,
    extract_quantities,
    find_dates,
    normalise,
    split_sentences,
)
from monitor.evidence.types import Explanation, Match, Quantity, Report, published_precision, read_published
from monitor.evidence.vocabulary import strip_aggregator_suffix

__all__ = [
    "BUSHELS_PER_MMT_SOY",
    "EvalResult",
    "EvidenceEngine",
    "Explanation",
    "LabelledReport",
    "Match",
    "Quantity",
    "Report",
    "evaluate",
    "explain_text",
    "extract_quantities",
    "find_dates",
    "format_explanations",
    "load_labelled",
    "normalise",
    "published_precision",
    "read_published",
    "score_reports",
    "split_sentences",
    "strip_aggregator_suffix",
]
