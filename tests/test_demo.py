"""`trade-monitor demo` is a newcomer's first contact: it must run offline and tell the story right."""

from __future__ import annotations

import io
from pathlib import Path

from monitor.demo import run_demo


def test_demo_runs_the_scenario_through_the_real_pipeline(config_dir: Path) -> None:
    out = io.StringIO()
    assert run_demo(config_dir, out) == 0
    text = out.getvalue()
    assert "us-fentanyl-tariff-cut: in_progress -> fulfilled (evidence)" in text
    assert "trump-beijing-visit: in_progress -> fulfilled (evidence)" in text
    assert "cn-soybean-purchases-2025: in_progress -> fulfilled (evidence)" in text
    # the hard negative (an EU-China truce) and the speculation ("could slip") move nothing
    assert "us-reciprocal-tariff-truce" not in text
    speculation = text.split("could slip, aides say")[1].split("\n\n")[0]
    assert "->" not in speculation
    sent = [line for line in text.splitlines() if line.strip().startswith("alert sent:")]
    assert sent and any("Fulfilled: Trump visits Beijing" in line for line in sent)
    assert f"{len(sent)} alerts delivered" in text
