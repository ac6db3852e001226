"""How long loading and checking a large config takes: `check-config` on N generated commitments.

Run: python bench/config_scale.py [N ...]   (default 1,000 and 10,000). Prints seconds per run; the
generated directory lives in a temporary folder and copies the shipped sources, notify and alerts files.
"""

from __future__ import annotations

import io
import shutil
import sys
import tempfile
import time
from contextlib import redirect_stdout
from pathlib import Path

from monitor.cli import main as cli_main

SHIPPED = Path(__file__).resolve().parent.parent / "config"


def write_watchlist(folder: Path, count: int) -> None:
    lines = ["version: 1", "commitments:"]
    for i in range(count):
        lines += [
            f"  - id: c-{i:05d}",
            f"    title: Commitment number {i} on widget tariffs",
            "    party: US",
            "    category: tariff",
            "    announced: 2025-11-01",
            f"    due: 2026-{1 + i % 12:02d}-{1 + i % 28:02d}",
            "    terms:",
            f"      aliases: [widget {i} tariff]",
        ]
    (folder / "watchlist.yaml").write_text("\n".join(lines) + "\n")


def time_check_config(count: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name in ("sources.yaml", "notify.yaml", "alerts.yaml"):
            shutil.copy(SHIPPED / name, folder / name)
        write_watchlist(folder, count)
        start = time.perf_counter()
        with redirect_stdout(io.StringIO()):
            code = cli_main(["check-config", "--config-dir", str(folder)])
        elapsed = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f"check-config failed on {count} commitments (exit {code})")
    return elapsed


def main(argv: list[str]) -> None:
    for count in [int(a) for a in argv] or [1_000, 10_000]:
        print(f"check-config, {count:>6} commitments: {time_check_config(count):6.2f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
