"""The reading rules one at a time, on the rules alone (no learned stage): each test names a rule,
gives a sentence it exists for and one beside it that it must leave alone."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from monitor.config import load_config
from monitor.evidence import EvidenceEngine, Report, published_precision, read_published
from monitor.evidence.features import pair_features
from monitor.evidence.model import shipped_model
from monitor.evidence.text import reading_day

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def rules() -> EvidenceEngine:
    return EvidenceEngine.for_watchlist(load_config(ROOT / "config").watchlist, model=None)


def read(engine: EvidenceEngine, title: str, summary: str, published: str) -> dict[str, tuple[str, str]]:
    """Signal and the reasons' text per matched commitment, for a report dated as a feed would date it
    (``published`` may be of reduced precision, as `match` accepts)."""
    report = Report("t", title, summary, read_published(published), precision=published_precision(published))
    return {
        e.commitment: (e.match.signal, " ".join(e.reasons))
        for e in engine.explain(report)
        if e.match is not None
    }


def test_a_stopped_increase_is_no_reversal(rules: EvidenceEngine) -> None:
    stopped = read(
        rules,
        "Washington signs its tariff orders",
        "One order modifies the fentanyl duty rate on Chinese goods and another keeps suspending reciprocal "
        "increases for a year.",
        "2025-11-06",
    )
    assert stopped.get("us-fentanyl-tariff-cut", ("mention", ""))[0] != "broken"
    raised = read(
        rules,
        "Washington acts on China",
        "The US increased the fentanyl tariff on Chinese goods back to 20 percent on Monday.",
        "2026-03-02",
    )
    assert raised["us-fentanyl-tariff-cut"][0] == "broken"


def test_a_leaders_trip_in_a_month_is_a_plan_and_a_day_sets_it(rules: EvidenceEngine) -> None:
    plan = read(
        rules,
        "Trump repeats April China trip",
        "President Trump reaffirmed that he will travel to Beijing in April to meet Xi Jinping.",
        "2026-01-12",
    )
    assert plan["trump-beijing-visit"][0] == "mention"
    assert "leaders_plan" in plan["trump-beijing-visit"][1]
    dated = read(
        rules,
        "White House sets Beijing dates",
        "The White House said Trump will travel to Beijing on 13 May for talks with Xi Jinping.",
        "2026-04-20",
    )
    assert dated["trump-beijing-visit"][0] == "progress"


def test_what_a_fact_sheet_says_will_happen_is_the_promise(rules: EvidenceEngine) -> None:
    sheet = read(
        rules,
        "What the deal's fact sheet lists",
        "The White House fact sheet says the US will suspend the port fees on Chinese ships for one year "
        "from 10 November.",
        "2025-11-04",
    )
    assert sheet["us-port-fees-suspension"][0] == "mention"
    assert "terms_document" in sheet["us-port-fees-suspension"][1]
    order = read(
        rules,
        "USTR notice on port fees",
        "USTR published a notice that the US will suspend the port fees on Chinese ships for one year "
        "from 10 November.",
        "2025-11-04",
    )
    assert order["us-port-fees-suspension"][0] == "progress"


def test_a_step_with_immediate_effect_is_done_before_the_agreed_date(rules: EvidenceEngine) -> None:
    at_once = read(
        rules,
        "Beijing suspends rare earth export controls",
        "China's commerce ministry said it suspended the rare earth export controls of 9 October with "
        "immediate effect.",
        "2025-11-07",
    )
    assert at_once["cn-rare-earth-controls-suspension"][0] == "fulfilled"
    early = read(
        rules,
        "Beijing suspends rare earth export controls",
        "China's commerce ministry said it suspended the rare earth export controls of 9 October.",
        "2025-11-07",
    )
    assert early["cn-rare-earth-controls-suspension"][0] == "progress"  # before the effective date


def test_through_the_same_year_is_no_extension(rules: EvidenceEngine) -> None:
    same_year = read(
        rules,
        "Beijing acts on rare earths",
        "China's commerce ministry suspended the rare earth export controls with immediate effect through "
        "2026.",
        "2025-11-12",
    )
    assert same_year["cn-rare-earth-controls-suspension"][0] == "fulfilled"
    later = read(
        rules,
        "Beijing keeps rare earth export controls suspended through 2027",
        "China's commerce ministry kept the suspension of the rare earth export controls in place.",
        "2026-11-05",
    )
    assert later["cn-rare-earth-controls-suspension"][0] == "extended"


def test_a_month_only_report_speaks_from_the_last_day_it_dates() -> None:
    text = "An order released on 4 November cuts the tariff with effect from 10 November."
    assert reading_day(text, dt.date(2025, 11, 1), dt.date(2025, 11, 30)) == dt.date(2025, 11, 4)
    assert reading_day("No day is given here.", dt.date(2025, 11, 1), dt.date(2025, 11, 30)) == dt.date(
        2025, 11, 30
    )


def test_a_month_only_report_of_a_scheduled_cut_is_progress(rules: EvidenceEngine) -> None:
    title = "White House order halves the fentanyl tariff on China"
    summary = (
        "An executive order released on 4 November cuts the fentanyl tariff on Chinese goods to 10 percent, "
        "with effect from 10 November."
    )
    assert read(rules, title, summary, "2025-11")["us-fentanyl-tariff-cut"][0] == "progress"
    assert read(rules, title, summary, "2025-11-20")["us-fentanyl-tariff-cut"][0] == "fulfilled"
    assert published_precision("2025-11") == "month" and published_precision("2025-11-20") == "day"


def test_an_order_extending_a_kept_suspension_is_a_step_until_it_applies(rules: EvidenceEngine) -> None:
    signed = read(
        rules,
        "Trump signs tariff orders",
        "An executive order signed on Tuesday is extending the suspension of the higher reciprocal tariff "
        "on Chinese goods until 10 November 2026.",
        "2025-11-05",
    )
    assert signed["us-reciprocal-tariff-truce"][0] == "progress"
    # a promise that is itself an extension is kept by the decision, before the old expiry date too
    extended = read(
        rules,
        "USTR extends China exclusions",
        "USTR extended the 178 Section 301 exclusions on Chinese products until 10 November 2026.",
        "2025-11-26",
    )
    assert extended["us-301-exclusions-extension"][0] == "fulfilled"


def test_an_ordinal_day_dates_a_month_only_report() -> None:
    text = "The orders were issued on the 4th; they apply from 10 November."
    assert reading_day(text, dt.date(2025, 11, 1), dt.date(2025, 11, 30)) == dt.date(2025, 11, 4)


def test_since_a_month_is_the_last_such_month() -> None:
    from monitor.evidence import find_dates

    hits = find_dates("retaliatory tariffs announced since 4 March", dt.date(2025, 11, 4))
    assert [h.date for h in hits] == [dt.date(2025, 3, 4)]
    ahead = find_dates("the tariffs fall on 4 March", dt.date(2025, 11, 4))
    assert [h.date for h in ahead] == [dt.date(2026, 3, 4)]


def test_agreeing_to_a_step_restates_the_promise(rules: EvidenceEngine) -> None:
    agreed = read(
        rules,
        "US and China agree to pause each other's port fees for a year",
        "The two sides reached the arrangement during the leaders' meeting.",
        "2025-11-04",
    )
    assert agreed["cn-port-fees-suspension"][0] == "mention"
    assert "restated_promise" in agreed["cn-port-fees-suspension"][1]


def test_a_headline_naming_the_fact_sheet_covers_the_report(rules: EvidenceEngine) -> None:
    summary = (
        "The White House said on 3 November that the US will suspend the Section 301 port fees on "
        "Chinese ships for one year from 10 November."
    )
    sheet = read(rules, "Fact sheet confirms the pause of US port fees", summary, "2025-11-04")
    assert sheet["us-port-fees-suspension"][0] == "mention"
    news = read(rules, "USTR sets the pause of US port fees", summary, "2025-11-04")
    assert news["us-port-fees-suspension"][0] == "progress"


def test_the_other_partys_act_never_changes_this_commitments_status(rules: EvidenceEngine) -> None:
    """The US suspending *its* rule is not China suspending its controls: the pair reaches the learned
    stage (the report may be about it) marked so that no status can change."""
    report = Report(
        "t",
        "Critics fault the rule pause",
        "The US suspended the affiliates rule for a year, which officials said was in exchange for "
        "China's rare earth export controls.",
        read_published("2025-11-12"),
    )
    pairs = {ctx.rule.commitment: ctx for ctx in rules.pair_contexts(report)}
    assert pairs["cn-rare-earth-controls-suspension"].no_change
    assert not pairs["us-affiliates-rule-suspension"].no_change
    model = shipped_model()
    assert model is not None
    features = pair_features(pairs["cn-rare-earth-controls-suspension"])
    features["rule_fulfilled"] = features["cue_fulfilled"] = 5.0  # as sure as the model can be made
    assert model.judge(features, may_change=True).signal == "fulfilled"
    assert model.judge(features, may_change=False).signal in ("mention", "progress")
