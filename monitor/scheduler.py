"""Scheduling: the daemon's clock work, on APScheduler's AsyncIOScheduler.

Poll state lives in the database, not in APScheduler's job store: the scheduler only ticks, and each tick
asks the store which sources are due. That keeps restarts and several workers sharing one PostgreSQL
database simple: nothing about a source's schedule is held in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import logging
import signal
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from monitor.config import Config, load_config
from monitor.delivery import Deliverer, Digester, digest_schedules
from monitor.errors import ConfigError
from monitor.fetch import Fetcher
from monitor.observability import REDACTOR, Metrics, sd_notify
from monitor.pipeline import Monitor
from monitor.store import Store, redact_db_url, utcnow

log = logging.getLogger("monitor.scheduler")


class Endpoint(Protocol):
    """A service that lives as long as the daemon, such as the health and metrics endpoint."""

    async def start(self) -> object: ...

    async def close(self) -> None: ...


EndpointFactory = Callable[["Daemon"], Endpoint]


class PollPool:
    """Continuous polling: due sources flow through a bounded pool of poll tasks.

    There are no batches: as soon as one poll ends its slot takes the next due source, so a source that
    answers one byte a second holds one slot, never the sources behind it. The store decides what is due
    (several workers can share it); per-host politeness lives in the fetcher's gates.
    """

    def __init__(
        self,
        monitor: Monitor,
        fetcher: Fetcher,
        size: int = 64,
        idle_wait: float = 30.0,
        on_poll: Callable[[], None] | None = None,
    ) -> None:
        self.monitor = monitor
        self.on_poll = on_poll
        self.fetcher = fetcher
        self.size = max(1, size)
        self.idle_wait = idle_wait
        self.tasks: dict[asyncio.Task[str], int] = {}  # poll task -> source id (its lease is ours)
        self._slot_freed = asyncio.Event()
        self._stopping: asyncio.Event | None = None

    def lease_seconds(self) -> float:
        """A claimed source starts at once, but may queue behind the pool's other polls to its host; the
        lease must outlast that queue, or a second worker could take a source still being polled."""
        limits = [self.fetcher.per_host_limit, *(limit for limit, _ in self.fetcher.host_overrides.values())]
        per_host = max(1, min(self.size, min(limits)))
        return self.fetcher.deadline * -(-self.size // per_host) + 60.0

    async def run(self, stopping: asyncio.Event, once: bool = False) -> list[str]:
        """Poll until ``stopping`` is set; with ``once``, until no source is due, each at most once."""
        outcomes: list[str] = []
        polled: set[int] = set()
        self._stopping = stopping
        while not stopping.is_set():
            self._slot_freed.clear()  # before any await: a poll ending from here on wakes the wait below
            free = self.size - len(self.tasks)
            claimed = 0
            if free > 0:
                claimed = await self._claim(free, polled if once else None, outcomes)
            if once and not claimed and not self.tasks:
                break
            if free > 0 and claimed == free:
                continue  # more may be due right now
            # a one-shot pass only waits for its own polls; the daemon also for the next due time
            await self._wait(stopping, free > claimed and not once)
        return outcomes

    async def _claim(self, free: int, polled: set[int] | None, outcomes: list[str]) -> int:
        now = self.monitor.clock()
        rows = await asyncio.to_thread(self.monitor.store.claim_due_sources, now, self.lease_seconds(), free)
        repeats = [r.id or 0 for r in rows if polled is not None and r.id in polled]
        if repeats:  # a one-shot pass polls each source once, even if it fell due again meanwhile
            await asyncio.to_thread(self.monitor.store.release_source_leases, repeats)
        fresh = [r for r in rows if r.id not in repeats]
        if self.stopping_now(fresh):
            return 0
        for row in fresh:
            if polled is not None:
                polled.add(row.id or 0)
            task = asyncio.create_task(self.monitor.poll_source(row, self.fetcher), name=f"poll-{row.name}")
            self.tasks[task] = row.id or 0
            task.add_done_callback(lambda t: self._done(t, outcomes))
        return len(fresh)

    def stopping_now(self, rows: list[Any]) -> bool:
        """A stop that came while claiming: hand the claims back instead of starting polls."""
        if self._stopping is None or not self._stopping.is_set():
            return False
        ids = [r.id or 0 for r in rows]
        if ids:
            self.monitor.store.release_source_leases(ids)
        return True

    def _done(self, task: asyncio.Task[str], outcomes: list[str]) -> None:
        self.tasks.pop(task, None)
        self._slot_freed.set()
        if self.on_poll is not None:
            self.on_poll()
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            log.error("a poll failed unexpectedly: %r", exc)
            outcomes.append("error")
        else:
            outcomes.append(task.result())

    async def _wait(self, stopping: asyncio.Event, idle: bool) -> None:
        """Until a slot frees, the next source falls due, or a stop; a full pool waits for a slot."""
        timeout: float | None = None
        if idle:
            now = self.monitor.clock()
            due = await asyncio.to_thread(self.monitor.store.next_due_at, now)
            timeout = self.idle_wait if due is None else min(self.idle_wait, (due - now).total_seconds())
            if timeout <= 0:
                timeout = 0.05  # due but leased elsewhere a moment ago: look again shortly
        waiters = [asyncio.ensure_future(self._slot_freed.wait()), asyncio.ensure_future(stopping.wait())]
        try:
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def drain(self, grace: float) -> None:
        """Let polls in flight finish for up to ``grace`` seconds; cancel the rest and give back their
        leases, so a restart polls those sources at their due time rather than after the lease.

        Polls still queued for their turn at a host (behind its concurrency or its pace) have sent
        nothing yet: they are dropped at once, not started one by one ``min_interval`` apart (ten
        searches paced 2 s apart would hold the stop for 18 s).
        """
        await self._drop_queued()
        if self.tasks:
            await asyncio.wait(list(self.tasks), timeout=grace)
        cut = await self._cancel(dict(self.tasks))
        if cut:
            log.warning("stopping: %d polls cut short after %gs; their sources are released", cut, grace)

    async def _drop_queued(self) -> None:
        """Cancel the polls waiting at a host gate and give back their sources' leases."""
        queued = self.fetcher.queued_tasks()
        dropped = await self._cancel({task: source for task, source in self.tasks.items() if task in queued})
        if dropped:
            log.info("stopping: %d polls that had not started are dropped", dropped)

    async def _cancel(self, polls: dict[asyncio.Task[str], int]) -> int:
        """Cancel these polls, wait for them to unwind, and give back their sources' leases."""
        for task in polls:
            task.cancel()
        for task in polls:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if polls:
            await asyncio.to_thread(self.monitor.store.release_source_leases, list(polls.values()))
        return len(polls)


class Daemon:
    """Polls due sources, delivers the outbox and checks deadlines until told to stop."""

    def __init__(
        self,
        config_dir: Path,
        db_url: str,
        *,
        poll_tick: float = 30.0,
        poll_concurrency: int = 64,
        deliver_tick: float = 5.0,
        shutdown_grace: float = 20.0,
        endpoint: EndpointFactory | None = None,
        watch_config: bool = False,
        rematch_lookback: float = 7 * 86400.0,
        retention: float | None = 90 * 86400.0,
    ) -> None:
        REDACTOR.add_db_url(db_url)  # before anything can log or raise with the URL in it
        self.config_dir = config_dir
        self.config: Config = load_config(config_dir)
        REDACTOR.add_config(self.config)
        self.store = Store(db_url)
        self.monitor = Monitor(self.config, self.store)
        self.metrics = Metrics()
        self.metrics.add_store(self.store)
        self.monitor.hooks = self.metrics
        # Operations (issue 6): health endpoint, hot reload, look-back for new commitments, retention.
        self.endpoint = endpoint
        self.web: Endpoint | None = None
        self.watch_config = watch_config
        self.rematch_lookback = rematch_lookback
        self.retention = retention
        self.last_reload_error: str | None = None
        self._reload_lock = threading.Lock()
        self._watch_task: asyncio.Task[None] | None = None
        self.deliverer = Deliverer(self.store, self.config)
        self.digester = Digester(self.store, self.config)
        self._apply_alert_settings(self.config)
        self.fetcher = Fetcher()
        self._apply_politeness(self.config)
        self.poll_tick = poll_tick
        self.pool = PollPool(self.monitor, self.fetcher, poll_concurrency, poll_tick, self._polled)
        self._poll_task: asyncio.Task[None] | None = None
        self.deliver_tick = deliver_tick
        self.shutdown_grace = shutdown_grace
        self.scheduler = AsyncIOScheduler(timezone=dt.UTC)
        self.stopping = asyncio.Event()
        self.in_flight: set[asyncio.Task[Any]] = set()
        self._background: set[asyncio.Task[Any]] = set()  # strong references to fire-and-forget tasks
        self.started_at = utcnow()
        self.last_poll_at: dt.datetime | None = None
        self.backfill_task: asyncio.Task[None] | None = None

    def _guard(self, name: str, job: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[None]]:
        """Each job registers itself so shutdown can wait for it, and never takes new work while stopping."""

        async def run() -> None:
            if self.stopping.is_set():
                return
            task = asyncio.current_task()
            if task is not None:
                self.in_flight.add(task)
            try:
                await job()
            except asyncio.CancelledError:  # cut short by a stop after the grace period: no traceback
                log.warning("%s cut short by the stop", name)
            except Exception:
                log.exception("%s failed; will try again at the next tick", name)
            finally:
                if task is not None:
                    self.in_flight.discard(task)

        return run

    async def poll_once(self) -> list[str]:
        """Poll every due source once, through the pool, and return when all are done."""
        return await self.pool.run(self.stopping, once=True)

    def _polled(self) -> None:
        self.last_poll_at = utcnow()
        self.metrics.last_poll.set(self.last_poll_at.timestamp())

    async def deliver_once(self) -> None:
        await self.deliverer.deliver_due(utcnow())

    async def deadlines_once(self) -> None:
        await asyncio.to_thread(self.monitor.check_deadlines, utcnow())

    async def digests_once(self) -> None:
        """Build every digest whose period has ended and is not built yet (idempotent per period)."""
        built = await asyncio.to_thread(self.digester.build_due, utcnow())
        if built:
            log.info("built %d digests", len(built))

    def _apply_alert_settings(self, config: Config) -> None:
        """alerts.yaml settings that live outside the delivery module: reminder days and digest jobs."""
        self.digester.config = config
        if not self.scheduler_started():
            return
        for job in self.scheduler.get_jobs():
            if job.id.startswith("digest-"):
                job.remove()
        self._schedule_digests(config)

    def _apply_politeness(self, config: Config) -> None:
        """sources.yaml ``hosts:``: per-host concurrency and gaps, defaults under "*"."""
        defaults = config.sources.host_defaults()
        self.fetcher.set_politeness(
            defaults.concurrency, defaults.min_interval, config.sources.host_overrides()
        )

    def scheduler_started(self) -> bool:
        return hasattr(self, "scheduler") and bool(self.scheduler.running)

    def _schedule_digests(self, config: Config) -> None:
        """One cron job per digest kind in the alerts.yaml time zone; each run catches up a missed one."""
        tz = config.alerts.timezone
        for kind, (weekday, hour, minute) in digest_schedules(config.alerts).items():
            fields: dict[str, Any] = {"hour": hour, "minute": minute, "timezone": tz}
            if weekday is not None:
                fields["day_of_week"] = weekday
            self.scheduler.add_job(
                self._guard(f"digest-{kind}", self.digests_once),
                "cron",
                **fields,
                max_instances=1,
                coalesce=True,
                id=f"digest-{kind}",
                replace_existing=True,
            )

    def reload(self) -> bool:
        """Apply an edited config; an invalid edit keeps the last good config running.

        Called from SIGHUP and from the config-folder watcher (possibly at once, hence the lock). A
        rejected edit is logged with each problem's file:line and sent to the ops route once per
        distinct error, so a user who saved a typo and walked away still hears about it. Commitments
        new to the database start `pending` and are matched against entries within the look-back.
        """
        with self._reload_lock:
            try:
                config = load_config(self.config_dir)
            except ConfigError as exc:
                self._reload_rejected(exc)
                return False
            REDACTOR.add_config(config)
            try:
                added = self.monitor.apply_config(config)
            except Exception:  # e.g. the database was unreachable: keep running the previous config
                log.exception("config reload failed while applying it; keeping the running config")
                self.metrics.on_reload(False)
                return False
            self.config = config
            self.deliverer.config = config
            self._apply_alert_settings(config)
            self._apply_politeness(config)
            self.last_reload_error = None
            log.info(
                "config reloaded: %d commitments (%d new), %d sources",
                len(config.commitments),
                len(added),
                len(config.sources.sources),
            )
            if added and self.rematch_lookback > 0:
                since = utcnow() - dt.timedelta(seconds=self.rematch_lookback)
                outcome = self.monitor.rematch_recent(added, since)
                log.info(
                    "new commitments %s matched against entries since %s: %d evidence, %d changes",
                    ", ".join(added),
                    f"{since:%Y-%m-%d %H:%M}",
                    outcome.evidence,
                    len(outcome.changes),
                )
            self.metrics.on_reload(True)  # counted once fully applied, look-back included
            return True

    def _reload_in_background(self) -> None:
        """SIGHUP: reload off the event loop, so /healthz and polls stay responsive meanwhile."""
        task = asyncio.get_running_loop().create_task(asyncio.to_thread(self.reload))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _reload_rejected(self, exc: ConfigError) -> None:
        message = str(exc)
        log.error("config reload rejected, keeping the running config:\n%s", message)
        try:
            if message != self.last_reload_error:  # one ops alert per distinct error, not per save
                self.last_reload_error = message
                now = utcnow()
                key = (
                    "config-invalid:" + hashlib.sha256(f"{now:%Y-%m-%d}\n{message}".encode()).hexdigest()[:16]
                )
                with self.store.session() as session:
                    self.monitor.alerter.enqueue_ops(
                        session,
                        key,
                        "Config edit rejected: the daemon keeps running the previous config",
                        f"An edit in {self.config_dir} is invalid and was not applied:\n{message}",
                        now,
                    )
        except Exception:
            log.exception("could not queue the ops alert about the rejected config")
        finally:
            self.metrics.on_reload(False)  # counted once handled, so watchers see the alert queued

    async def watch_config_dir(self) -> None:
        """Reload on any change in the config folder (editors save by writing a new file and renaming)."""
        from watchfiles import awatch

        log.info("watching %s for config edits", self.config_dir)
        seen = await asyncio.to_thread(self._config_fingerprint)
        async for changes in awatch(
            self.config_dir, stop_event=self.stopping, debounce=400, step=50, recursive=True
        ):
            current = await asyncio.to_thread(self._config_fingerprint)
            if current == seen:
                continue  # swap files, backups, a save without changes: nothing to reload
            seen = current
            names = sorted({Path(p).name for _, p in changes})
            log.info("config folder changed (%s); reloading", ", ".join(names))
            try:
                await asyncio.to_thread(self.reload)
            except Exception:  # one failed reload must not end the watching for good
                log.exception("config reload failed; still watching %s", self.config_dir)

    def _config_fingerprint(self) -> str:
        """A hash of the YAML files' names and contents, so only real edits trigger a reload."""
        digest = hashlib.sha256()
        for path in sorted(self.config_dir.glob("*.y*ml")):
            with contextlib.suppress(OSError):
                digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        return digest.hexdigest()

    async def prune_once(self) -> None:
        if self.retention is None or self.retention <= 0:
            return
        cutoff = utcnow() - dt.timedelta(seconds=self.retention)
        pruned = await asyncio.to_thread(self.store.prune_entries, cutoff)
        self.metrics.pruned.inc(pruned)
        if pruned:
            log.info(
                "retention: removed %d entries without evidence fetched before %s",
                pruned,
                f"{cutoff:%Y-%m-%d}",
            )

    def readiness_checks(self) -> dict[str, Any]:
        """The checks behind /readyz: database reachable, scheduler running, config loaded."""

        def database() -> tuple[bool, str]:
            ok = self.store.ping()
            return ok, "reachable" if ok else "not reachable"

        def scheduler() -> tuple[bool, str]:
            ok = bool(self.scheduler.running) and not self.stopping.is_set()
            return ok, "running" if ok else ("stopping" if self.stopping.is_set() else "not running")

        def config() -> tuple[bool, str]:
            detail = f"{len(self.config.commitments)} commitments, {len(self.config.sources.sources)} sources"
            if self.last_reload_error:
                detail += "; last edit rejected, running the previous config"
            return True, detail

        return {"database": database, "scheduler": scheduler, "config": config}

    async def start_web(self) -> None:
        """Start the HTTP endpoint the interface layer handed in (the daemon never imports it)."""
        if self.endpoint is None:
            return
        self.web = self.endpoint(self)
        await self.web.start()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopping.set)
        with contextlib.suppress(NotImplementedError, AttributeError):
            loop.add_signal_handler(signal.SIGHUP, self._reload_in_background)
        now = utcnow()
        released = await asyncio.to_thread(self.deliverer.recover)
        if released:
            log.warning(
                "released %d alert leases of a stopped worker; their sends are checked again", released
            )
        self.scheduler.add_job(
            self._guard("deliver", self.deliver_once),
            "interval",
            seconds=self.deliver_tick,
            next_run_time=now,
            max_instances=1,
            coalesce=True,
            id="deliver",
        )
        self.scheduler.add_job(
            self._guard("deadlines", self.deadlines_once),
            "cron",
            hour=0,
            minute=5,
            next_run_time=now,
            max_instances=1,
            coalesce=True,
            id="deadlines",
        )
        if self.retention:
            self.scheduler.add_job(
                self._guard("retention", self.prune_once),
                "cron",
                hour=3,
                minute=17,
                max_instances=1,
                coalesce=True,
                id="retention",
            )
        self._schedule_digests(self.config)
        if digest_schedules(self.config.alerts):  # catch up a digest missed while the daemon was down
            self.scheduler.add_job(
                self._guard("digest-catch-up", self.digests_once), next_run_time=now, id="digest-catch-up"
            )
        await self._start_backfill()
        self.scheduler.start()
        self._poll_task = asyncio.create_task(self._poll_forever(), name="poll-pool")
        await self.start_web()
        if self.watch_config:
            self._watch_task = asyncio.create_task(self.watch_config_dir(), name="watch-config")
        sd_notify("READY=1")
        log.info(
            "trade-monitor running: %d commitments, %d sources, database %s",
            len(self.config.commitments),
            len(self.config.sources.sources),
            redact_db_url(self.store.url),
        )
        try:
            await self.stopping.wait()
        finally:
            await self.shutdown()

    async def _poll_forever(self) -> None:
        try:
            await self.pool.run(self.stopping)
        except Exception:  # the store was unreachable, say: log it and keep polling
            log.exception("the poll loop failed; starting it again in %gs", self.poll_tick)
            await asyncio.sleep(self.poll_tick)
            if not self.stopping.is_set():
                self._poll_task = asyncio.create_task(self._poll_forever(), name="poll-pool")

    async def _start_backfill(self) -> None:
        """The first run on an empty database reads the past in the background (issue 11); polling goes
        on meanwhile. `backfill.on_first_run: false` in sources.yaml turns it off."""
        from monitor.backfill import Backfill, wanted_on_first_run

        if not await asyncio.to_thread(wanted_on_first_run, self.monitor, self.store):
            return
        from urllib.parse import urlsplit

        # Searches are paced by backfill.min_host_interval, one at a time per host, through the shared
        # fetcher, so the daemon's own polls of that host queue with them.
        pace = (1, self.config.sources.backfill.min_host_interval)
        for search in self.config.sources.search:
            self.fetcher.host_overrides.setdefault((urlsplit(search.url).hostname or "").lower(), pace)

        def progress(done: int, total: int, what: str) -> None:
            log.info("backfill: %d/%d windows (%s)", done, total, what)

        async def run() -> None:
            try:
                summary = await Backfill(self.monitor, self.fetcher, progress=progress).run()
                log.info("backfill finished: %s", summary.line())
            except Exception:
                log.exception("backfill failed; the next start resumes it")

        log.info("empty database: reading each commitment's past from the search feeds in the background")
        self.backfill_task = asyncio.create_task(run(), name="backfill")

    async def shutdown(self) -> None:
        """Stop taking new work, let in-flight work finish for up to the grace period, then cancel what is
        left and give back the source leases it held.

        The scheduler is paused, not shut down, while jobs finish: APScheduler's shutdown cancels running
        coroutine jobs at once, which would cut every send and poll short whatever the grace.
        """
        log.info("stopping: waiting for %d polls and %d jobs", len(self.pool.tasks), len(self.in_flight))
        self.stopping.set()
        sd_notify("STOPPING=1")
        if self._watch_task is not None:
            self._watch_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._watch_task
        if self.web is not None:
            await self.web.close()
        if self.scheduler.running:
            self.scheduler.pause()
        loop = asyncio.get_running_loop()
        ends = loop.time() + self.shutdown_grace
        if self._poll_task is not None:  # the loop ends at once: it only waits on the stop event
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._poll_task
        backfill = self.backfill_task
        if backfill is not None and not backfill.done():
            backfill.cancel()  # first, so its paced searches stop taking turns; the next start resumes
        await self.pool.drain(self.shutdown_grace)
        if backfill is not None and not backfill.done():
            await asyncio.wait([backfill], timeout=self.shutdown_grace)
        if self.in_flight:
            _, pending = await asyncio.wait(list(self.in_flight), timeout=max(0.0, ends - loop.time()))
            for task in pending:
                task.cancel()
            for task in pending:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        await self.fetcher.aclose()
        self.store.close()
        log.info("stopped")
