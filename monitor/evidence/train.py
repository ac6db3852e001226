"""Learn the second stage's weights from the labelled sets and write ``model.json``.

    pip install -e ".[train]"
    python -m monitor.evidence.train            # writes monitor/evidence/model.json
    python -m monitor.evidence.train --cv 5     # honest figures: each fold judged by a model not fitted on it

Why a script and not hand-set weights: the features are general (where the subject is named, which
kinds of cue occur, how the date sits against the commitment's dates), but how much each counts is an
empirical question the labelled reports answer better than we can. The fit is deterministic (lbfgs, no
sampling), so the same data and config give the same file.

Data: the real judgement set in ``../shared/judgement`` (two readers, adjudicated; ambiguous pairs left
out) and the project's own sets in ``tests/data/labelled*.jsonl``. The own sets were written to older
conventions and read more like the rules than like reporting, so they weigh less in both models; their
hard negatives (third countries, other deals) still teach relevance.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor.config import load_config
from monitor.evidence.engine import EvidenceEngine
from monitor.evidence.features import pair_features
from monitor.evidence.model import EvidenceModel, Linear
from monitor.evidence.types import Report, published_precision, read_published

ROOT = Path(__file__).resolve().parents[2]
JUDGEMENT = ROOT.parent / "shared" / "judgement"
OWN_SETS = ("labelled.jsonl", "labelled_blind.jsonl", "labelled_fresh.jsonl")
OWN_WEIGHT = 0.3
RELEVANCE_C, SIGNAL_C = 0.3, 0.1
RELEVANCE_MIN, OVERRIDE_MIN, CRITICAL_MIN, DELAYED_MIN = 0.4, 0.6, 0.65, 0.5


@dataclass
class Row:
    report: str  # the report's id: folds never split one report
    commitment: str
    features: dict[str, float]
    may_change: bool
    relevant: bool
    signal: str | None
    weight: float
    real: bool  # from the real judgement set


def _report(doc: dict[str, Any]) -> Report | None:
    try:
        published = read_published(doc.get("published"))
    except ValueError:
        return None
    return Report(
        id=str(doc["id"]),
        title=str(doc.get("title") or ""),
        summary=str(doc.get("summary") or ""),
        published=published,
        link=str(doc.get("link") or ""),
        source=str(doc.get("source") or ""),
        precision=published_precision(doc.get("published")),
    )


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        yield from (json.loads(line) for line in f if line.strip())


def _rows(engine: EvidenceEngine, doc: dict[str, Any], labels: dict[str, str], skip: set[str]) -> list[Row]:
    report = _report(doc)
    if report is None:
        return []
    real = "labels" not in doc
    return [
        Row(
            report.id,
            ctx.rule.commitment,
            pair_features(ctx),
            not ctx.no_change,
            ctx.rule.commitment in labels,
            labels.get(ctx.rule.commitment),
            1.0 if real else OWN_WEIGHT,
            real,
        )
        for ctx in engine.pair_contexts(report)
        if ctx.rule.commitment not in skip
    ]


def load_rows(engine: EvidenceEngine) -> list[Row]:
    """Every candidate pair of every labelled report, with its label (or none: not about it)."""
    rows: list[Row] = []
    if (JUDGEMENT / "labels.jsonl").exists():
        gold = {d["id"]: d["labels"] for d in _jsonl(JUDGEMENT / "labels.jsonl")}
        for doc in _jsonl(JUDGEMENT / "reports.jsonl"):
            labs = gold.get(doc["id"], [])
            signals = {lab["commitment"]: lab["signal"] for lab in labs if not lab.get("ambiguous")}
            ambiguous = {lab["commitment"] for lab in labs if lab.get("ambiguous")}
            rows.extend(_rows(engine, doc, signals, ambiguous))
    for name in OWN_SETS:
        path = ROOT / "tests" / "data" / name
        if path.exists():
            for doc in _jsonl(path):
                rows.extend(_rows(engine, doc, dict(doc.get("labels") or {}), set()))
    return rows


def _standardiser(rows: list[Row], names: list[str]) -> tuple[list[float], list[float]]:
    n = len(rows)
    mean = [sum(r.features[k] for r in rows) / n for k in names]
    var = [sum((r.features[k] - m) ** 2 for r in rows) / n for k, m in zip(names, mean, strict=True)]
    return mean, [v**0.5 if v > 1e-12 else 1.0 for v in var]


def _fit(rows: list[Row], names: list[str], target: str, c: float) -> Linear:
    from sklearn.linear_model import LogisticRegression

    mean, scale = _standardiser(rows, names)
    x = [[(r.features[k] - m) / s for k, m, s in zip(names, mean, scale, strict=True)] for r in rows]
    y = [int(r.relevant) if target == "relevance" else str(r.signal) for r in rows]
    fitted = LogisticRegression(C=c, max_iter=5000).fit(x, y, sample_weight=[r.weight for r in rows])
    classes = [str(k) for k in fitted.classes_]
    return Linear(
        names=tuple(names),
        mean=tuple(mean),
        scale=tuple(scale),
        classes=tuple(classes) if target == "signal" else ("relevant",),
        weights=tuple(tuple(float(w) for w in row) for row in fitted.coef_),
        intercepts=tuple(float(b) for b in fitted.intercept_),
    )


def train(rows: list[Row]) -> EvidenceModel:
    """Relevance from every candidate pair, signal from every relevant one, the own sets weighted less."""
    names = sorted(rows[0].features)
    # The kind of commitment is a prior over how often a kind is reported on, not evidence that this
    # report is about it: relevance does without it (it stays in the signal model, where it changes
    # what a cue means).
    relevance_names = [n for n in names if not n.startswith("mode_")]
    signal_rows = [r for r in rows if r.relevant and r.signal]
    return EvidenceModel(
        relevance=_fit(rows, relevance_names, "relevance", RELEVANCE_C),
        signal=_fit(signal_rows, names, "signal", SIGNAL_C),
        relevance_min=RELEVANCE_MIN,
        critical_min=CRITICAL_MIN,
        delayed_min=DELAYED_MIN,
        override_min=OVERRIDE_MIN,
    )


def _linear_json(model: Linear) -> dict[str, Any]:
    return {
        "names": list(model.names),
        "mean": [round(v, 6) for v in model.mean],
        "scale": [round(v, 6) for v in model.scale],
        "classes": list(model.classes),
        "weights": [[round(w, 6) for w in row] for row in model.weights],
        "intercepts": [round(b, 6) for b in model.intercepts],
    }


def to_json(model: EvidenceModel) -> str:
    data = {
        "relevance": _linear_json(model.relevance),
        "signal": _linear_json(model.signal),
        "relevance_min": model.relevance_min,
        "critical_min": model.critical_min,
        "delayed_min": model.delayed_min,
        "override_min": model.override_min,
    }
    return json.dumps(data, indent=1) + "\n"


def cross_validate(rows: list[Row], folds: int) -> str:
    """Score out-of-fold predictions on the real set with its own scorer: the figure to report."""
    ids = sorted({r.report for r in rows if r.real}, key=lambda i: (len(i), i))
    fold_of = {rid: n % folds for n, rid in enumerate(ids)}
    predicted: dict[str, list[dict[str, str]]] = {rid: [] for rid in ids}
    for k in range(folds):
        model = train([r for r in rows if not (r.real and fold_of[r.report] == k)])
        for r in rows:
            if r.real and fold_of[r.report] == k:
                verdict = model.judge(r.features, r.may_change)
                if verdict.relevant:
                    predicted[r.report].append({"commitment": r.commitment, "signal": verdict.signal})
    with tempfile.TemporaryDirectory() as tmp:
        preds = Path(tmp) / "predictions.jsonl"
        with preds.open("w", encoding="utf-8") as out:
            for doc in _jsonl(JUDGEMENT / "reports.jsonl"):
                out.write(json.dumps({"id": doc["id"], "matches": predicted.get(doc["id"], [])}) + "\n")
        score = [
            sys.executable,
            str(JUDGEMENT / "score.py"),
            str(preds),
            "--items",
            str(JUDGEMENT / "reports.jsonl"),
        ]
        return subprocess.run(score, capture_output=True, text=True, check=True).stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m monitor.evidence.train", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--config-dir", type=Path, default=ROOT / "config")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("model.json"))
    parser.add_argument(
        "--cv", type=int, default=0, help="print K-fold figures on the real set; write nothing"
    )
    args = parser.parse_args(argv)
    config = load_config(args.config_dir)
    engine = EvidenceEngine.for_watchlist(config.watchlist, model=None)
    rows = load_rows(engine)
    if args.cv:
        if not (JUDGEMENT / "score.py").exists():
            parser.error(f"--cv needs the judgement set at {JUDGEMENT}")
        sys.stdout.write(cross_validate(rows, args.cv))
        return 0
    args.out.write_text(to_json(train(rows)), encoding="utf-8")
    print(f"wrote {args.out}: {len(rows)} pairs, {sum(r.real for r in rows)} from the real set")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
