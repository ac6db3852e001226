"""Scheduling: the daemon's clock work, on APScheduler's AsyncIOScheduler.

Poll state lives in the database, not in APScheduler's job store: the scheduler only ticks, and each tick
asks the store which sources are due. That keeps restarts and several workers sharing one PostgreSQL
database simple: nothing about a source's schedule is held in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from monitor.config import Config, load_config
from monitor.delivery import Deliverer
from monitor.errors import ConfigError
from monitor.fetch import Fetcher
from monitor.pipeline import Monitor
from monitor.store import Store, redact_db_url, utcnow

log = logging.getLogger("monitor.scheduler")


class Daemon:
    """Polls due sources, delivers the outbox and checks deadlines until told to stop."""

    def __init__(
        self,
        config_dir: Path,
        db_url: str,
        *,
        poll_tick: float = 30.0,
        deliver_tick: float = 5.0,
        shutdown_grace: float = 20.0,
    ) -> None:
        self.config_dir = config_dir
        self.config: Config = load_config(config_dir)
        self.store = Store(db_url)
        self.monitor = Monitor(self.config, self.store)
        self.deliverer = Deliverer(self.store, self.config)
        self.fetcher = Fetcher()
        self.poll_tick = poll_tick
        self.deliver_tick = deliver_tick
        self.shutdown_grace = shutdown_grace
        self.scheduler = AsyncIOScheduler(timezone=dt.UTC)
        self.stopping = asyncio.Event()
        self.in_flight: set[asyncio.Task[Any]] = set()
        self.started_at = utcnow()
        self.last_poll_at: dt.datetime | None = None

    def _guard(self, name: str, job: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
        """Each job registers itself so shutdown can wait for it, and never takes new work while stopping."""

        async def run() -> None:
            if self.stopping.is_set():
                return
            task = asyncio.current_task()
            if task is not None:
                self.in_flight.add(task)
            try:
                await job()
            except Exception:
                log.exception("%s failed; will try again at the next tick", name)
            finally:
                if task is not None:
                    self.in_flight.discard(task)

        return run

    async def poll_once(self) -> list[str]:
        outcomes = await self.monitor.poll_due(self.fetcher)
        self.last_poll_at = utcnow()
        return outcomes

    async def deliver_once(self) -> None:
        await self.deliverer.deliver_due(utcnow())

    async def deadlines_once(self) -> None:
        await asyncio.to_thread(self.monitor.check_deadlines, utcnow())

    def reload(self) -> bool:
        """Apply an edited config; an invalid edit keeps the last good config running."""
        try:
            config = load_config(self.config_dir)
        except ConfigError as exc:
            log.error("config reload rejected, keeping the running config:\n%s", exc)
            return False
        self.config = config
        added = self.monitor.apply_config(config)
        self.deliverer.config = config
        log.info("config reloaded: %d commitments (%d new), %d sources", len(config.commitments), len(added),
                 len(config.sources.sources))
        return True

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopping.set)
        with contextlib.suppress(NotImplementedError, AttributeError):
            loop.add_signal_handler(signal.SIGHUP, self.reload)
        now = utcnow()
        self.scheduler.add_job(self._guard("poll", self.poll_once), "interval", seconds=self.poll_tick,
                               next_run_time=now, max_instances=1, coalesce=True, id="poll")
        self.scheduler.add_job(self._guard("deliver", self.deliver_once), "interval", seconds=self.deliver_tick,
                               next_run_time=now, max_instances=1, coalesce=True, id="deliver")
        self.scheduler.add_job(self._guard("deadlines", self.deadlines_once), "cron", hour=0, minute=5,
                               next_run_time=now, max_instances=1, coalesce=True, id="deadlines")
        self.scheduler.start()
        log.info("trade-monitor running: %d commitments, %d sources, database %s",
                 len(self.config.commitments), len(self.config.sources.sources), redact_db_url(self.store.url))
        try:
            await self.stopping.wait()
        finally:
            await self.shutdown()

    async def shutdown(self) -> None:
        """Stop taking new work, let in-flight work finish (or cancel it after a grace period), close up."""
        log.info("stopping: waiting for %d running jobs", len(self.in_flight))
        self.stopping.set()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self.in_flight:
            _, pending = await asyncio.wait(list(self.in_flight), timeout=self.shutdown_grace)
            for task in pending:
                task.cancel()
        await self.fetcher.aclose()
        self.store.close()
        log.info("stopped")
