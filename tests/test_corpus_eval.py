"""The evidence engine measured on REAL reports: the third-party corpus in ../shared/corpus.

`tests/data/corpus_labels.jsonl` holds only where each item lives (file relative to the corpus root and a
key) and our labels, never the publishers' text; the text is read from the corpus at test time, so the
test skips on a fresh clone where the corpus is absent.

How the items were labelled (before the engine was run on them), so that the figures mean something:
- A pair (item, commitment) is relevant when the item states something about that commitment's own
  measure (its terms, an agreement on it, a step, its status), even inside a list of deal topics. A deal
  or "truce" named without the measure is not; nor are other countries' versions of the measure.
- A report published before the commitment's `announced` day is never evidence (empty for it), so the
  summit coverage of 30-31 Oct counts only for the rare-earth and soybean commitments announced 30 Oct.
- Signals follow BRIEF section 2: a statement of the promise, a leader's claim on announcement day, an
  analysis or a plan is `mention`; an official step not yet in force is `progress`; in force is
  `fulfilled`. Soybean-deal talk in 2025 is evidence for the 2025 purchases; the 2026 commitment only
  when the multi-year pledge is stated.
- Full-text articles are judged on their whole body, as the daemon sees a feed that carries only content.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from monitor.config import SIGNALS, load_config
from monitor.evidence import EvalResult, EvidenceEngine, Report, score_reports
from tests.corpus_items import load_items

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "tests" / "data" / "corpus_labels.jsonl"

# A little under what the engine achieves on this set with the learned stage: precision 0.80, recall 0.84,
# F1 0.82, signal accuracy 0.97. The rules alone reached 0.95 / 0.82 / 0.88 here, partly by following
# conventions the judgement spec later overruled (the deal's own days as "before the deal"; eight of the
# relabelled reports are such). The rest is a known cost of document-level relevance: a syndicated story
# that names only "the trade truce" reads as the truce (eight near-identical copies), so precision fell.
# Earlier: 0.79 / 0.77 / 0.78 / 0.82 before the announcement-day, generic-truce and joint-subject rules;
# 0.65 / 0.38 / 0.48 / 0.82 before the first real-text rules.
MIN_PRECISION = 0.78
MIN_RECALL = 0.82
MIN_F1 = 0.80
MIN_SIGNAL_ACCURACY = 0.96


def _rows() -> list[dict[str, object]]:
    return [json.loads(line) for line in LABELS.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_label_file_is_keys_and_labels_only() -> None:
    """The project must never carry corpus text: only file, key, labels and our own short note."""
    commitments = {c.id for c in load_config(ROOT / "config").commitments}
    rows = _rows()
    assert len(rows) >= 200
    seen = set()
    for row in rows:
        assert set(row) == {"file", "key", "labels", "note"}, row
        assert (row["file"], row["key"]) not in seen, row
        seen.add((row["file"], row["key"]))
        labels = row["labels"]
        assert isinstance(labels, dict)
        assert set(labels) <= commitments, row
        assert set(labels.values()) <= set(SIGNALS), row
        assert len(str(row["note"])) <= 160, row
    assert sum(1 for r in rows if r["labels"]) >= 30
    assert sum(1 for r in rows if not r["labels"]) >= 100


def corpus_result(engine: EvidenceEngine, corpus: Path) -> tuple[EvalResult, list[str]]:
    """Score the engine on every labelled item; also list labelled keys the corpus no longer has."""
    items = load_items(corpus)
    pairs: list[tuple[Report, dict[str, str]]] = []
    missing = []
    for row in _rows():
        item = items.get((str(row["file"]), str(row["key"])))
        if item is None:
            missing.append(f"{row['file']}#{row['key']}")
            continue
        pairs.append((item.report(), dict(row["labels"])))  # type: ignore[call-overload]
    return score_reports(engine, pairs, label="corpus"), missing  # type: ignore[arg-type]


def test_engine_on_real_reports(corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = load_config(ROOT / "config")
    engine = EvidenceEngine(cfg.commitments, cfg.watchlist.category_defaults)
    res, missing = corpus_result(engine, corpus)
    assert not missing, f"labelled items not found in the corpus: {missing[:5]}"
    gold = Counter(s for row in _rows() for s in dict(row["labels"]).values())  # type: ignore[call-overload]
    with capsys.disabled():
        print(
            f"\nreal corpus: {res.reports} reports, {sum(gold.values())} labelled pairs {dict(gold)}\n"
            f"  relevance precision {res.precision:.3f} recall {res.recall:.3f} F1 {res.f1:.3f} "
            f"(tp {res.tp} fp {res.fp} fn {res.fn}); signal accuracy {res.signal_accuracy:.3f} "
            f"on {res.signal_total} pairs"
        )
    report = res.format(max_errors=60)
    assert res.precision >= MIN_PRECISION, report
    assert res.recall >= MIN_RECALL, report
    assert res.f1 >= MIN_F1, report
    assert res.signal_accuracy >= MIN_SIGNAL_ACCURACY, report
