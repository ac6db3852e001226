"""Backfill: a local search server implements the URL template; the past builds each status from evidence."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from ruamel.yaml import YAML

from tests.feedserver import FeedServer, Request, Route

CID = "us-fentanyl-tariff-cut"
# Invented reports: the cut is under way, then delayed, then in force; two publishers for each verdict.
REPORTS = [
    (
        "2025-11-03",
        "alpha.example.com",
        "US signs orders cutting fentanyl tariff on Chinese goods",
        "President Trump signed the executive orders cutting the fentanyl tariff on Chinese goods to 10%; "
        "the cut takes effect on 10 November, officials said.",
    ),
    (
        "2025-11-08",
        "alpha.example.com",
        "Fentanyl tariff cut on China delayed",
        "The cut to the fentanyl tariff on Chinese goods has been delayed until next year, officials said.",
    ),
    (
        "2025-11-09",
        "beta.example.org",
        "Cut to fentanyl tariff on Chinese goods is delayed",
        "The cut to the fentanyl tariff on Chinese goods has been delayed, trade officials said on Sunday.",
    ),
    (
        "2025-11-20",
        "alpha.example.com",
        "US fentanyl tariff on China cut to 10% takes effect",
        "The lower fentanyl tariff of 10% on Chinese goods took effect on Monday, customs officials "
        "confirmed.",
    ),
    (
        "2025-11-21",
        "beta.example.org",
        "Lower fentanyl tariff on Chinese goods now in force",
        "The lower fentanyl tariff of 10% on Chinese goods took effect this week, customs officials "
        "confirmed.",
    ),
    ("2025-11-21", "gamma.example.net", "Soybean harvest report", "Farmers in Iowa finished the harvest."),
]


def search_feed(request: Request) -> Route:
    """Google-News-like: items published in [after, before) whose text has one of the query's words."""
    q = parse_qs(urlsplit(request.path).query).get("q", [""])[0]
    after = re.search(r"after:(\d{4}-\d{2}-\d{2})", q)
    before = re.search(r"before:(\d{4}-\d{2}-\d{2})", q)
    if not after or not before:
        return Route(status=400, body=b"bad query")
    words = (
        re.sub(r"(after|before):\S+", " ", q).replace('"', " ").replace("(", " ").replace(")", " ").lower()
    )
    wanted = {w for w in words.split() if w not in ("or", "and") and len(w) > 3}
    items = []
    for n, (day, host, title, summary) in enumerate(REPORTS):
        if not after.group(1) <= day < before.group(1):
            continue
        if not wanted & set(re.findall(r"[a-z0-9-]+", f"{title} {summary}".lower())):
            continue
        when = format_datetime(dt.datetime.fromisoformat(day).replace(hour=9, tzinfo=dt.UTC))
        items.append(
            f"<item><title>{title}</title><link>https://{host}/news/{n}</link><guid>{host}-{n}</guid>"
            f"<description>{summary}</description><pubDate>{when}</pubDate></item>"
        )
    channel = f"<channel><title>search</title>{''.join(items)}</channel>"
    body = f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'
    return Route(body=body.encode(), headers={"Content-Type": "application/rss+xml"})


def searches(server: FeedServer) -> list[Request]:
    return [r for r in server.requests if r.path.startswith("/search")]


def backfill_config(
    config_dir: Path, server: FeedServer, *, on_first_run: bool = True, window: str = "7d"
) -> None:
    """One commitment, no regular feeds, the search on the local server."""
    yaml = YAML()
    path = config_dir / "watchlist.yaml"
    tree = yaml.load(path.read_text())
    tree["commitments"] = [c for c in tree["commitments"] if c["id"] == CID]
    with path.open("w") as f:
        yaml.dump(tree, f)
    url = server.url("/search") + "?q={query}+after:{after}+before:{before}&hl=en-US"
    (config_dir / "sources.yaml").write_text(
        "version: 1\nsources: []\n"
        f'search:\n  - name: Local search\n    url: "{url}"\n'
        f"backfill:\n  on_first_run: {str(on_first_run).lower()}\n  window: {window}\n"
        "  min_host_interval: 0.01\n"
    )


def cli(config_dir: Path, db: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor.cli", "--config-dir", str(config_dir), "--db", db, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def changes_of(db: str) -> list[tuple[str, str, str, str]]:
    from sqlmodel import col, select

    from monitor.store import StatusChangeRow, Store

    store = Store(db)
    with store.session() as s:
        rows = s.exec(select(StatusChangeRow).order_by(col(StatusChangeRow.id))).all()
    store.close()
    return [(r.from_status, r.to_status, r.kind, f"{r.at:%Y-%m-%d}") for r in rows]


EXPECTED = [
    ("pending", "in_progress", "evidence", "2025-11-03"),
    ("in_progress", "delayed", "evidence", "2025-11-08"),
    ("delayed", "fulfilled", "evidence", "2025-11-20"),
]


def test_backfill_builds_the_path_from_dated_evidence(config_dir: Path, tmp_path: Path) -> None:
    with FeedServer() as server:
        server.routes["/search"] = search_feed
        backfill_config(config_dir, server, on_first_run=False)
        db = f"sqlite:///{tmp_path / 'b.sqlite'}"
        result = cli(config_dir, db, "backfill", "--until", "2026-01-31")
        assert result.returncode == 0, result.stderr
        lines = [json.loads(line) for line in result.stdout.splitlines()]
        assert [(c["from"], c["to"]) for c in lines] == [(a, b) for a, b, _, _ in EXPECTED]
        assert set(lines[0]) == {"commitment", "from", "to", "at", "kind", "reason", "evidence"}  # as replay
        assert [c["at"][:10] for c in lines] == [c[3] for c in EXPECTED]  # the reports' own dates
        assert "windows searched" in result.stderr  # progress and the summary go to stderr, not stdout
        assert [c[:2] for c in changes_of(db)] == [c[:2] for c in EXPECTED]
        queries = [r.path for r in searches(server)]
        assert all("fentanyl" in q for q in queries) and len(queries) == 14  # 2025-10-30 .. 2026-01-31
        again = cli(config_dir, db, "backfill", "--until", "2026-01-31")
        assert again.returncode == 0 and again.stdout == ""
        assert len(searches(server)) == 14  # every window was done: nothing searched twice
        alerts = cli(config_dir, db, "alerts", "--limit", "100").stdout
        assert alerts.count("Backfill:") == 1 and alerts.count("pending") == 1  # one summary, nothing else
        assert "skipped" in alerts


def test_failed_search_windows_are_recorded_and_retried(config_dir: Path, tmp_path: Path) -> None:
    calls = {"n": 0}

    def flaky(request: Request) -> Route:
        calls["n"] += 1
        if "after:2025-11-13" in request.path:
            return Route(status=503, body=b"down")
        return search_feed(request)

    with FeedServer() as server:
        server.routes["/search"] = flaky
        backfill_config(config_dir, server, on_first_run=False)
        db = f"sqlite:///{tmp_path / 'f.sqlite'}"
        result = cli(config_dir, db, "backfill", "--until", "2025-12-31")
        assert result.returncode == 1 and "1 failed" in result.stderr, result.stderr
        status = cli(config_dir, db, "status").stdout
        assert "backfill:" in status and "1 failed" in status
        server.routes["/search"] = search_feed
        result = cli(config_dir, db, "backfill", "--until", "2025-12-31")
        assert result.returncode == 0 and "0 failed" in result.stderr, result.stderr
        assert [c[:2] for c in changes_of(db)] == [c[:2] for c in EXPECTED]


def _wait(predicate: Callable[[], object], timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_first_run_backfills_in_the_background_and_a_killed_backfill_resumes(
    config_dir: Path, tmp_path: Path
) -> None:
    """The first `run` on an empty database backfills; killed halfway, the next run resumes and ends
    with the same statuses, no duplicate entries and one summary alert."""
    from sqlmodel import select

    from monitor.store import AlertRow, EntryRow, Store

    stall = threading.Event()

    def stalling(request: Request) -> Route:
        if "after:2025-11-13" in request.path and not stall.is_set():
            return Route(delay=60, body=b"")  # the first daemon is killed while waiting here
        return search_feed(request)

    with FeedServer() as server:
        server.routes["/search"] = stalling
        backfill_config(config_dir, server, window="7d")
        db = f"sqlite:///{tmp_path / 'r.sqlite'}"
        env = {**os.environ, "TRADE_MONITOR_DB": db}
        cmd = [sys.executable, "-m", "monitor.cli", "run", "--config-dir", str(config_dir), "--tick", "1"]
        first = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            assert _wait(lambda: any("after:2025-11-13" in r.path for r in searches(server)))
            status = cli(config_dir, db, "status").stdout
            assert "running or interrupted" in status and "delayed" in status, status
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(30)
        assert [c[:2] for c in changes_of(db)] == [c[:2] for c in EXPECTED[:2]]
        stall.set()
        second = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            assert _wait(lambda: "finished" in cli(config_dir, db, "status").stdout, timeout=120)
        finally:
            second.send_signal(signal.SIGTERM)
            _, err = second.communicate(timeout=30)
        assert "backfill finished" in err, err
    assert [c[:2] for c in changes_of(db)] == [c[:2] for c in EXPECTED]
    assert all(kind == "evidence" for _, _, kind, _ in changes_of(db))  # no calendar guesses
    status = cli(config_dir, db, "status").stdout
    assert re.search(rf"{CID}\s+fulfilled\s+2025-11-20", status), status
    store = Store(db)
    with store.session() as s:
        entries = s.exec(select(EntryRow)).all()
        alerts = s.exec(select(AlertRow)).all()
    store.close()
    assert len(entries) == len({e.link for e in entries}) == 5  # the soybean report never matched the query
    sent = sorted(a.key.split(":")[0] for a in alerts if a.state not in ("skipped", "folded"))
    # one summary of the backfilled changes, not one alert each; and the first start's one notice that
    # the due date passed before watching began, unverified (it made no change)
    assert sent == ["backfill", "unwitnessed"], [(a.key, a.subject) for a in alerts]
    notice = next(a for a in alerts if a.key.startswith("unwitnessed:"))
    assert "overdue, unverified" in notice.body_text
