"""`explain` output and the evaluation harness over labelled report files."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from monitor.config import SIGNALS, Signal
from monitor.evidence.engine import (
    EvidenceEngine,
)
from monitor.evidence.types import (
    Explanation,
    Report,
    published_precision,
    read_published,
)

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
            precision=published_precision(row.get("published")),
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
