"""The health and metrics endpoint of a running daemon, scraped while it polls a local feed."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.observability import Metrics, configure_logging
from monitor.scheduler import Daemon
from monitor.web import WebServer, endpoint_for, parse_address
from tests.feedserver import FeedServer
from tests.ops_fixtures import (
    BEEF_ITEM,
    FENTANYL_ITEM,
    get,
    metric,
    metric_sum,
    rss,
    wait_until,
    write_config,
)

SECRET = "SECRETTOKEN4242"


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as s:
        yield s


@pytest.fixture
def log_buffer() -> Iterator[io.StringIO]:
    buf = io.StringIO()
    handler = configure_logging("DEBUG", "json", stream=buf)
    try:
        yield buf
    finally:
        logging.getLogger().removeHandler(handler)


async def test_metrics_move_and_endpoints_answer_during_a_run(
    tmp_path: Path, server: FeedServer, log_buffer: io.StringIO, caplog: pytest.LogCaptureFixture
) -> None:
    server.set("/feed.xml", rss(FENTANYL_ITEM, BEEF_ITEM))
    server.set("/hook", b"{}", headers={"Content-Type": "application/json"})
    config = write_config(
        tmp_path / "config", server.url("/feed.xml"), [f"json://alice:{SECRET}@127.0.0.1:{server.port}/hook"]
    )
    daemon = Daemon(
        config,
        f"sqlite:///{tmp_path / 'db.sqlite'}",
        poll_tick=0.2,
        deliver_tick=0.2,
        endpoint=endpoint_for("127.0.0.1:0"),
    )
    task = asyncio.create_task(daemon.run())
    try:
        await wait_until(lambda: daemon.web is not None and daemon.web.port != 0, "the endpoint to listen")
        base = daemon.web.url
        assert daemon.web.host == "127.0.0.1"

        health = await get(f"{base}/healthz")
        assert (health.status_code, health.text) == (200, "ok\n")

        async def alert_delivered() -> bool:
            text = (await get(f"{base}/metrics")).text
            return metric_sum(text, "trade_monitor_alerts", outcome="sent") >= 1

        await wait_until(alert_delivered, "the status-change alert to be delivered")
        scrape = await get(f"{base}/metrics")
        assert scrape.status_code == 200
        assert scrape.headers["content-type"].startswith("text/plain; version=")
        text = scrape.text
        assert metric(text, "trade_monitor_polls_total", outcome="new") == 1
        assert metric(text, "trade_monitor_entries_ingested_total", source="Local wire") == 2
        assert metric(text, "trade_monitor_evidence_total", signal="fulfilled") == 1
        assert metric(text, "trade_monitor_status_changes_total", to="fulfilled", kind="evidence") == 1
        assert metric(text, "trade_monitor_alerts_enqueued_total") == 1
        assert metric(text, "trade_monitor_fetch_duration_seconds_count", outcome="new") == 1
        assert metric(text, "trade_monitor_outbox_depth") == 0
        assert metric(text, "trade_monitor_commitments", status="fulfilled") == 1
        assert metric(text, "trade_monitor_store_up") == 1
        assert (metric(text, "trade_monitor_last_successful_poll_timestamp_seconds") or 0) > 0
        # The alert really went to the target carrying the secret, so the log check below means something.
        hook = server.requests_for("/hook")
        assert hook and hook[0].headers.get("authorization", "").startswith("Basic ")

        ready = await get(f"{base}/readyz")
        body = json.loads(ready.text)
        assert ready.status_code == 200 and body["ready"] is True
        assert set(body["checks"]) == {"database", "scheduler", "config"}

        assert (await get(f"{base}/nothing-here")).status_code == 404
        assert (await get(f"{base}/metrics", method="POST")).status_code == 405
        head = await get(f"{base}/healthz", method="HEAD")
        assert head.status_code == 200 and head.content == b""
        # Libraries log URLs in their own words; a leak through any logger, message, argument, extra
        # field or traceback must be caught too.
        url = f"json://alice:{SECRET}@127.0.0.1:{server.port}/hook"
        logging.getLogger("apprise").warning("Failed to send to %s", url)
        logging.getLogger("monitor.pipeline").info("delivered", extra={"source": url})
        try:
            raise ConnectionError(f"cannot reach {url}")
        except ConnectionError:
            logging.getLogger("urllib3").exception("request failed")
    finally:
        daemon.stopping.set()
        await task
    lines = [json.loads(line) for line in log_buffer.getvalue().splitlines()]
    assert lines, "the run logged nothing"
    assert not [line for line in lines if SECRET in json.dumps(line)]
    assert SECRET not in caplog.text
    # Lines about a source carry it as a field.
    assert any(line.get("source") == "Local wire" for line in lines)
    assert any(line.get("commitment") == "us-fentanyl-tariff-cut" for line in lines)


async def test_readyz_is_503_until_the_scheduler_runs(tmp_path: Path) -> None:
    config = write_config(tmp_path / "config", "http://127.0.0.1:9/feed.xml")
    daemon = Daemon(config, f"sqlite:///{tmp_path / 'db.sqlite'}", endpoint=endpoint_for("127.0.0.1:0"))
    await daemon.start_web()
    try:
        ready = await get(f"{daemon.web.url}/readyz")
        body = json.loads(ready.text)
        assert ready.status_code == 503
        assert body["checks"]["scheduler"]["ok"] is False
        assert body["checks"]["database"]["ok"] is True
        assert (await get(f"{daemon.web.url}/healthz")).status_code == 200
    finally:
        await daemon.shutdown()
    assert daemon.web is not None and daemon.web._server is None


async def test_readyz_reports_an_unreachable_database(tmp_path: Path) -> None:
    from monitor.config import load_config
    from monitor.store import Store
    from monitor.web import Board

    config = load_config(write_config(tmp_path / "config", "http://127.0.0.1:9/feed.xml"))
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    checks = {"database": lambda: (False, "not reachable"), "scheduler": lambda: (True, "running")}
    web = WebServer(
        Board(config=lambda: config, store=store, registry=Metrics().registry, checks=checks), port=0
    )
    await web.start()
    try:
        response = await get(f"{web.url}/readyz")
    finally:
        await web.close()
        store.close()
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == {"ok": False, "detail": "not reachable"}


async def test_http_is_off_unless_asked(tmp_path: Path) -> None:
    from monitor.cli import build_parser

    assert build_parser().parse_args(["run"]).http is None
    config = write_config(tmp_path / "config", "http://127.0.0.1:9/feed.xml")
    daemon = Daemon(config, f"sqlite:///{tmp_path / 'db.sqlite'}")
    await daemon.start_web()
    assert daemon.web is None
    await daemon.shutdown()


def test_parse_address_defaults_to_loopback() -> None:
    assert parse_address("8787") == ("127.0.0.1", 8787)
    assert parse_address(":9000") == ("127.0.0.1", 9000)
    assert parse_address("0.0.0.0:80") == ("0.0.0.0", 80)
    assert parse_address("[::1]:8787") == ("::1", 8787)
    with pytest.raises(ValueError):
        parse_address("localhost")
    with pytest.raises(ValueError):
        parse_address("127.0.0.1:99999")


def test_each_daemon_has_its_own_registry() -> None:
    a, b = Metrics(), Metrics()
    a.polls.labels(outcome="new").inc()
    assert a.registry.get_sample_value("trade_monitor_polls_total", {"outcome": "new"}) == 1
    assert b.registry.get_sample_value("trade_monitor_polls_total", {"outcome": "new"}) == 0


async def test_healthcheck_command_follows_readiness(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from monitor.cli import main

    config = write_config(tmp_path / "config", "http://127.0.0.1:9/feed.xml")
    daemon = Daemon(config, f"sqlite:///{tmp_path / 'db.sqlite'}", endpoint=endpoint_for("127.0.0.1:0"))
    await daemon.start_web()
    address = f"127.0.0.1:{daemon.web.port}"
    try:
        assert await asyncio.to_thread(main, ["healthcheck", "--http", address]) == 1  # scheduler not running
        assert await asyncio.to_thread(main, ["healthcheck", "--http", address, "--live"]) == 0
        daemon.scheduler.start()
        assert await asyncio.to_thread(main, ["healthcheck", "--http", address]) == 0
    finally:
        await daemon.shutdown()
    assert await asyncio.to_thread(main, ["healthcheck", "--http", address, "--timeout", "2"]) == 1
    assert "ConnectError" in capsys.readouterr().err
