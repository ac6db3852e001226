"""The pipeline: one fetched document in, entries, evidence, status changes and outbox alerts out.

`Monitor` wires the stages together (fetch -> parse -> store -> match -> track -> alert) and is what the
daemon, `poll --once`, `replay` and `demo` all drive, so they can never disagree about what a document
means. Each document is ingested in one transaction with the source's fetch state: a crash mid-run
leaves either everything or nothing of that poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from monitor.config import Config, Source
from monitor.delivery import Alerter
from monitor.errors import NotAFeedError
from monitor.evidence import EvidenceEngine, Match, Report
from monitor.fetch import Fetcher, FetchResult, FetchState, plan_next_poll
from monitor.observability import NULL_HOOKS, PipelineHooks
from monitor.parse import FeedEntry, ParsedFeed, canonical_url, parse_feed
from monitor.parse import error_kind as parse_error_kind
from monitor.store import (
    EntryRow,
    EvidenceRow,
    SourceRow,
    StatusChangeRow,
    Store,
    as_utc,
    insert_entries,
    utcnow,
)
from monitor.tracking import Tracker, TrackEvent, publisher_of

log = logging.getLogger("monitor.pipeline")

FAILURE_ALERT_AFTER = dt.timedelta(hours=6)


@dataclass(frozen=True)
class Judgement:
    """Everything derived from one config: swapped as a whole on reload."""

    config: Config
    engine: EvidenceEngine
    tracker: Tracker
    alerter: Alerter


@dataclass(frozen=True)
class StoredEntry:
    """The parts of a stored entry that matching and the evidence ledger read."""

    id: int
    title: str
    summary: str
    link: str
    published: dt.datetime | None
    publisher: str
    story_key: str
    is_new: bool
    canonical_link: str = ""

    @classmethod
    def of(cls, row: EntryRow, is_new: bool) -> StoredEntry:
        link = row.canonical_link or (canonical_url(row.link) if row.link else "")  # rows of older versions
        return cls(
            row.id or 0,
            row.title,
            row.summary,
            row.link,
            row.published,
            row.publisher,
            row.story_key,
            is_new,
            link,
        )

    @classmethod
    def of_values(cls, entry_id: int, values: dict[str, object]) -> StoredEntry:
        published = values["published"]
        return cls(
            entry_id,
            str(values["title"]),
            str(values["summary"]),
            str(values["link"]),
            published if isinstance(published, dt.datetime) else None,
            str(values["publisher"]),
            str(values["story_key"]),
            True,
            str(values["canonical_link"]),
        )


@dataclass
class IngestOutcome:
    """What one document did, for logs, metrics and `replay` output."""

    new_entries: int = 0
    updated_entries: int = 0
    evidence: int = 0
    changes: list[StatusChangeRow] = field(default_factory=list)
    events: list[TrackEvent] = field(default_factory=list)
    alerts: int = 0
    alert_ids: list[int] = field(default_factory=list)


class Monitor:
    """The stages of the pipeline over one config and one store."""

    # Metric and log hooks; the daemon installs its `Metrics`, everything else keeps the no-op default.
    hooks: PipelineHooks = NULL_HOOKS

    def __init__(self, config: Config, store: Store, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.store = store
        self.clock = clock
        self._pinned = threading.local()
        self._pins: dict[int, int] = {}  # id(judgement) -> transactions judging with it right now
        self._pins_changed = threading.Condition()
        self._by_name: tuple[Config, dict[str, Source]] | None = None
        self.apply_config(config)

    def apply_config(self, config: Config) -> list[str]:
        """Adopt a (re)loaded config; returns the ids of commitments that are new to the database.

        Everything derived from the config is built first and published with one assignment, so a poll
        running in another thread sees the old judgement or the new one, never half of each.
        """
        judgement = Judgement(
            config,
            EvidenceEngine.for_watchlist(config.watchlist),
            Tracker(config.commitments, config.watchlist.policy, config.alerts.reminder_days),
            Alerter(config),
        )
        self.store.sync_sources(config.sources.sources, config.sources.interval_for)
        announced = {
            c.id: dt.datetime.combine(c.announced, dt.time(), tzinfo=dt.UTC) for c in config.commitments
        }
        added = self.store.sync_commitments([c.id for c in config.commitments], self.clock(), announced)
        self._judgement = judgement
        return added

    @property
    def judgement(self) -> Judgement:
        """The judgement pinned for this thread's transaction, else the latest published one."""
        pinned: Judgement | None = getattr(self._pinned, "judgement", None)
        return pinned or self._judgement

    @contextlib.contextmanager
    def _pin(self) -> Iterator[Judgement]:
        """Hold one judgement for a whole transaction, whatever a reload publishes meanwhile.

        Taken after the transaction has begun (on SQLite, after its turn came), so a transaction that
        starts once a reload is published always judges with the new config.
        """
        outer = getattr(self._pinned, "judgement", None)
        judgement = outer or self._judgement
        self._pinned.judgement = judgement
        with self._pins_changed:
            self._pins[id(judgement)] = self._pins.get(id(judgement), 0) + 1
        try:
            yield judgement
        finally:
            self._pinned.judgement = outer
            with self._pins_changed:
                self._pins[id(judgement)] -= 1
                if not self._pins[id(judgement)]:
                    del self._pins[id(judgement)]
                self._pins_changed.notify_all()

    def wait_for_older_judgements(self, timeout: float = 120.0) -> bool:
        """Block until no transaction still judges with a config older than the published one.

        A reload's look-back must run after those finish, or an entry they are storing right now (judged
        without the new commitments) would be missed by both. False if the wait timed out.
        """
        current = id(self._judgement)
        with self._pins_changed:
            return self._pins_changed.wait_for(
                lambda: all(key == current for key in self._pins), timeout=timeout
            )

    @property
    def config(self) -> Config:
        return self.judgement.config

    @property
    def engine(self) -> EvidenceEngine:
        return self.judgement.engine

    @property
    def tracker(self) -> Tracker:
        return self.judgement.tracker

    @property
    def alerter(self) -> Alerter:
        return self.judgement.alerter

    # --- ingest ----------------------------------------------------------------------------------

    def ingest(self, source: SourceRow, feed: ParsedFeed, fetched_at: dt.datetime) -> IngestOutcome:
        """Store a parsed document's entries and act on what they say, in one transaction."""
        with self.store.session() as session, self._pin():
            outcome = self.ingest_in(session, source, feed, fetched_at)
        return outcome

    def ingest_in(
        self, session: Session, source: SourceRow, feed: ParsedFeed, fetched_at: dt.datetime
    ) -> IngestOutcome:
        outcome = IngestOutcome()
        new_evidence: list[EvidenceRow] = []
        keys = [e.dedup_key for e in feed.entries]
        existing = (
            {
                r.dedup_key: r
                for r in session.exec(
                    select(EntryRow)
                    .where(EntryRow.source_id == source.id)
                    .where(col(EntryRow.dedup_key).in_(keys))
                ).all()
            }
            if keys
            else {}
        )
        seen: set[str] = set()
        fresh: list[dict[str, object]] = []
        stored: list[StoredEntry] = []
        for entry in feed.entries:
            if entry.dedup_key in seen:
                continue
            seen.add(entry.dedup_key)
            row = existing.get(entry.dedup_key)
            if row is None:
                fresh.append(self._new_entry(source, entry, fetched_at))
            elif row.content_hash != entry.content_hash:  # the publisher edited it: update, don't duplicate
                row.title, row.summary, row.content_hash = entry.title, entry.summary, entry.content_hash
                row.published = entry.published or row.published
                row.story_key = entry.story_key
                session.add(row)
                stored.append(StoredEntry.of(row, is_new=False))
        outcome.updated_entries = len(stored)
        if fresh:
            # One multi-row INSERT for the document: ORM objects per entry cost more than the parse itself.
            ids = insert_entries(session, fresh)
            fresh = [values for values in fresh if values["dedup_key"] in ids]
            stored += [StoredEntry.of_values(ids[str(values["dedup_key"])], values) for values in fresh]
        outcome.new_entries = len(fresh)
        for entry_view in stored:
            new_evidence += self._evidence_for(session, source, entry_view, fetched_at)
        source_row = session.get(SourceRow, source.id)
        if source_row is not None:
            source_row.entries_seen += outcome.new_entries
            session.add(source_row)
        session.flush()  # one flush for the document's evidence: the tracker needs their ids
        self._act_on(session, outcome, new_evidence, fetched_at, source.name)
        return outcome

    def _act_on(
        self,
        session: Session,
        outcome: IngestOutcome,
        evidence: list[EvidenceRow],
        now: dt.datetime,
        source: str,
    ) -> None:
        """Fresh evidence moves statuses and fills the outbox, in the caller's transaction."""
        outcome.evidence = len(evidence)
        if evidence:
            outcome.events = self.tracker.on_evidence(session, evidence, now)
            outcome.changes = [e.change for e in outcome.events if e.change is not None]
            queued = self.alerter.enqueue(session, outcome.events, now)
            outcome.alerts, outcome.alert_ids = len(queued), [a.id for a in queued if a.id is not None]
        self.hooks.on_ingest(source, outcome, evidence)

    def _new_entry(self, source: SourceRow, entry: FeedEntry, fetched_at: dt.datetime) -> dict[str, object]:
        return {
            "source_id": source.id or 0,
            "dedup_key": entry.dedup_key,
            "guid": entry.guid,
            "link": entry.link,
            "title": entry.title,
            "summary": entry.summary,
            "published": entry.published,
            "fetched_at": fetched_at,
            "content_hash": entry.content_hash,
            "publisher": publisher_of(entry.link, source.name),
            "story_key": entry.story_key,
            "canonical_link": canonical_url(entry.link) if entry.link else "",
        }

    def _evidence_for(
        self,
        session: Session,
        source: SourceRow,
        row: StoredEntry,
        fetched_at: dt.datetime,
        only: set[str] | None = None,
    ) -> list[EvidenceRow]:
        """Match one entry; ``only`` limits it to some commitments (those a reload added)."""
        published = as_utc(row.published) or fetched_at
        official = self.config.is_official(row.link, source.official)
        report = Report(str(row.id), row.title, row.summary, published, row.link, source.name, official)
        matches = self.engine.match(report)
        out = []
        for m in matches:
            if only is not None and m.commitment not in only:
                continue
            commitment = self.config.commitment(m.commitment)
            if published.date() < commitment.announced:
                continue  # belt and braces: old news is never evidence
            ev = (
                None
                if row.is_new
                else session.exec(
                    select(EvidenceRow)
                    .where(EvidenceRow.entry_id == row.id)
                    .where(EvidenceRow.commitment_id == m.commitment)
                ).first()
            )
            if ev is not None and ev.signal == m.signal and ev.sentence == m.evidence:
                continue
            ev = self._evidence_row(ev, source, row, m, published)
            session.add(ev)
            out.append(ev)
        return out

    def _evidence_row(
        self, ev: EvidenceRow | None, source: SourceRow, row: StoredEntry, m: Match, published: dt.datetime
    ) -> EvidenceRow:
        ev = ev or EvidenceRow(
            entry_id=row.id, commitment_id=m.commitment, signal=m.signal, confidence=m.confidence
        )
        ev.signal, ev.confidence, ev.sentence = m.signal, m.confidence, m.evidence
        ev.cue, ev.explanation = m.cue, m.explanation
        ev.publisher = row.publisher
        ev.official = self.config.is_official(row.link, source.official)
        ev.official_party = self.config.official_party(row.link, source.name) if ev.official else None
        ev.story_key, ev.link, ev.title, ev.source_name = row.story_key, row.link, row.title, source.name
        ev.canonical_link = row.canonical_link
        ev.published = published
        ev.new_date = m.new_date
        if m.quantity is not None:
            ev.quantity_value, ev.quantity_unit = m.quantity.value, m.quantity.unit
            ev.quantity_cumulative = m.quantity.cumulative
        return ev

    def ingest_document(
        self, source: SourceRow, body: bytes, url: str | None, fetched_at: dt.datetime
    ) -> IngestOutcome:
        """Parse and ingest raw bytes (replay and demo use this); raises NotAFeedError."""
        return self.ingest(source, parse_feed(body, {}, url), fetched_at)

    # --- the calendar ----------------------------------------------------------------------------

    def check_deadlines(self, now: dt.datetime | None = None) -> list[StatusChangeRow]:
        return self.deadlines(now).changes

    def deadlines(self, now: dt.datetime | None = None) -> IngestOutcome:
        """The daily calendar check (overdue, expired, reminders), with the alerts it queued."""
        now = now or self.clock()
        outcome = IngestOutcome()
        with self.store.session() as session, self._pin():
            outcome.events = self.tracker.check_deadlines(session, now)
            queued = self.alerter.enqueue(session, outcome.events, now)
            outcome.alerts, outcome.alert_ids = len(queued), [a.id for a in queued if a.id is not None]
        outcome.changes = [e.change for e in outcome.events if e.change is not None]
        self.hooks.on_changes(outcome.changes)
        return outcome

    def rematch_recent(self, commitment_ids: Sequence[str], since: dt.datetime) -> IngestOutcome:
        """Match entries stored since ``since`` against the given (newly added) commitments only.

        A commitment added to a running daemon would otherwise only see reports that arrive after the
        edit, and the report that prompted the user to add it is usually already stored. Existing
        commitments are left alone: their evidence was judged when the entries arrived.
        """
        outcome = IngestOutcome()
        wanted = set(commitment_ids)
        if not wanted:
            return outcome
        if not self.wait_for_older_judgements():
            log.warning("a poll judged with the previous config for over 2 minutes; matching anyway")
        now = self.clock()
        new_evidence: list[EvidenceRow] = []
        with self.store.session() as session, self._pin():
            rows = session.exec(
                select(EntryRow, SourceRow)
                .where(EntryRow.source_id == SourceRow.id)
                .where((col(EntryRow.fetched_at) >= since) | (col(EntryRow.published) >= since))
                .order_by(col(EntryRow.id))
            ).all()
            for entry, source in rows:
                stored = StoredEntry.of(entry, is_new=False)
                new_evidence += self._evidence_for(
                    session, source, stored, as_utc(entry.fetched_at) or now, only=wanted
                )
            session.flush()
            self._act_on(session, outcome, new_evidence, now, "")
        return outcome

    # --- polling ---------------------------------------------------------------------------------

    async def poll_due(self, fetcher: Fetcher, limit: int = 32, concurrency: int = 8) -> list[str]:
        """Poll every source whose time has come (a batch per tick); returns one outcome word per source."""
        now = self.clock()
        # The lease must outlast the slowest poll of the batch, or a second worker could take a source
        # still being polled: each fetch is bounded by the deadline, and in the worst case the whole batch
        # queues for one host, `per_host_limit` at a time.
        lease = fetcher.deadline * -(-limit // max(1, min(concurrency, fetcher.per_host_limit))) + 60.0
        rows = await asyncio.to_thread(self.store.claim_due_sources, now, lease, limit)
        gate = asyncio.Semaphore(concurrency)

        async def one(row: SourceRow) -> str:
            async with gate:
                return await self.poll_source(row, fetcher)

        return list(await asyncio.gather(*(one(r) for r in rows)))

    async def poll_source(self, row: SourceRow, fetcher: Fetcher) -> str:
        state = FetchState(row.url, row.etag, row.last_modified, row.body_hash, row.consecutive_failures)
        result = await fetcher.fetch(state)
        feed: ParsedFeed | None = None
        if result.outcome == "new" and result.body is not None:
            try:
                feed = await asyncio.to_thread(parse_feed, result.body, result.headers, result.url)
            except NotAFeedError as exc:
                result.outcome, result.error_kind, result.error_message = (
                    "error",
                    parse_error_kind(exc),
                    str(exc),
                )
            except Exception as exc:  # a parser bug must not stop this source being polled for good
                log.exception("%s: parsing failed", row.name, extra={"source": row.name})
                result.outcome, result.error_kind = "error", "internal"
                result.error_message = f"{type(exc).__name__}: {exc}"[:500]
        now = self.clock()
        try:
            await asyncio.to_thread(self._record_poll, row.id or 0, result, feed, now)
        except Exception as exc:  # the ingest rolled back: record the failure, so the source backs off
            log.exception(
                "%s: storing the poll failed; recorded as a failure", row.name, extra={"source": row.name}
            )
            failed = FetchResult(
                "error", row.url, error_kind="internal", error_message=f"{type(exc).__name__}: {exc}"[:500]
            )
            await asyncio.to_thread(self._record_poll, row.id or 0, failed, None, now)
            return "error"
        return result.outcome

    def _sources_by_name(self) -> dict[str, Source]:
        """sources.yaml by name, built once per config (a scan per poll is quadratic at 10,000 feeds)."""
        config = self.config
        cached = self._by_name
        if cached is None or cached[0] is not config:
            cached = self._by_name = (config, {c.name: c for c in config.sources.sources})
        return cached[1]

    def _bounds(self, row: SourceRow) -> tuple[float, float]:
        """The source's min and max poll intervals: its own in sources.yaml, else the defaults."""
        configured = self._sources_by_name().get(row.name)
        defaults = self.config.sources.defaults
        return (
            (configured and configured.min_interval) or defaults.min_interval,
            (configured and configured.max_interval) or defaults.max_interval,
        )

    def _record_poll(
        self, source_id: int, result: FetchResult, feed: ParsedFeed | None, now: dt.datetime
    ) -> None:
        with self.store.session() as session, self._pin():
            row = session.get(SourceRow, source_id)
            if row is None:
                return
            row.lease_until = None
            if result.error_kind == "host_backoff":
                # Another source on this host was told to wait: a deferral, not this source's failure.
                wait = min(result.retry_after or row.interval_seconds, self._bounds(row)[1])
                row.next_poll_at = now + dt.timedelta(seconds=wait)
                session.add(row)
                return
            row.polls += 1
            row.last_attempt_at = now
            if result.outcome in ("error", "gone"):
                self._record_failure(session, row, result, now)
            else:
                self._record_success(session, row, result, now)
            if feed is not None:
                outcome = self.ingest_in(session, row, feed, now)
                if outcome.new_entries or outcome.changes:
                    log.info(
                        "%s: %d new entries, %d evidence, %d status changes",
                        row.name,
                        outcome.new_entries,
                        outcome.evidence,
                        len(outcome.changes),
                        extra={"source": row.name},
                    )
            min_interval, max_interval = self._bounds(row)
            recent = session.exec(
                select(EntryRow.published)
                .where(EntryRow.source_id == row.id)
                .where(col(EntryRow.published) >= now - dt.timedelta(days=7))
                .order_by(col(EntryRow.published).desc())
                .limit(200)
            ).all()
            plan = plan_next_poll(
                interval=row.interval_seconds,
                min_interval=min_interval,
                max_interval=max_interval,
                result=result,
                failures=row.consecutive_failures,
                ttl_seconds=feed.ttl_seconds if feed else None,
                recent_entry_times=[t for t in (as_utc(p) for p in recent) if t is not None],
                now=now,
            )
            row.next_poll_at = now + dt.timedelta(seconds=plan.delay_seconds)
            session.add(row)
            self.hooks.on_poll(row.name, result)  # last, so a poll whose ingest failed counts once, as failed

    def _record_success(
        self, session: Session, row: SourceRow, result: FetchResult, now: dt.datetime
    ) -> None:
        if row.consecutive_failures:
            log.info(
                "%s: recovered after %d failures",
                row.name,
                row.consecutive_failures,
                extra={"source": row.name},
            )
            if row.failure_alerted:
                self.alerter.enqueue_ops(
                    session,
                    f"source-recovered:{row.id}:{now.isoformat()}",
                    f"Source recovered: {row.name}",
                    f"{row.name} answers again after {row.consecutive_failures} failed polls.",
                    now,
                    "info",
                )
        row.consecutive_failures, row.failing_since, row.failure_alerted = 0, None, False
        row.error_kind = row.error_message = None
        row.last_success_at = now
        if result.status == 200:
            row.etag, row.last_modified = result.etag, result.last_modified
            row.body_hash = result.body_hash or row.body_hash
        if result.new_url and result.new_url != row.url:
            log.warning(
                "%s: moved permanently to %s; using the new URL",
                row.name,
                result.new_url,
                extra={"source": row.name},
            )
            row.url = result.new_url

    def _record_failure(
        self, session: Session, row: SourceRow, result: FetchResult, now: dt.datetime
    ) -> None:
        first = row.consecutive_failures == 0 or row.error_kind != result.error_kind
        row.consecutive_failures += 1
        row.failing_since = row.failing_since or now
        row.error_kind, row.error_message = result.error_kind, (result.error_message or "")[:1000]
        if first:  # once per failure episode, not once per poll
            log.warning(
                "%s: %s (%s); backing off",
                row.name,
                result.error_message,
                result.error_kind,
                extra={"source": row.name},
            )
        if result.outcome == "gone":
            row.enabled, row.disabled_reason = False, "410 Gone"
        since = as_utc(row.failing_since) or now
        if (result.outcome == "gone" or now - since >= FAILURE_ALERT_AFTER) and not row.failure_alerted:
            row.failure_alerted = True
            self.alerter.enqueue_ops(
                session,
                f"source-failing:{row.id}:{since.isoformat()}",
                f"Source failing: {row.name}",
                f"{row.name} has failed since {since:%Y-%m-%d %H:%M} UTC "
                f"({row.consecutive_failures} polls): {row.error_kind}: {row.error_message}",
                now,
            )


def changes_as_json(store: Store, changes: Sequence[StatusChangeRow]) -> list[dict[str, object]]:
    """The documented `replay` output: one object per status change."""
    out: list[dict[str, object]] = []
    for c in changes:
        out.append(
            {
                "commitment": c.commitment_id,
                "from": c.from_status,
                "to": c.to_status,
                "at": (as_utc(c.at) or utcnow()).isoformat(),
                "kind": c.kind,
                "reason": c.reason,
                "evidence": store.evidence_links(c.evidence_id_list),
            }
        )
    return out
