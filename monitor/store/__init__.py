"""Storage: the tables and the one place that talks SQL.

SQLite (WAL, foreign keys, busy timeout) is the embedded default; PostgreSQL lets several workers share
one state, and the claim queries use ``FOR UPDATE SKIP LOCKED`` there so two workers never poll the same
source or send the same alert. Everything else in the package goes through `Store`, so a storage change
touches one module.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field as dc_field
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Column, Index, Text, UniqueConstraint, event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import ArgumentError, IntegrityError, OperationalError
from sqlmodel import Field, Session, SQLModel, col, create_engine, select

from monitor.errors import StorageError


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def as_utc(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands back naive datetimes; every datetime in the package is UTC-aware."""
    if value is None or value.tzinfo is dt.UTC:
        return value
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class SourceRow(SQLModel, table=True):
    """A feed and everything the fetcher remembers about it between polls."""

    __tablename__ = "source"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True)
    url: str
    configured_url: str = ""
    official: bool = False
    enabled: bool = True
    disabled_reason: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    interval_seconds: float = 900.0
    next_poll_at: dt.datetime | None = Field(default=None, index=True)
    lease_until: dt.datetime | None = None
    last_attempt_at: dt.datetime | None = None
    last_success_at: dt.datetime | None = None
    consecutive_failures: int = 0
    failing_since: dt.datetime | None = None
    error_kind: str | None = None
    error_message: str | None = None
    failure_alerted: bool = False
    entries_seen: int = 0
    polls: int = 0


class EntryRow(SQLModel, table=True):
    """A report seen in a feed, stored once per source whatever the feed does to its ids."""

    __tablename__ = "entry"
    __table_args__ = (UniqueConstraint("source_id", "dedup_key"),)
    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="source.id", index=True)
    dedup_key: str
    guid: str = ""
    link: str = ""
    title: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    summary: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    published: dt.datetime | None = None
    fetched_at: dt.datetime = Field(default_factory=utcnow, index=True)
    content_hash: str = ""
    publisher: str = ""
    story_key: str = Field(default="", index=True)
    # computed once at insert: corroboration compares stories by it (migration 0002)
    canonical_link: str = Field(default="", sa_column_kwargs={"server_default": ""})


class CommitmentRow(SQLModel, table=True):
    """The current judgement on one commitment; the config holds the promise, this holds the verdict."""

    __tablename__ = "commitment"
    id: str = Field(primary_key=True)
    status: str = "pending"
    status_since: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)
    archived: bool = False
    watched_since: dt.datetime | None = None  # when this database began tracking the commitment
    progress_value: float | None = None
    progress_at: dt.datetime | None = None
    progress_link: str | None = None
    progress_alerted: int = 0
    pace_alerted: bool = False
    extended_until: dt.date | None = None
    new_due: dt.date | None = None
    last_evidence_at: dt.datetime | None = None
    last_evidence_link: str | None = None


class EvidenceRow(SQLModel, table=True):
    """What one report said about one commitment: the ledger behind every status."""

    __tablename__ = "evidence"
    __table_args__ = (
        UniqueConstraint("entry_id", "commitment_id"),
        Index("ix_evidence_commitment_signal", "commitment_id", "signal"),
        # corroboration reads one commitment's same-signal evidence within a window of publication times
        Index("ix_evidence_commitment_signal_published", "commitment_id", "signal", "published"),
    )
    id: int | None = Field(default=None, primary_key=True)
    entry_id: int | None = Field(default=None, foreign_key="entry.id", index=True)
    commitment_id: str = Field(foreign_key="commitment.id")
    signal: str
    confidence: float
    sentence: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    cue: str = ""
    explanation: str = ""
    publisher: str = ""
    official: bool = False
    official_party: str | None = None
    story_key: str = ""
    link: str = ""
    # the entry's, copied at insert so corroboration never recomputes it (migration 0002)
    canonical_link: str = Field(default="", sa_column_kwargs={"server_default": ""})
    title: str = ""
    source_name: str = ""
    published: dt.datetime | None = None
    quantity_value: float | None = None
    quantity_unit: str | None = None
    quantity_cumulative: bool = True
    new_date: dt.date | None = None
    created_at: dt.datetime = Field(default_factory=utcnow)


class StatusChangeRow(SQLModel, table=True):
    """One move of a commitment's status, with the evidence that justified it."""

    __tablename__ = "status_change"
    id: int | None = Field(default=None, primary_key=True)
    commitment_id: str = Field(foreign_key="commitment.id", index=True)
    from_status: str
    to_status: str
    at: dt.datetime
    kind: str = "evidence"
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    evidence_ids: str = "[]"
    created_at: dt.datetime = Field(default_factory=utcnow)

    @property
    def evidence_id_list(self) -> list[int]:
        return [int(x) for x in json.loads(self.evidence_ids or "[]")]


class AlertRow(SQLModel, table=True):
    """An alert in the outbox, written in the same transaction as the event that caused it.

    ``key`` is the idempotency key: a second attempt to create the same alert is a no-op, so a replay or
    a crash-and-restart never produces a duplicate.
    """

    __tablename__ = "alert"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True)
    kind: str
    severity: str = "info"
    commitment_id: str | None = Field(default=None, index=True)
    change_id: int | None = Field(default=None, foreign_key="status_change.id")
    route: str = "default"
    tags: str = "[]"
    subject: str = ""
    body: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    payload: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    mode: str = "immediate"
    state: str = Field(default="pending", index=True)
    attempts: int = 0
    next_attempt_at: dt.datetime | None = Field(default=None, index=True)
    lease_until: dt.datetime | None = None
    last_error: str | None = None
    created_at: dt.datetime = Field(default_factory=utcnow)
    sent_at: dt.datetime | None = None
    # Delivery (monitor/delivery.py): the same message in the three formats Apprise targets take, rendered
    # once at enqueue time so retries send exactly what was decided in the status-change transaction.
    body_text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    body_html: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    in_digest: bool = False
    folded_into: int | None = None
    lease_owner: str | None = None
    first_attempt_at: dt.datetime | None = Field(default=None, index=True)
    held_reason: str | None = None

    @property
    def tag_list(self) -> list[str]:
        return [str(t) for t in json.loads(self.tags or "[]")]


class DeliveryRow(SQLModel, table=True):
    """The fate of one alert at one Apprise target; the target is kept redacted and hashed, never in clear."""

    __tablename__ = "delivery"
    __table_args__ = (UniqueConstraint("alert_id", "target_hash"),)
    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(foreign_key="alert.id", index=True)
    target_hash: str
    target: str
    state: str = "pending"
    attempts: int = 0
    last_error: str | None = None
    sent_at: dt.datetime | None = None
    # Two-phase send: 'sending' with a fresh attempt id is committed before the send; a row still
    # 'sending' after its worker died has an unknown outcome (see monitor/delivery.py).
    attempt_id: str | None = None
    sending_at: dt.datetime | None = None
    redeliveries: int = 0


class DigestItemRow(SQLModel, table=True):
    """Which alerts a digest already carried, so each alert appears in one daily and one weekly digest."""

    __tablename__ = "digest_item"
    __table_args__ = (UniqueConstraint("digest_kind", "alert_id"),)
    id: int | None = Field(default=None, primary_key=True)
    digest_kind: str
    alert_id: int = Field(foreign_key="alert.id", index=True)
    digest_alert_id: int = Field(foreign_key="alert.id")


def default_db_url() -> str:
    """``$TRADE_MONITOR_DB`` or a SQLite file in the user's data directory."""
    url = os.environ.get("TRADE_MONITOR_DB")
    if url:
        return url
    import platformdirs

    folder = Path(platformdirs.user_data_dir("trade-monitor", appauthor=False))
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'monitor.sqlite'}"


def _normalise_url(url: str) -> str:
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str) -> Engine:
    url = _normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


class Store:
    """Sessions, schema and the queries the pipeline needs."""

    def __init__(self, url: str, *, migrate: bool = False) -> None:
        """Open the database; an empty one gets the current schema. One made by an older version raises
        `SchemaOutdated` unless ``migrate`` (`trade-monitor db upgrade`), which runs its migrations."""
        from monitor.store import schema

        self.url = url
        self.migrated: tuple[str | None, str] | None = None
        try:
            self.engine = make_engine(url)
            with self.engine.begin() as conn:
                if self.engine.dialect.name == "postgresql":
                    # workers starting together must not race to create or alter the same tables
                    conn.execute(text("SELECT pg_advisory_xact_lock(7215033001)"))
                if schema.is_empty(conn):
                    SQLModel.metadata.create_all(conn)
                    schema.stamp_head(conn)
                elif migrate:
                    self.migrated = schema.upgrade(conn)
                else:
                    schema.check_current(conn, redact_db_url(url))
                # Tables new to the models (never columns: those need a migration) are created here.
                SQLModel.metadata.create_all(conn)
        except OperationalError as exc:
            self.engine.dispose()
            raise StorageError(f"cannot open database {redact_db_url(url)}: {exc.orig}") from exc
        except (ArgumentError, ValueError, ImportError) as exc:  # a malformed URL or an unknown driver
            raise StorageError(f"cannot use database URL {redact_db_url(url)}: {exc}") from exc
        except StorageError:
            self.engine.dispose()
            raise
        self.is_postgres = self.engine.dialect.name == "postgresql"
        self._turn: contextlib.AbstractContextManager[object] = (
            contextlib.nullcontext() if self.is_postgres else threading.RLock()
        )

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises.

        On SQLite, transactions of this process take turns: SQLite admits one writer at a time, and its
        busy handler makes a waiting thread sleep in growing steps, which costs far more than queueing.
        """
        with self._turn, Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    # --- sources ---------------------------------------------------------------------------------

    def sync_sources(self, sources: Sequence[Any], interval_for: Any) -> None:
        """Make the source table match sources.yaml, keeping fetch state of sources that stay.

        Plain rows in and bulk statements out, writing only what changed: an ORM object per source cost
        ~5 KiB and a flush check each, 50 MiB and seconds at every start and reload with 10,000 sources.
        """
        from sqlalchemy import insert, update
        from sqlalchemy import select as select_columns

        table = SourceRow.__table__  # type: ignore[attr-defined]
        columns = [table.c[name] for name in _SYNCED_COLUMNS]
        with self.session() as s:
            current = {r.name: dict(r._mapping) for r in s.execute(select_columns(*columns))}
            fresh: list[dict[str, Any]] = []
            changed: list[dict[str, Any]] = []
            for src in sources:
                old = current.pop(src.name, None)
                row = dict(old) if old is not None else _new_source_values(src.name, src.url)
                _apply_source_config(row, src, float(interval_for(src)))
                if old is None:
                    fresh.append(row)
                elif row != old:
                    changed.append({k: v for k, v in row.items() if k == "id" or v != old[k]})
            for old in current.values():
                if old["enabled"] or old["disabled_reason"] != "removed from sources.yaml":
                    changed.append(
                        {"id": old["id"], "enabled": False, "disabled_reason": "removed from sources.yaml"}
                    )
            for chunk in range(0, len(fresh), 500):
                s.execute(insert(SourceRow), fresh[chunk : chunk + 500])
            for values in changed:
                s.execute(update(SourceRow).where(col(SourceRow.id) == values["id"]).values(**values))

    def sources(self) -> list[SourceRow]:
        with self.session() as s:
            return list(s.exec(select(SourceRow).order_by(col(SourceRow.name))).all())

    def source_by_name(self, name: str) -> SourceRow | None:
        with self.session() as s:
            return s.exec(select(SourceRow).where(SourceRow.name == name)).first()

    def ensure_source(self, name: str, url: str, official: bool = False) -> SourceRow:
        """A source row for documents that arrive without a configured feed (replay, demo)."""
        with self.session() as s:
            row = s.exec(select(SourceRow).where(SourceRow.name == name)).first()
            if row is None:
                row = SourceRow(
                    name=name,
                    url=url,
                    configured_url=url,
                    official=official,
                    enabled=False,
                    disabled_reason="replayed documents",
                )
                s.add(row)
                s.flush()
            return row

    def make_all_due(self) -> None:
        """Every enabled source due now (`poll --once --all`, the demo's next day)."""
        with self.session() as s:
            for row in s.exec(select(SourceRow).where(SourceRow.enabled == True)).all():  # noqa: E712
                row.next_poll_at = None
                s.add(row)

    def claim_due_sources(self, now: dt.datetime, lease_seconds: float, limit: int = 100) -> list[SourceRow]:
        """Take the sources whose next poll time has come, leasing them so no other worker takes them."""
        with self.session() as s:
            query = (
                select(SourceRow)
                .where(SourceRow.enabled == True)  # noqa: E712
                .where((col(SourceRow.next_poll_at).is_(None)) | (col(SourceRow.next_poll_at) <= now))
                .where((col(SourceRow.lease_until).is_(None)) | (col(SourceRow.lease_until) <= now))
                .order_by(col(SourceRow.next_poll_at))
                .limit(limit)
            )
            if self.is_postgres:
                query = query.with_for_update(skip_locked=True)
            rows = list(s.exec(query).all())
            for row in rows:
                row.lease_until = now + dt.timedelta(seconds=lease_seconds)
                s.add(row)
            return rows

    def next_due_at(self, now: dt.datetime) -> dt.datetime | None:
        """When the next enabled source may be claimed: its due time, or its lease's end if another poll
        holds it. ``now`` when one is claimable already; None when there is no enabled source."""
        from sqlalchemy import func

        enabled = SourceRow.enabled == True  # noqa: E712
        free = col(SourceRow.lease_until).is_(None) | (col(SourceRow.lease_until) <= now)
        with self.session() as s:
            if s.exec(
                select(SourceRow.id).where(enabled).where(free).where(col(SourceRow.next_poll_at).is_(None))
            ).first():
                return now
            times = [
                s.exec(select(func.min(SourceRow.next_poll_at)).where(enabled).where(free)).first(),
                s.exec(
                    select(func.min(SourceRow.lease_until))
                    .where(enabled)
                    .where(col(SourceRow.lease_until) > now)
                ).first(),
            ]
        known = [t for t in (as_utc(v) for v in times) if t is not None]
        return max(now, min(known)) if known else None

    def release_source_leases(self, ids: Sequence[int]) -> None:
        """Give back leases of polls that will not finish (a stop), so the sources are polled again at
        their due time instead of after the lease runs out."""
        if not ids:
            return
        from sqlalchemy import update

        with self.session() as s:
            s.exec(update(SourceRow).where(col(SourceRow.id).in_(list(ids))).values(lease_until=None))

    # --- commitments -----------------------------------------------------------------------------

    def sync_commitments(
        self, ids: Sequence[str], now: dt.datetime, pending_since: Mapping[str, dt.datetime] | None = None
    ) -> list[str]:
        """Rows for new commitments (pending since ``pending_since[id]``, the announcement, or ``now``),
        archive removed ones; returns the ids that are new."""
        added = []
        with self.session() as s:
            rows = {r.id: r for r in s.exec(select(CommitmentRow)).all()}
            for cid in ids:
                row = rows.pop(cid, None)
                if row is None:
                    since = (pending_since or {}).get(cid, now)
                    s.add(
                        CommitmentRow(
                            id=cid, status="pending", status_since=since, updated_at=now, watched_since=now
                        )
                    )
                    added.append(cid)
                elif row.archived:
                    row.archived = False
                    s.add(row)
            for row in rows.values():
                if not row.archived:
                    row.archived = True
                    s.add(row)
        return added

    def commitments(self, include_archived: bool = False) -> list[CommitmentRow]:
        with self.session() as s:
            query = select(CommitmentRow).order_by(col(CommitmentRow.id))
            if not include_archived:
                query = query.where(CommitmentRow.archived == False)  # noqa: E712
            return list(s.exec(query).all())

    def commitment(self, commitment_id: str) -> CommitmentRow | None:
        with self.session() as s:
            return s.get(CommitmentRow, commitment_id)

    def history(self, commitment_id: str) -> tuple[list[StatusChangeRow], list[EvidenceRow]]:
        with self.session() as s:
            changes = s.exec(
                select(StatusChangeRow)
                .where(StatusChangeRow.commitment_id == commitment_id)
                .order_by(
                    col(StatusChangeRow.id)
                )  # the order they were made: each starts where the last ended
            ).all()
            evidence = s.exec(
                select(EvidenceRow)
                .where(EvidenceRow.commitment_id == commitment_id)
                .order_by(col(EvidenceRow.published), col(EvidenceRow.id))
            ).all()
            return list(changes), list(evidence)

    def statuses(self) -> dict[str, str]:
        """Each live commitment's status and nothing else: what a board filters and counts on."""
        with self.session() as s:
            found = s.exec(
                select(CommitmentRow.id, CommitmentRow.status).where(CommitmentRow.archived == False)  # noqa: E712
            ).all()
        return dict(found)

    def board_state(
        self, only: Sequence[str] | None = None
    ) -> tuple[dict[str, CommitmentRow], dict[str, list[EvidenceRow]]]:
        """Every live commitment row and all evidence by commitment, for boards that show them all.

        Read as plain result rows rather than ORM objects: they carry the same attribute names, and
        skipping the model machinery makes 1,000 commitments load in tens of milliseconds instead of
        hundreds. Read-only: do not add them to a session. ``only`` limits what is read to those
        commitments (a page of the board).
        """
        from sqlalchemy import select as core_select

        tables = SQLModel.metadata.tables
        with self.session() as s:
            conn = s.connection()
            live = core_select(tables["commitment"]).where(tables["commitment"].c.archived == False)  # noqa: E712
            if only is not None:
                live = live.where(tables["commitment"].c.id.in_(list(only)))
            commitments = conn.execute(live).all()
            evidence = conn.execute(
                core_select(tables["evidence"]).order_by(
                    tables["evidence"].c.published, tables["evidence"].c.id
                )
            ).all()
        rows = {r.id: cast(CommitmentRow, r) for r in commitments}
        by_commitment: dict[str, list[EvidenceRow]] = {}
        for ev in evidence:
            by_commitment.setdefault(ev.commitment_id, []).append(cast(EvidenceRow, ev))
        return rows, by_commitment

    def deliveries_for(self, alert_ids: Sequence[int]) -> dict[int, list[DeliveryRow]]:
        """The delivery rows of many alerts in one query."""
        out: dict[int, list[DeliveryRow]] = {i: [] for i in alert_ids}
        if not alert_ids:
            return out
        with self.session() as s:
            rows = s.exec(select(DeliveryRow).where(col(DeliveryRow.alert_id).in_(list(alert_ids)))).all()
        for row in rows:
            out.setdefault(row.alert_id, []).append(row)
        return out

    def changes_since(self, after_id: int) -> list[StatusChangeRow]:
        with self.session() as s:
            return list(
                s.exec(
                    select(StatusChangeRow)
                    .where(col(StatusChangeRow.id) > after_id)
                    .order_by(col(StatusChangeRow.id))
                ).all()
            )

    def recent_changes(self, limit: int = 100) -> list[StatusChangeRow]:
        """The newest status changes first, for feeds of what happened."""
        with self.session() as s:
            return list(
                s.exec(
                    select(StatusChangeRow)
                    .order_by(col(StatusChangeRow.at).desc(), col(StatusChangeRow.id).desc())
                    .limit(limit)
                ).all()
            )

    def last_change_id(self) -> int:
        with self.session() as s:
            row = s.exec(select(StatusChangeRow).order_by(col(StatusChangeRow.id).desc())).first()
            return row.id or 0 if row else 0

    def evidence_link_map(self, ids: Sequence[int]) -> dict[int, str]:
        """Evidence id to link for many ids in one query (links that are empty are left out)."""
        if not ids:
            return {}
        with self.session() as s:
            rows = s.exec(
                select(EvidenceRow.id, EvidenceRow.link).where(col(EvidenceRow.id).in_(set(ids)))
            ).all()
        return {int(i): link for i, link in rows if i is not None and link}

    def evidence_links(self, ids: Sequence[int]) -> list[str]:
        if not ids:
            return []
        with self.session() as s:
            rows = s.exec(select(EvidenceRow).where(col(EvidenceRow.id).in_(list(ids)))).all()
            by_id = {r.id: r.link for r in rows}
            return [by_id[i] for i in ids if by_id.get(i)]

    # --- alerts ----------------------------------------------------------------------------------

    def alerts(self, states: Sequence[str] | None = None, limit: int = 200) -> list[AlertRow]:
        with self.session() as s:
            query = select(AlertRow).order_by(col(AlertRow.id).desc()).limit(limit)
            if states:
                query = query.where(col(AlertRow.state).in_(list(states)))
            return list(s.exec(query).all())

    def deliveries(self, alert_id: int) -> list[DeliveryRow]:
        with self.session() as s:
            return list(s.exec(select(DeliveryRow).where(DeliveryRow.alert_id == alert_id)).all())

    # --- operations: metrics and retention ---------------------------------------------------------

    def ops_stats(self, now: dt.datetime) -> OpsStats:
        """What an operator's dashboard needs, in a handful of aggregate queries (run at scrape time)."""
        from sqlalchemy import func

        stats = OpsStats()
        with self.session() as s:
            for state, route, count, oldest in s.exec(
                select(AlertRow.state, AlertRow.route, func.count(), func.min(AlertRow.created_at)).group_by(
                    col(AlertRow.state), col(AlertRow.route)
                )
            ).all():
                stats.alerts[(state, route)] = int(count)
                if state == "pending":
                    stats.outbox_depth += int(count)
                    age = (now - (as_utc(oldest) or now)).total_seconds()
                    stats.outbox_oldest_age = max(stats.outbox_oldest_age, age)
            for row in s.exec(select(SourceRow)).all():
                state = "disabled" if not row.enabled else ("failing" if row.consecutive_failures else "ok")
                stats.sources[state] = stats.sources.get(state, 0) + 1
                if row.enabled and row.consecutive_failures:
                    stats.failing[row.name] = row.consecutive_failures
                due = as_utc(row.next_poll_at)
                if row.enabled and due is not None and due < now:
                    stats.poll_lag = max(stats.poll_lag, (now - due).total_seconds())
                success = as_utc(row.last_success_at)
                if success is not None:
                    stats.last_success = max(stats.last_success, success.timestamp())
            for status, count in s.exec(
                select(CommitmentRow.status, func.count())
                .where(CommitmentRow.archived == False)  # noqa: E712
                .group_by(col(CommitmentRow.status))
            ).all():
                stats.commitments[status] = int(count)
        return stats

    def prune_entries(
        self, older_than: dt.datetime, batch: int = 5000, progress: Callable[[int], None] | None = None
    ) -> int:
        """Delete entries fetched before ``older_than`` that no evidence points to; returns how many.

        Evidence, status changes and alerts are the record users rely on and are never pruned; an entry
        with evidence stays because its evidence references it. Batched so a first prune of a large
        database does not hold a write lock for long.
        """
        from sqlalchemy import delete

        total = 0
        while True:
            with self.session() as s:
                has_evidence = select(EvidenceRow.entry_id).where(col(EvidenceRow.entry_id).is_not(None))
                ids = list(
                    s.exec(
                        select(EntryRow.id)
                        .where(col(EntryRow.fetched_at) < older_than)
                        .where(col(EntryRow.id).not_in(has_evidence))
                        .limit(batch)
                    ).all()
                )
                if ids:
                    s.exec(delete(EntryRow).where(col(EntryRow.id).in_(ids)))
            total += len(ids)
            if progress is not None and ids:
                progress(total)
            if len(ids) < batch:
                return total


@dataclass
class OpsStats:
    """Aggregates for metrics: outbox, alerts by (state, route), sources, poll lag, commitments."""

    outbox_depth: int = 0
    outbox_oldest_age: float = 0.0
    alerts: dict[tuple[str, str], int] = dc_field(default_factory=dict)
    sources: dict[str, int] = dc_field(default_factory=dict)
    failing: dict[str, int] = dc_field(default_factory=dict)
    poll_lag: float = 0.0
    last_success: float = 0.0
    commitments: dict[str, int] = dc_field(default_factory=dict)


def add_missing_columns(conn: Connection, skip: frozenset[str] = frozenset()) -> list[str]:
    """Bring a database from before versioned migrations up to the 0.1.0 schema (the baseline revision)
    by adding the columns and indexes it lacks; ``skip`` names ("table.column" or index names) what later
    migrations add, which they must do themselves.

    Releases up to 0.1.0 only ever added columns (with defaults) and indexes, so this additive step was
    their whole migration. Added columns are nullable, whatever the model says, since existing rows have
    no value to satisfy NOT NULL with. Returns "table.column" names.
    """
    from sqlalchemy import inspect

    added = []
    inspector = inspect(conn)
    for table in SQLModel.metadata.sorted_tables:
        if not inspector.has_table(table.name):
            continue
        present = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present or f"{table.name}.{column.name}" in skip:
                continue
            kind = column.type.compile(conn.dialect)
            ddl = f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}'
            default = getattr(column.default, "arg", None)
            if isinstance(default, bool):
                ddl += f" DEFAULT {'TRUE' if default else 'FALSE'}"
            elif isinstance(default, int | float):
                ddl += f" DEFAULT {default}"
            elif isinstance(default, str):
                ddl += " DEFAULT '" + default.replace("'", "''") + "'"
            conn.execute(text(ddl))
            added.append(f"{table.name}.{column.name}")
        indexes = {i["name"] for i in inspector.get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in indexes and index.name not in skip:
                index.create(conn, checkfirst=True)
    return added


# The columns sync_sources reads and may write (the rest is fetch state it never touches).
_SYNCED_COLUMNS = (
    "id",
    "name",
    "url",
    "configured_url",
    "official",
    "enabled",
    "disabled_reason",
    "interval_seconds",
    "etag",
    "last_modified",
    "body_hash",
)


def _new_source_values(name: str, url: str) -> dict[str, Any]:
    """A new source row's columns: the model's defaults, then its name and URL."""
    values = {field: info.default for field, info in SourceRow.model_fields.items() if field != "id"}
    values.update(name=name, url=url, configured_url=url)
    return values


def _apply_source_config(row: dict[str, Any], src: Any, interval: float) -> None:
    """What sources.yaml says about one source, applied to its row's values (as before, field by field)."""
    if row.get("id") is not None and row["configured_url"] != src.url:
        row["url"] = row["configured_url"] = src.url
        row["etag"] = row["last_modified"] = row["body_hash"] = None
        if row["disabled_reason"] == "410 Gone":  # a new URL deserves a fresh try
            row["enabled"], row["disabled_reason"] = True, None
    row["official"] = src.official
    if not src.enabled:
        row["enabled"], row["disabled_reason"] = False, "disabled in sources.yaml"
    elif row["disabled_reason"] in ("disabled in sources.yaml", "removed from sources.yaml"):
        row["enabled"], row["disabled_reason"] = True, None
    row["interval_seconds"] = interval


# --- the tracker's reads: bounded, indexed queries whose cost does not grow with history -------------

# At most this many reports per publisher are read when counting corroboration. The count needs one
# original report per publisher; a publisher's 26th same-signal report within a window adds nothing.
PER_PUBLISHER_CAP = 25


def window_evidence(
    session: Session,
    commitment_id: str,
    signal: str,
    min_confidence: float,
    start: dt.datetime,
    end: dt.datetime,
    min_quantity: float | None = None,
) -> list[EvidenceRow]:
    """One commitment's evidence of one signal published within [start, end] (or undated), the first
    `PER_PUBLISHER_CAP` per publisher, oldest first. ``min_quantity`` reads figures instead of a signal."""
    from sqlalchemy import func

    published = col(EvidenceRow.published)
    query = (
        select(
            EvidenceRow.id,
            func.row_number()
            .over(partition_by=col(EvidenceRow.publisher), order_by=(published, col(EvidenceRow.id)))
            .label("rank"),
        )
        .where(EvidenceRow.commitment_id == commitment_id)
        .where(published.is_(None) | ((published >= start) & (published <= end)))
    )
    if min_quantity is None:
        query = query.where(EvidenceRow.signal == signal).where(col(EvidenceRow.confidence) >= min_confidence)
    else:
        query = query.where(col(EvidenceRow.quantity_value) >= min_quantity)
    ranked = query.subquery()
    rows = session.exec(
        select(EvidenceRow)
        .join(ranked, col(EvidenceRow.id) == ranked.c.id)
        .where(ranked.c.rank <= PER_PUBLISHER_CAP)
        .order_by(published, col(EvidenceRow.id))
    ).all()
    return list(rows)


def is_original_report(
    session: Session, ev: EvidenceRow, signals: Sequence[str], min_confidence: float, start: dt.datetime
) -> bool:
    """No other publisher's report of these ``signals`` published before ``ev`` since ``start`` tells the
    same story (same canonical link or story key): a copy never counts as a publisher of its own."""
    published = col(EvidenceRow.published)
    same_story = []
    if ev.canonical_link:
        same_story.append(col(EvidenceRow.canonical_link) == ev.canonical_link)
    if ev.story_key:
        same_story.append(col(EvidenceRow.story_key) == ev.story_key)
    if not same_story or ev.published is None:
        return True
    from sqlalchemy import or_

    earlier = published < ev.published
    first = session.exec(
        select(EvidenceRow.id)
        .where(EvidenceRow.commitment_id == ev.commitment_id)
        .where(col(EvidenceRow.signal).in_(list(signals)))
        .where(col(EvidenceRow.confidence) >= min_confidence)
        .where(col(EvidenceRow.publisher) != ev.publisher)
        .where(published >= start)
        .where(earlier | ((published == ev.published) & (col(EvidenceRow.id) < (ev.id or 0))))
        .where(or_(*same_story))
        .limit(1)
    ).first()
    return first is None


def latest_overturn(session: Session, commitment_id: str, target: str) -> StatusChangeRow | None:
    """The newest evidence-made move away from ``target``, or manual decision, for one commitment."""
    return session.exec(
        select(StatusChangeRow)
        .where(StatusChangeRow.commitment_id == commitment_id)
        .where(
            ((col(StatusChangeRow.from_status) == target) & (col(StatusChangeRow.kind) == "evidence"))
            | (col(StatusChangeRow.kind) == "manual")
        )
        .order_by(col(StatusChangeRow.at).desc(), col(StatusChangeRow.id).desc())
        .limit(1)
    ).first()


def latest_official_statements(
    session: Session, commitment_id: str, min_confidence: float
) -> list[EvidenceRow]:
    """Each government's latest official statement with a status meaning on one commitment."""
    from sqlalchemy import func

    published = col(EvidenceRow.published)
    ranked = (
        select(
            EvidenceRow.id,
            func.row_number()
            .over(
                partition_by=col(EvidenceRow.official_party),
                order_by=(published.desc(), col(EvidenceRow.id).desc()),
            )
            .label("rank"),
        )
        .where(EvidenceRow.commitment_id == commitment_id)
        .where(col(EvidenceRow.official_party).is_not(None))
        .where(col(EvidenceRow.signal) != "mention")
        .where(col(EvidenceRow.confidence) >= min_confidence)
        .subquery()
    )
    rows = session.exec(
        select(EvidenceRow).join(ranked, col(EvidenceRow.id) == ranked.c.id).where(ranked.c.rank == 1)
    ).all()
    return list(rows)


def insert_entries(session: Session, values: Sequence[dict[str, object]]) -> dict[str, int]:
    """One multi-row INSERT ... ON CONFLICT DO NOTHING RETURNING for a document's new entries; returns
    dedup key -> id of the rows inserted. A second worker that stored the same entry a moment ago (its
    lease ran out mid-poll) costs nothing instead of rolling back the whole poll."""
    from sqlalchemy.dialects.postgresql import insert as postgresql_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    bind = session.get_bind()
    dialect_insert = postgresql_insert if bind.dialect.name == "postgresql" else sqlite_insert
    statement = (
        dialect_insert(EntryRow)
        .on_conflict_do_nothing(index_elements=["source_id", "dedup_key"])
        .returning(col(EntryRow.id), col(EntryRow.dedup_key))
    )
    return {key: entry_id for entry_id, key in session.execute(statement, list(values)).all()}


def add_alert_once(session: Session, alert: AlertRow) -> AlertRow | None:
    """Insert an alert unless one with the same idempotency key exists; returns the new row or None."""
    existing = session.exec(select(AlertRow).where(AlertRow.key == alert.key)).first()
    if existing is not None:
        return None
    # A savepoint: when a concurrent worker inserted the same key between the check and the insert, only
    # this alert is dropped, not the caller's whole status-change transaction.
    try:
        with session.begin_nested():
            session.add(alert)
            session.flush()
    except IntegrityError:
        return None
    return alert


def redact_db_url(url: str) -> str:
    """Database URLs carry passwords: keep the scheme, user and host only."""
    if "://" not in url or "@" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"


# --- backfill windows (issue 11) ---------------------------------------------------------------------
# Kept apart from the tables above: one row per (search, commitment, date window) that `backfill` plans,
# so an interrupted backfill resumes where it stopped and the calendar knows which past periods were read.

WINDOW_STATES = ("todo", "done", "empty", "failed")


class BackfillWindowRow(SQLModel, table=True):
    """One search of one commitment over [after, before): done (with entries), empty, failed or todo.

    An empty or failed window is not "nothing happened": it leaves its period uncovered."""

    __tablename__ = "backfill_window"
    __table_args__ = (UniqueConstraint("search", "commitment_id", "after"),)
    id: int | None = Field(default=None, primary_key=True)
    search: str
    commitment_id: str = Field(index=True)
    after: dt.date
    before: dt.date
    state: str = "todo"
    entries: int = 0
    error: str | None = None
    attempted_at: dt.datetime | None = None
    change_ids: str = "[]"


def plan_windows(store: Store, windows: Sequence[tuple[str, str, dt.date, dt.date]]) -> int:
    """Record (search, commitment, after, before) windows not planned yet; returns how many were new."""
    added = 0
    with store.session() as s:
        existing = {(r.search, r.commitment_id, r.after) for r in s.exec(select(BackfillWindowRow)).all()}
        for search, cid, after, before in windows:
            if (search, cid, after) not in existing:
                s.add(BackfillWindowRow(search=search, commitment_id=cid, after=after, before=before))
                existing.add((search, cid, after))
                added += 1
    return added


def backfill_windows(store: Store) -> list[BackfillWindowRow]:
    with store.session() as s:
        return list(
            s.exec(
                select(BackfillWindowRow).order_by(
                    col(BackfillWindowRow.after), col(BackfillWindowRow.commitment_id)
                )
            ).all()
        )


def mark_window(
    session: Session,
    window_id: int,
    state: str,
    entries: int,
    error: str | None,
    at: dt.datetime,
    changes: Sequence[int],
) -> None:
    row = session.get(BackfillWindowRow, window_id)
    if row is not None:
        row.state, row.entries, row.error, row.attempted_at = state, entries, error, at
        row.change_ids = json.dumps(sorted(set(json.loads(row.change_ids or "[]")) | set(changes)))
        session.add(row)


def covered_until(session: Session, commitment_id: str, start: dt.date) -> dt.date | None:
    """The day up to which (exclusive) searches read this commitment's reports without a gap from
    ``start``; None when the first window from ``start`` is not covered. Any search's done window counts."""
    rows = session.exec(
        select(BackfillWindowRow)
        .where(BackfillWindowRow.commitment_id == commitment_id)
        .where(BackfillWindowRow.state == "done")
        .order_by(col(BackfillWindowRow.after))
    ).all()
    reached: dt.date | None = None
    for row in rows:
        frontier = reached or start
        if row.after > frontier:
            break
        if row.before > frontier:
            reached = row.before
    return reached


def stored_links(session: Session, links: Sequence[str]) -> set[str]:
    """Which of these links are already stored as an entry of any source."""
    if not links:
        return set()
    return set(session.exec(select(EntryRow.link).where(col(EntryRow.link).in_(list(links)))).all())


def has_entries(store: Store) -> bool:
    with store.session() as s:
        return s.exec(select(EntryRow.id).limit(1)).first() is not None
