"""The learned second stage: weights for the named features of `features`, read from a small JSON file.

Hand-ordered rules kept fighting each other on real reports (a headline that names the subject but no
sentence that holds every required word; a cue of fulfilment in a report that only recaps the deal).
Two logistic regressions weigh the same general features instead: one says whether the report is about
the commitment, one which signal it carries. The weights are learned by ``python -m
monitor.evidence.train`` from the labelled sets and stored in ``model.json`` beside this file, so the
daemon needs no learning library and the same file always gives the same answers.

A status-changing signal (fulfilled, delayed, broken, extended) is what users act on, so the model only
gives one when its probability clears ``critical_min`` (``delayed_min`` for a delay, which users miss at
a cost); otherwise the best of mention and progress wins.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from monitor.config import Signal
from monitor.evidence.features import PairContext, alias_sentences, pair_features
from monitor.evidence.types import Match

if TYPE_CHECKING:
    from monitor.evidence.engine import _Compiled, _Doc

MODEL_PATH = Path(__file__).with_name("model.json")
CRITICAL: frozenset[str] = frozenset({"fulfilled", "delayed", "broken", "extended"})


@dataclass(frozen=True)
class Linear:
    """One linear scorer: standardised features times weights, per class."""

    names: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    classes: tuple[str, ...]
    weights: tuple[tuple[float, ...], ...]  # one row per class (a single row for a binary scorer)
    intercepts: tuple[float, ...]
    # The standardisation folded into the weights, so that a score costs one multiplication per feature
    # that is not zero (most are zero for any one pair): the daemon scores every candidate.
    _folded: tuple[dict[str, float], ...] = field(init=False, repr=False, compare=False)
    _offsets: tuple[float, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        folded = tuple(
            {n: w / s for n, w, s in zip(self.names, row, self.scale, strict=True) if w}
            for row in self.weights
        )
        offsets = tuple(
            b - sum(w * m / s for w, m, s in zip(row, self.mean, self.scale, strict=True))
            for row, b in zip(self.weights, self.intercepts, strict=True)
        )
        object.__setattr__(self, "_folded", folded)
        object.__setattr__(self, "_offsets", offsets)

    def _standard(self, features: dict[str, float]) -> list[float]:
        return [
            (features.get(n, 0.0) - m) / s for n, m, s in zip(self.names, self.mean, self.scale, strict=True)
        ]

    def scores(self, features: dict[str, float]) -> list[float]:
        present = [(n, v) for n, v in features.items() if v]
        return [
            offset + sum(row[n] * v for n, v in present if n in row)
            for row, offset in zip(self._folded, self._offsets, strict=True)
        ]

    def contributions(self, features: dict[str, float], row: int, top: int = 5) -> list[tuple[str, float]]:
        """The features that pushed one class's score most, either way: what `explain` shows."""
        x = self._standard(features)
        parts = [(n, w * v) for n, w, v in zip(self.names, self.weights[row], x, strict=True)]
        parts.sort(key=lambda p: -abs(p[1]))
        return [(n, round(v, 2)) for n, v in parts[:top] if abs(v) >= 0.01]

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Linear:
        def floats(key: str) -> tuple[float, ...]:
            return tuple(float(v) for v in data[key])  # type: ignore[attr-defined]

        return cls(
            names=tuple(str(n) for n in data["names"]),  # type: ignore[attr-defined]
            mean=floats("mean"),
            scale=floats("scale"),
            classes=tuple(str(c) for c in data["classes"]),  # type: ignore[attr-defined]
            weights=tuple(tuple(float(v) for v in row) for row in data["weights"]),  # type: ignore[attr-defined]
            intercepts=floats("intercepts"),
        )


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


def _softmax(scores: list[float]) -> list[float]:
    top = max(scores)
    exps = [math.exp(s - top) for s in scores]
    total = sum(exps)
    return [e / total for e in exps]


@dataclass(frozen=True)
class Verdict:
    """The model's answer for one pair, with the features behind it (for `explain`)."""

    relevance: float
    relevant: bool
    needed: float
    signal: Signal
    probability: float
    why_relevant: list[tuple[str, float]]
    why_signal: list[tuple[str, float]]


@dataclass(frozen=True)
class EvidenceModel:
    """Relevance and signal scorers with the two cut-offs they were tuned with."""

    relevance: Linear
    signal: Linear
    relevance_min: float
    critical_min: float
    # A missed "delayed" costs users as much as a wrong "fulfilled" (a deadline slipping unseen), so a
    # delay needs a lower probability than the other status-changing signals.
    delayed_min: float
    # Overruling the rules (a pair they did not match) needs a surer model than agreeing with them.
    override_min: float

    def judge(self, features: dict[str, float], may_change: bool = True, explain: bool = False) -> Verdict:
        """Relevance and signal for one pair; ``explain`` adds the features behind them (it costs a
        pass over every feature, so the daemon's path goes without)."""
        p_rel = _sigmoid(self.relevance.scores(features)[0])
        needed = self.relevance_min if features.get("rule_match") else self.override_min
        probs = dict(zip(self.signal.classes, _softmax(self.signal.scores(features)), strict=True))
        signal = max(probs, key=lambda s: probs[s])
        floor = self.delayed_min if signal == "delayed" else self.critical_min
        if signal in CRITICAL and (probs[signal] < floor or not may_change):
            signal = max((s for s in probs if s not in CRITICAL), key=lambda s: probs[s])
        row = self.signal.classes.index(signal)
        return Verdict(
            relevance=p_rel,
            relevant=p_rel >= needed,
            needed=needed,
            signal=signal,  # type: ignore[arg-type]
            probability=probs[signal],
            why_relevant=self.relevance.contributions(features, 0) if explain else [],
            why_signal=self.signal.contributions(features, row) if explain else [],
        )

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> EvidenceModel:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            relevance=Linear.from_json(data["relevance"]),
            signal=Linear.from_json(data["signal"]),
            relevance_min=float(data["relevance_min"]),
            critical_min=float(data["critical_min"]),
            delayed_min=float(data["delayed_min"]),
            override_min=float(data["override_min"]),
        )


def shipped_model() -> EvidenceModel | None:
    """The model file that ships with the package, or None when it is absent (rules alone then)."""
    return EvidenceModel.load() if MODEL_PATH.exists() else None


# --- the second stage over the rule engine's explanations ------------------------------------------------


def _evidence_sentence(doc: _Doc, cc: _Compiled) -> str:
    """The sentence to quote when the rules found none: the first that names the subject, the lead
    before the headline (it says more)."""
    named = alias_sentences(doc, cc)
    body = [i for i in named if not (i == 0 and doc.title_end > 0)]
    return doc.sentence((body or named or [0])[0])


def _format(parts: list[tuple[str, float]]) -> str:
    return " (" + ", ".join(f"{n} {v:+.2f}" for n, v in parts) + ")" if parts else ""


def _decide(verdict: Verdict, rule: Match | None, cc: _Compiled, doc: _Doc) -> Match:
    """The model's signal. When the rules read the same signal, their whole match stays (cue, evidence,
    quantity, date: what the tracker and the alert quote); when not, their evidence sentence, quantity
    and date stay (facts of the text) but not their cue, which argued for another signal."""
    if rule is not None and rule.signal == verdict.signal:
        return replace(rule, confidence=round(max(verdict.probability, 0.5), 3))
    quantity = rule.quantity if rule is not None else None
    new_date = rule.new_date if rule is not None else None  # a date the text gives, whatever the signal
    evidence = rule.evidence if rule is not None else _evidence_sentence(doc, cc)
    return Match(
        cc.commitment.id,
        verdict.signal,
        round(verdict.probability, 3),
        evidence,
        "",
        "",
        quantity,
        new_date,
    )


def apply_model(model: EvidenceModel, contexts: Sequence[PairContext], explain: bool = False) -> None:
    """Let the model decide every pair the rules looked at, in place; the rule reasons stay, followed
    by the model's, so `explain` shows both stages (with the features that weighed most)."""
    for ctx in contexts:
        exp = ctx.rule
        features = pair_features(ctx)
        verdict = model.judge(features, may_change=not ctx.no_change, explain=explain)
        exp.reasons.append(
            f"model: about it {verdict.relevance:.2f}, needs {verdict.needed:.2f}"
            + _format(verdict.why_relevant)
        )
        if not verdict.relevant:
            exp.matched, exp.match = False, None
            continue
        match = _decide(verdict, exp.match, ctx.compiled, ctx.doc)
        exp.reasons.append(f"model: {verdict.signal} {verdict.probability:.2f}{_format(verdict.why_signal)}")
        exp.matched = True
        exp.match = replace(match, explanation="; ".join(exp.reasons))
