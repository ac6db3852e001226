"""Backfill: give each commitment its past from news searches, as if the daemon had watched since then.

A daemon started today reads only today's news, so without this every promise made months ago would
look untouched. `Backfill` walks date windows from each commitment's announcement to now, asks every
configured search (`search:` in sources.yaml) for the commitment's query in each window, and feeds what
it finds through the same ingest path as `replay`, one window at a time in date order, so the status path
is the one a watching daemon would have built, dated by the reports themselves.

Each window is one transaction: its entries, evidence, status changes and the window's outcome are
committed together, so an interrupted backfill resumes at the first window not done, with nothing
stored twice. The alerts those changes would have sent one by one are marked skipped; one summary
alert tells the user what the backfill found. A window whose search failed or came back empty is
recorded as such and leaves its period uncovered: silence from a search is not evidence.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from monitor.config import Commitment, SearchSource
from monitor.errors import NotAFeedError
from monitor.fetch import Fetcher, FetchState
from monitor.parse import FeedEntry, ParsedFeed, parse_feed
from monitor.pipeline import Monitor, changes_as_json
from monitor.store import (
    AlertRow,
    BackfillWindowRow,
    StatusChangeRow,
    Store,
    as_utc,
    backfill_windows,
    has_entries,
    mark_window,
    plan_windows,
    stored_links,
    utcnow,
)

log = logging.getLogger("monitor.backfill")
Progress = Callable[[int, int, str], None]  # (windows done, windows in all, what was just done)
ChangeSink = Callable[[dict[str, object]], None]


@dataclass
class BackfillSummary:
    windows: int = 0
    done: int = 0
    empty: int = 0
    failed: int = 0
    todo: int = 0
    entries: int = 0
    changes: list[int] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"{self.done + self.empty + self.failed}/{self.windows} windows searched "
            f"({self.done} with reports, {self.empty} empty, {self.failed} failed), "
            f"{self.entries} reports, {len(self.changes)} status changes"
        )


def progress_of(store: Store) -> BackfillSummary | None:
    """What the recorded windows say (for `status`); None when no backfill was ever planned."""
    rows = backfill_windows(store)
    if not rows:
        return None
    summary = BackfillSummary(windows=len(rows))
    for r in rows:
        setattr(summary, r.state, getattr(summary, r.state) + 1)
        summary.entries += r.entries
        summary.changes += json.loads(r.change_ids or "[]")
    summary.changes = sorted(set(summary.changes))
    return summary


def wanted_on_first_run(monitor: Monitor, store: Store) -> bool:
    """Backfill when the database has never read anything, or a backfill was interrupted."""
    settings = monitor.config.sources
    if not (settings.search and settings.backfill.on_first_run):
        return False
    summary = progress_of(store)
    return (summary is None and not has_entries(store)) or (summary is not None and summary.todo > 0)


def windows_for(
    commitments: Sequence[Commitment], since: dt.date | None, until: dt.date, days: int
) -> list[tuple[str, dt.date, dt.date]]:
    """(commitment, after, before) windows on one grid from the earliest start, so windows of different
    commitments line up and can be read together in date order."""
    starts = {c.id: max(c.announced, since or c.announced) for c in commitments}
    if not starts:
        return []
    out = []
    after = min(starts.values())
    while after <= until:
        before = min(after + dt.timedelta(days=days), until + dt.timedelta(days=1))
        out += [(cid, after, before) for cid, start in starts.items() if before > start]
        after = before
    return out


class Backfill:
    """One backfill over a monitor (its config, store and pipeline) with a fetcher (its host limits)."""

    def __init__(
        self,
        monitor: Monitor,
        fetcher: Fetcher,
        *,
        on_change: ChangeSink | None = None,
        progress: Progress | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
        retries: int = 2,
    ) -> None:
        self.monitor = monitor
        self.store = monitor.store
        self.fetcher = fetcher
        self.on_change = on_change
        self.progress = progress
        self.clock = clock
        self.retries = retries

    def plan(self, since: dt.date | None, until: dt.date | None, only: Sequence[str] = ()) -> int:
        config = self.monitor.config
        commitments = [c for c in config.commitments if not only or c.id in only]
        days = max(1, round(config.sources.backfill.window / 86400))
        grid = windows_for(commitments, since, until or self.clock().date(), days)
        return plan_windows(
            self.store, [(s.name, cid, a, b) for s in config.sources.search for cid, a, b in grid]
        )

    async def run(
        self, since: dt.date | None = None, until: dt.date | None = None, only: Sequence[str] = ()
    ) -> BackfillSummary:
        """Plan the windows (again: planning is idempotent), then read every window not done yet."""
        await asyncio.to_thread(self.plan, since, until, only)
        searches = {s.name: s for s in self.monitor.config.sources.search}
        rows = [
            r
            for r in await asyncio.to_thread(backfill_windows, self.store)
            if r.state in ("todo", "failed")
            and r.search in searches
            and (not only or r.commitment_id in only)
            and (since is None or r.before > since)
            and (until is None or r.after <= until)
        ]
        steps: dict[dt.date, list[BackfillWindowRow]] = {}
        for r in rows:
            steps.setdefault(r.after, []).append(r)
        total, finished = len(rows), 0
        for after in sorted(steps):
            await self._step(steps[after], searches)
            finished += len(steps[after])
            if self.progress:
                self.progress(finished, total, f"reports up to {after}")
        summary = await asyncio.to_thread(self._summarise)
        return summary

    async def _step(self, rows: list[BackfillWindowRow], searches: dict[str, SearchSource]) -> None:
        """Search every commitment's window of one date step, then ingest it all in publication order."""
        results = await asyncio.gather(*(self._search(r, searches[r.search]) for r in rows))
        changes = await asyncio.to_thread(self._ingest, list(zip(rows, results, strict=True)), searches)
        for change in changes_as_json(self.store, changes):
            if self.on_change:
                self.on_change(change)

    async def _search(self, row: BackfillWindowRow, search: SearchSource) -> list[FeedEntry] | str:
        """The window's entries, or why the search failed (after a few polite retries)."""
        commitment = self.monitor.config.commitment(row.commitment_id)
        url = search.url_for(commitment.query(), row.after, row.before)
        error = ""
        for attempt in range(self.retries + 1):
            result = await self.fetcher.fetch(FetchState(url, None, None, None, attempt))
            if result.ok and result.body is not None:
                try:
                    feed = await asyncio.to_thread(parse_feed, result.body, result.headers, result.url)
                except NotAFeedError as exc:
                    return f"not a feed: {exc}"
                return feed.entries
            error = f"{result.error_kind}: {result.error_message}"
            if result.status is not None and 400 <= result.status < 500 and result.status != 429:
                break
            await asyncio.sleep(min(result.retry_after or 2.0 * (attempt + 1), 60.0))
        return error or "no answer"

    def _ingest(
        self,
        outcomes: list[tuple[BackfillWindowRow, list[FeedEntry] | str]],
        searches: dict[str, SearchSource],
    ) -> list[StatusChangeRow]:
        """One transaction for a date step: entries, evidence, changes, the calendar, the windows' outcome."""
        monitor = self.monitor
        now = self.clock()
        end = min(max(r.before for r, _ in outcomes), now.date())
        at = min(dt.datetime.combine(end, dt.time(), tzinfo=dt.UTC), now)
        sources = {n: self.store.ensure_source(f"search: {n}", s.url) for n, s in searches.items()}
        by_search: dict[str, list[FeedEntry]] = {}
        for row, found in outcomes:
            if not isinstance(found, str):
                by_search.setdefault(row.search, []).extend(found)
        changes: list[StatusChangeRow] = []
        alert_ids: list[int] = []
        with self.store.session() as session:
            for name, entries in by_search.items():
                known = stored_links(session, [e.link for e in entries if e.link])
                fresh = [e for e in entries if not e.link or e.link not in known]
                fresh.sort(key=lambda e: as_utc(e.published) or at)
                feed = ParsedFeed(name, searches[name].url, fresh)
                outcome = monitor.ingest_in(session, sources[name], feed, at)
                changes += outcome.changes
                alert_ids += outcome.alert_ids
            # The calendar check a daemon would have made that day; it only counts the windows already
            # done, so the step's own windows are marked first.
            ids: list[int] = []
            self._mark(session, outcomes, now, ids)
            events = monitor.tracker.check_deadlines(session, at)
            changes += [e.change for e in events if e.change is not None]
            alert_ids += [a.id for a in monitor.alerter.enqueue(session, events, at) if a.id is not None]
            for alert in session.exec(select(AlertRow).where(col(AlertRow.id).in_(alert_ids))).all():
                alert.state = "skipped"  # old news: summed up in one alert at the end, not sent one by one
                session.add(alert)
            ids = [c.id for c in changes if c.id is not None]
            self._mark(session, outcomes, now, ids)
        return changes

    @staticmethod
    def _mark(
        session: Session,
        outcomes: list[tuple[BackfillWindowRow, list[FeedEntry] | str]],
        now: dt.datetime,
        change_ids: list[int],
    ) -> None:
        for index, (row, found) in enumerate(outcomes):
            mine = change_ids if index == 0 else []  # a step's changes are counted once
            if isinstance(found, str):
                mark_window(session, row.id or 0, "failed", 0, found[:500], now, mine)
            else:
                mark_window(session, row.id or 0, "done" if found else "empty", len(found), None, now, mine)

    def _summarise(self) -> BackfillSummary:
        """One alert for everything the backfill changed (idempotent: same changes, same alert)."""
        summary = progress_of(self.store) or BackfillSummary()
        if summary.todo or not summary.changes:
            return summary
        with self.store.session() as session:
            rows = session.exec(
                select(StatusChangeRow)
                .where(col(StatusChangeRow.id).in_(summary.changes))
                .order_by(col(StatusChangeRow.at))
            ).all()
            final: dict[str, str] = {}
            for c in rows:
                final[c.commitment_id] = c.to_status
            lines = [f"{cid}: {status}" for cid, status in sorted(final.items())]
            digest = hashlib.sha256(json.dumps(sorted(summary.changes)).encode()).hexdigest()[:16]
            self.monitor.alerter.enqueue_ops(
                session,
                f"backfill:{digest}",
                f"Backfill: {len(rows)} status changes from past reports",
                f"Read {summary.entries} past reports ({summary.line()}). Statuses now: "
                + "; ".join(lines)
                + ". `trade-monitor history ID` shows each path.",
                self.clock(),
                severity="notice",
            )
        return summary
