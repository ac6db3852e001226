"""Hot reload of a running daemon: editor-style saves in the config folder, valid and invalid."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from monitor.scheduler import Daemon
from monitor.store import AlertRow, EvidenceRow
from tests.feedserver import FeedServer
from tests.ops_fixtures import (
    BEEF,
    BEEF_ITEM,
    FENTANYL_ITEM,
    WATCHLIST,
    rss,
    save_like_an_editor,
    wait_until,
    write_config,
)

INVALID = WATCHLIST.replace("    party: US\n    category: shipping", "    party: US\n    categroy: shipping")
INVALID_LINE = next(i for i, line in enumerate(INVALID.splitlines(), 1) if "categroy" in line)


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as s:
        s.set("/feed.xml", rss(FENTANYL_ITEM, BEEF_ITEM))
        yield s


@pytest.fixture
def log_buffer() -> Iterator[io.StringIO]:
    from monitor.observability import configure_logging

    buf = io.StringIO()
    handler = configure_logging("INFO", "text", stream=buf)
    try:
        yield buf
    finally:
        logging.getLogger().removeHandler(handler)


def reloads(daemon: Daemon, outcome: str) -> float:
    return (
        daemon.metrics.registry.get_sample_value("trade_monitor_config_reloads_total", {"outcome": outcome})
        or 0.0
    )


def evidence_for(daemon: Daemon, commitment_id: str) -> list[EvidenceRow]:
    with daemon.store.session() as s:
        return list(s.exec(select(EvidenceRow).where(EvidenceRow.commitment_id == commitment_id)).all())


async def test_invalid_edit_keeps_the_old_config_and_a_valid_one_adds_a_matching_commitment(
    tmp_path: Path, server: FeedServer, log_buffer: io.StringIO
) -> None:
    config_dir = write_config(tmp_path / "config", server.url("/feed.xml"))
    daemon = Daemon(
        config_dir, f"sqlite:///{tmp_path / 'db.sqlite'}", poll_tick=0.2, deliver_tick=0.2, watch_config=True
    )
    task = asyncio.create_task(daemon.run())
    try:
        await wait_until(lambda: evidence_for(daemon, "us-fentanyl-tariff-cut"), "the first poll's evidence")
        await wait_until(lambda: daemon._watch_task is not None, "the config watcher to start")
        running = daemon.config
        watchlist = config_dir / "watchlist.yaml"

        # An invalid edit: the daemon keeps running the config it had, says where the error is, alerts ops.
        save_like_an_editor(watchlist, INVALID + BEEF)
        await wait_until(lambda: reloads(daemon, "rejected") >= 1, "the invalid edit to be noticed")
        assert not task.done()
        assert daemon.config is running
        assert [c.id for c in daemon.config.commitments] == [
            "us-fentanyl-tariff-cut",
            "us-port-fees-suspension",
        ]
        assert f"{watchlist}:{INVALID_LINE}" in log_buffer.getvalue()  # file:line of the misspelt key
        assert "categroy" in log_buffer.getvalue()
        with daemon.store.session() as s:
            ops = s.exec(select(AlertRow).where(AlertRow.kind == "ops")).all()
        assert [a.subject for a in ops if a.subject.startswith("Config edit rejected")]
        assert any(f"{watchlist}:{INVALID_LINE}" in a.body.replace("\\", "") for a in ops)
        ready = daemon.readiness_checks()
        assert ready["scheduler"]()[0] is True and "rejected" in ready["config"]()[1]
        assert daemon.metrics.registry.get_sample_value("trade_monitor_config_last_reload_ok") == 0

        # The same broken file saved again does not alert again.
        save_like_an_editor(watchlist, INVALID + BEEF + "\n")
        await wait_until(lambda: reloads(daemon, "rejected") >= 2, "the second invalid save")
        with daemon.store.session() as s:
            assert len(s.exec(select(AlertRow).where(AlertRow.kind == "ops")).all()) == len(ops)

        # A valid edit adds a commitment, which starts pending and is matched against stored entries.
        assert evidence_for(daemon, "cn-beef-imports") == []
        save_like_an_editor(watchlist, WATCHLIST + BEEF)
        await wait_until(lambda: reloads(daemon, "applied") >= 1, "the valid edit to be applied")
        assert [c.id for c in daemon.config.commitments][-1] == "cn-beef-imports"
        beef = evidence_for(daemon, "cn-beef-imports")
        assert [e.link for e in beef] == [BEEF_ITEM[2]]
        assert beef[0].signal == "progress"
        row = daemon.store.commitment("cn-beef-imports")
        assert row is not None and row.status == "in_progress"
        changes, _ = daemon.store.history("cn-beef-imports")
        assert [(c.from_status, c.to_status) for c in changes] == [("pending", "in_progress")]
        assert daemon.metrics.registry.get_sample_value("trade_monitor_config_last_reload_ok") == 1

        # Removing a commitment archives it; its record stays.
        save_like_an_editor(watchlist, WATCHLIST)
        await wait_until(lambda: reloads(daemon, "applied") >= 2, "the removal to be applied")
        row = daemon.store.commitment("cn-beef-imports")
        assert row is not None and row.archived and row.status == "in_progress"
        assert evidence_for(daemon, "cn-beef-imports")
    finally:
        daemon.stopping.set()
        await task


async def test_sighup_reloads(tmp_path: Path, server: FeedServer) -> None:
    config_dir = write_config(tmp_path / "config", server.url("/feed.xml"))
    daemon = Daemon(config_dir, f"sqlite:///{tmp_path / 'db.sqlite'}", poll_tick=0.2, watch_config=False)
    task = asyncio.create_task(daemon.run())
    try:
        await wait_until(lambda: evidence_for(daemon, "us-fentanyl-tariff-cut"), "the first poll")
        (config_dir / "watchlist.yaml").write_text(WATCHLIST + BEEF, encoding="utf-8")
        os.kill(os.getpid(), signal.SIGHUP)
        await wait_until(lambda: reloads(daemon, "applied") >= 1, "the SIGHUP reload")
        assert evidence_for(daemon, "cn-beef-imports")
    finally:
        daemon.stopping.set()
        await task


async def test_lookback_zero_does_not_rematch(tmp_path: Path, server: FeedServer) -> None:
    config_dir = write_config(tmp_path / "config", server.url("/feed.xml"))
    daemon = Daemon(config_dir, f"sqlite:///{tmp_path / 'db.sqlite'}", rematch_lookback=0)
    try:
        await daemon.poll_once()
        assert evidence_for(daemon, "us-fentanyl-tariff-cut")
        (config_dir / "watchlist.yaml").write_text(WATCHLIST + BEEF, encoding="utf-8")
        assert daemon.reload() is True
        row = daemon.store.commitment("cn-beef-imports")
        assert row is not None and row.status == "pending"
        assert evidence_for(daemon, "cn-beef-imports") == []
    finally:
        await daemon.shutdown()


async def test_a_reload_that_fails_to_apply_keeps_the_running_config(
    tmp_path: Path, server: FeedServer
) -> None:
    """A database hiccup while applying an edit: the daemon keeps the config it runs, and says so."""
    config_dir = write_config(tmp_path / "config", server.url("/feed.xml"))
    daemon = Daemon(config_dir, f"sqlite:///{tmp_path / 'db.sqlite'}", watch_config=False)
    try:
        before = daemon.config
        (config_dir / "watchlist.yaml").write_text(WATCHLIST + BEEF, encoding="utf-8")

        def unavailable(config: object) -> list[str]:
            raise RuntimeError("database is locked (simulated)")

        daemon.monitor.apply_config = unavailable  # type: ignore[method-assign, assignment]
        assert daemon.reload() is False
        assert daemon.config is before and daemon.monitor.config is before
        assert "cn-beef-imports" not in {c.id for c in daemon.config.commitments}
    finally:
        await daemon.shutdown()


@pytest.mark.parametrize("emptied", ["", None])
async def test_emptying_notify_yaml_keeps_the_running_targets(
    tmp_path: Path, server: FeedServer, emptied: str | None
) -> None:
    """A truncated or deleted notify.yaml used to turn delivery into console printing and lose alerts."""
    config_dir = write_config(tmp_path / "config", server.url("/feed.xml"), ["json://127.0.0.1:9/hook"])
    daemon = Daemon(config_dir, f"sqlite:///{tmp_path / 'db.sqlite'}", watch_config=False)
    try:
        notify = config_dir / "notify.yaml"
        if emptied is None:
            notify.unlink()
        else:
            notify.write_text(emptied, encoding="utf-8")
        assert daemon.reload() is False
        assert [t.redacted for t in daemon.config.notify_targets] == ["json://127.0.0.1:9/***"]
        assert reloads(daemon, "rejected") == 1
    finally:
        await daemon.shutdown()
