"""Write a config folder whose sources.yaml lists feed URLs, for benchmarks against local servers.

    python bench/perf_config.py --urls http://127.0.0.1:8765/urls.txt --out /tmp/tm-perf-config
    python bench/perf_config.py --urls urls.txt --out DIR --hosts-concurrency 16

The watchlist, alerts and notify files are the shipped ones (notify.yaml: console delivery), so the
benchmark matches and tracks against the real watchlist. Every host named by a URL gets the given
per-host limits (``hosts:`` in sources.yaml), since 1,000 feeds on one local host would otherwise be
polled at the shipped politeness of 2 at once and 1 s apart.
"""

from __future__ import annotations

import argparse
import shutil
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]


def read_urls(where: str) -> list[str]:
    if where.startswith(("http://", "https://")):
        with urllib.request.urlopen(where) as response:  # a local benchmark server only
            text = response.read().decode()
    else:
        text = Path(where).read_text()
    return [line.strip() for line in text.splitlines() if line.strip()]


def write_config(urls: list[str], out: Path, concurrency: int, min_interval: float, interval: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name in ("watchlist.yaml", "alerts.yaml", "notify.yaml"):
        shutil.copy(ROOT / "config" / name, out / name)
    hosts = sorted({urlsplit(u).hostname or "" for u in urls})
    lines = [
        "version: 1",
        f"defaults: {{interval: {interval}, min_interval: {interval}, max_interval: 6h}}",
        "hosts:",
        *(f'  "{h}": {{concurrency: {concurrency}, min_interval: {min_interval:g}}}' for h in hosts),
        "sources:",
        *(f"  - {{name: feed-{i:05d}, url: '{u}'}}" for i, u in enumerate(urls)),
    ]
    (out / "sources.yaml").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--urls", required=True, help="a URL or file listing feed URLs, one a line")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--hosts-concurrency", type=int, default=16)
    parser.add_argument("--hosts-min-interval", type=float, default=0.0)
    parser.add_argument("--interval", default="15m")
    args = parser.parse_args()
    urls = read_urls(args.urls)
    write_config(urls, args.out, args.hosts_concurrency, args.hosts_min_interval, args.interval)
    print(f"{args.out}: {len(urls)} sources")


if __name__ == "__main__":
    main()
