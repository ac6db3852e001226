"""Throughput of the evidence engine: reports per second at 15, 1,000 and 10,000 commitments.

    python bench/match.py [--reports 10000] [--sizes 15,1000,10000]

The large watchlists are the shipped one plus generated commitments with their own invented subjects
(so the automaton grows as a real watchlist would); the reports are generated too, a few percent of them
about the real commitments, the rest ordinary trade news. Peak memory is measured with tracemalloc for
building the engine and matching, separately from the run that is timed (tracing slows Python down).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import re
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from monitor.config import Commitment, MatchTerms, load_config
from monitor.evidence import EvidenceEngine, Report

WORDS = re.findall(
    r"\w+",
    "tariff port exports imports quota license vessel shipment chips steel aluminium copper wheat corn rice "
    "beef pork lumber solar battery magnet drone turbine fertiliser cotton coffee cocoa sugar timber nickel",
)
COUNTRIES = re.findall(
    r"\w+", "Japan India Canada Mexico Brazil Vietnam Korea Germany France Chile Peru Kenya Egypt"
)


def synthetic_commitments(n: int, rng: random.Random) -> list[Commitment]:
    out = []
    for i in range(n):
        subject = f"{rng.choice(WORDS)}-{i:05d} accord"
        out.append(
            Commitment(
                id=f"gen-{i:05d}",
                title=f"{rng.choice(COUNTRIES)} keeps the {subject}",
                party=rng.choice(COUNTRIES),
                category=rng.choice(["tariff", "purchase", "export_control", "shipping"]),
                announced=dt.date(2025, 1, 1),
                terms=MatchTerms(aliases=[subject, f"{subject}s"], require=[[rng.choice(COUNTRIES)]]),
            )
        )
    return out


REAL = [
    (
        "China suspends special port fees on US vessels",
        "China's transport ministry suspended its special port fees on US-linked vessels on Monday.",
    ),
    ("China books US soybeans", "COFCO bought three cargoes of US soybeans this week, traders said."),
    ("Trump lands in Beijing", "Trump arrived in Beijing on Tuesday for talks with Xi Jinping."),
    (
        "Fentanyl tariff cut takes effect",
        "The fentanyl tariff on Chinese goods fell to 10 percent on Monday.",
    ),
]


def synthetic_reports(n: int, commitments: list[Commitment], rng: random.Random) -> list[Report]:
    reports = []
    gen = [c for c in commitments if c.id.startswith("gen-")]
    for i in range(n):
        r = rng.random()
        if r < 0.05:
            title, summary = rng.choice(REAL)
        elif r < 0.15 and gen:
            c = rng.choice(gen)
            alias = c.terms.aliases[0]
            title = f"{c.party} extends the {alias}"
            summary = f"Officials in {c.party} said the {alias} was extended until June 2027. Markets rose."
        else:
            words = rng.sample(WORDS, 12)
            title = f"{rng.choice(COUNTRIES)} {words[0]} {words[1]} outlook"
            summary = (
                f"Traders in {rng.choice(COUNTRIES)} said {words[2]} and {words[3]} prices rose this week. "
                f"The {words[4]} market remained quiet as {words[5]} demand slowed. "
                f"Analysts expect {words[6]} {words[7]} shipments to pick up in the spring."
            )
        reports.append(Report(f"r{i}", title, summary, dt.datetime(2026, 1, 1, tzinfo=dt.UTC)))
    return reports


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reports", type=int, default=10_000)
    ap.add_argument("--sizes", default="15,1000,10000")
    ap.add_argument("--config-dir", default=str(Path(__file__).resolve().parents[1] / "config"))
    args = ap.parse_args()
    cfg = load_config(args.config_dir)
    base = list(cfg.commitments)
    heads = ("commitments", "build s", "reports/s", "rules only", "matches", "peak MiB")
    print(" ".join(f"{h:>{w}}" for h, w in zip(heads, (12, 8, 10, 10, 8, 9), strict=True)))
    for size in (int(s) for s in args.sizes.split(",")):
        rng = random.Random(size)
        commitments = base + synthetic_commitments(max(0, size - len(base)), rng)
        reports = synthetic_reports(args.reports, commitments, rng)
        # the daemon's engine: the shipped watchlist (parties, third countries, defaults) grown to size
        watchlist = cfg.watchlist.model_copy(update={"commitments": commitments})
        t0 = time.perf_counter()
        engine = EvidenceEngine.for_watchlist(watchlist)
        build = time.perf_counter() - t0
        t0 = time.perf_counter()
        matches = sum(len(engine.match(r)) for r in reports)
        rate = len(reports) / (time.perf_counter() - t0)
        # the same reports through the rules alone, in the same minute: what the learned stage costs
        rules = EvidenceEngine.for_watchlist(watchlist, model=None)
        t0 = time.perf_counter()
        for r in reports:
            rules.match(r)
        rules_rate = len(reports) / (time.perf_counter() - t0)
        tracemalloc.start()
        engine2 = EvidenceEngine.for_watchlist(watchlist)
        for r in reports[:2000]:
            engine2.match(r)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        del engine2
        row = f"{len(commitments):>12} {build:>8.2f} {rate:>10.0f} {rules_rate:>10.0f}"
        print(f"{row} {matches:>8} {peak:>9.1f}")


if __name__ == "__main__":
    main()
