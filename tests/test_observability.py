"""Logging formats, secret redaction, metric hooks and the scrape-time store collector."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.errors import StorageError
from monitor.fetch import FetchResult
from monitor.observability import (
    REDACTOR,
    Metrics,
    Redactor,
    configure_logging,
    log_context,
    sd_notify,
    secrets_of_url,
)
from monitor.pipeline import IngestOutcome
from monitor.scheduler import Daemon
from monitor.store import AlertRow, EvidenceRow, SourceRow, StatusChangeRow, Store, utcnow
from tests.ops_fixtures import write_config

PG_URL = "postgresql://trade:PGSECRET-9f3a@127.0.0.1:1/trade"


@pytest.fixture
def captured() -> Iterator[tuple[io.StringIO, str]]:
    """Our handler writing to a buffer; yields (buffer, format) and removes the handler afterwards."""
    buf = io.StringIO()
    handler = configure_logging("DEBUG", "json", stream=buf)
    try:
        yield buf, "json"
    finally:
        logging.getLogger().removeHandler(handler)


def test_secrets_of_apprise_urls() -> None:
    assert "s3cr3t-pass" in secrets_of_url("mailto://user:s3cr3t-pass@example.com")
    tg = secrets_of_url("tgram://123456789:AAEbotTOKENvalue/987654321")
    assert "123456789:AAEbotTOKENvalue" in tg or "AAEbotTOKENvalue" in "".join(tg)
    discord = secrets_of_url("discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js")
    assert "JHMHI8qBe7bk2ZwO5U711o3dV_js" in discord
    assert "abcdefgh12345" in secrets_of_url("json://127.0.0.1/hook?token=abcdefgh12345")
    # Host names of http-like targets and short words are not secrets (they make logs useful).
    plain = secrets_of_url("json://127.0.0.1:8080/hook")
    assert "hook" not in plain and "127.0.0.1" not in plain


def test_redactor_masks_known_secrets_and_credential_patterns() -> None:
    r = Redactor()
    r.add_url("discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js")
    r.add_db_url(PG_URL)
    text = (
        "posting to discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js failed; db "
        f"{PG_URL}; other https://bob:hunter2hunter2@feeds.example.org/x?apikey=zzz999yyy&page=2"
    )
    out = r.redact(text)
    for secret in ("JHMHI8qBe7bk2ZwO5U711o3dV_js", "PGSECRET-9f3a", "hunter2hunter2", "zzz999yyy"):
        assert secret not in out
    assert (
        "page=2" in out and "feeds.example.org" in out and "postgresql://trade:***@127.0.0.1:1/trade" in out
    )


def test_database_password_never_reaches_the_log(tmp_path: Path, captured: tuple[io.StringIO, str]) -> None:
    buf, _ = captured
    config = write_config(tmp_path / "config", "http://127.0.0.1:9/feed.xml")
    with pytest.raises(StorageError) as info:
        Daemon(config, PG_URL)
    log = logging.getLogger("monitor.cli")
    log.error("cannot start with %s", PG_URL)
    log.exception("startup failed: %s", info.value, exc_info=info.value)
    logging.getLogger("sqlalchemy.engine").warning("connect %s", PG_URL)
    text = buf.getvalue()
    assert "PGSECRET-9f3a" not in text
    assert text.count("trade:***@127.0.0.1") >= 2  # the lines are there, only the password is gone
    assert "PGSECRET-9f3a" in REDACTOR.secrets


def test_json_lines_carry_source_and_commitment(captured: tuple[io.StringIO, str]) -> None:
    buf, _ = captured
    log = logging.getLogger("monitor.pipeline")
    log.info("3 new entries", extra={"source": "SCMP China"})
    with log_context(commitment="us-fentanyl-tariff-cut"):
        log.warning("moved to %s", "fulfilled")
    first, second = (json.loads(line) for line in buf.getvalue().splitlines())
    assert first["source"] == "SCMP China" and first["message"] == "3 new entries"
    assert second["commitment"] == "us-fentanyl-tariff-cut" and second["message"] == "moved to fulfilled"
    assert second["level"] == "WARNING" and second["logger"] == "monitor.pipeline"
    assert dt.datetime.fromisoformat(second["ts"]).tzinfo is not None


def test_text_format_is_human_readable() -> None:
    buf = io.StringIO()
    handler = configure_logging("INFO", "text", stream=buf)
    try:
        logging.getLogger("monitor.pipeline").info("3 new entries", extra={"source": "CNA"})
    finally:
        logging.getLogger().removeHandler(handler)
    line = buf.getvalue().strip()
    assert "INFO monitor.pipeline: 3 new entries [source=CNA]" in line
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)


def _result(outcome: str, kind: str | None = None, elapsed: float = 0.2) -> FetchResult:
    return FetchResult(outcome, "http://127.0.0.1/x", error_kind=kind, elapsed=elapsed)  # type: ignore[arg-type]


def test_hooks_count_polls_failures_entries_evidence_and_changes() -> None:
    m = Metrics()
    m.on_poll("A", _result("new"))
    m.on_poll("A", _result("error", "timeout", 10.0))
    m.on_poll("B", _result("not_modified"))
    outcome = IngestOutcome(
        new_entries=4,
        alerts=2,
        changes=[
            StatusChangeRow(commitment_id="c1", from_status="pending", to_status="in_progress", at=utcnow())
        ],
    )
    m.on_ingest(
        "A",
        outcome,
        [
            EvidenceRow(commitment_id="c1", signal="progress", confidence=0.7),
            EvidenceRow(commitment_id="c2", signal="mention", confidence=0.5),
        ],
    )
    v = m.registry.get_sample_value
    assert v("trade_monitor_polls_total", {"outcome": "new"}) == 1
    assert v("trade_monitor_polls_total", {"outcome": "error"}) == 1
    assert v("trade_monitor_source_failures_total", {"source": "A", "kind": "timeout"}) == 1
    assert v("trade_monitor_fetch_duration_seconds_count", {"outcome": "error"}) == 1
    assert v("trade_monitor_fetch_duration_seconds_sum", {"outcome": "error"}) == 10.0
    assert v("trade_monitor_entries_ingested_total", {"source": "A"}) == 4
    assert v("trade_monitor_evidence_total", {"signal": "progress"}) == 1
    assert v("trade_monitor_status_changes_total", {"to": "in_progress", "kind": "evidence"}) == 1
    assert v("trade_monitor_alerts_enqueued_total") == 2


def test_store_collector_reports_outbox_depth_age_and_poll_lag(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    now = utcnow()
    with store.session() as s:
        s.add(AlertRow(key="a", kind="ops", route="ops", created_at=now - dt.timedelta(minutes=30)))
        s.add(
            AlertRow(key="b", kind="status_change", route="default", created_at=now - dt.timedelta(minutes=5))
        )
        s.add(AlertRow(key="c", kind="status_change", route="default", state="sent", created_at=now))
        s.add(
            SourceRow(
                name="late",
                url="http://127.0.0.1/x",
                next_poll_at=now - dt.timedelta(minutes=10),
                last_success_at=now - dt.timedelta(hours=1),
            )
        )
        s.add(
            SourceRow(
                name="broken",
                url="http://127.0.0.1/y",
                consecutive_failures=3,
                next_poll_at=now + dt.timedelta(minutes=10),
            )
        )
    m = Metrics()
    m.add_store(store)
    v = m.registry.get_sample_value
    assert v("trade_monitor_outbox_depth") == 2
    assert 29 * 60 <= (v("trade_monitor_outbox_oldest_age_seconds") or 0) <= 31 * 60
    assert v("trade_monitor_alerts", {"outcome": "pending", "route": "default"}) == 1
    assert v("trade_monitor_alerts", {"outcome": "sent", "route": "default"}) == 1
    assert 9 * 60 <= (v("trade_monitor_poll_lag_seconds") or 0) <= 11 * 60
    assert v("trade_monitor_source_consecutive_failures", {"source": "broken"}) == 3
    assert v("trade_monitor_sources", {"state": "failing"}) == 1
    assert v("trade_monitor_store_up") == 1
    store.close()


def test_store_collector_survives_a_dead_database(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    m = Metrics()
    m.add_store(store)

    def broken(now: dt.datetime) -> None:
        raise RuntimeError("database is gone")

    store.ops_stats = broken  # type: ignore[assignment,method-assign]
    assert m.registry.get_sample_value("trade_monitor_store_up") == 0
    assert m.registry.get_sample_value("trade_monitor_polls_total", {"outcome": "new"}) == 0


def test_sd_notify_sends_ready_to_the_notify_socket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        monkeypatch.setenv("NOTIFY_SOCKET", str(path))
        assert sd_notify("READY=1") is True
        assert sock.recv(64) == b"READY=1"
    monkeypatch.delenv("NOTIFY_SOCKET")
    assert sd_notify("READY=1") is False


def test_every_metric_in_the_alert_rules_exists(tmp_path: Path) -> None:
    """The shipped Prometheus rules must not refer to a metric we renamed or never exported."""
    import re

    from prometheus_client import generate_latest

    rules = (Path(__file__).parent.parent / "deploy" / "prometheus-rules.yml").read_text()
    wanted = set(re.findall(r"\btrade_monitor_[a-z_]+", rules))
    assert "trade_monitor_last_successful_poll_timestamp_seconds" in wanted
    assert "trade_monitor_outbox_depth" in wanted
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    with store.session() as s:
        s.add(SourceRow(name="a", url="http://127.0.0.1/x", consecutive_failures=1))
        s.add(AlertRow(key="f", kind="ops", route="ops", state="failed"))
    m = Metrics()
    m.add_store(store)
    exported = set(re.findall(r"^(trade_monitor_[a-z_]+)", generate_latest(m.registry).decode(), re.M))
    assert wanted <= exported, wanted - exported
    store.close()


def test_cli_commands_never_print_notify_secrets_even_at_debug(config_dir: Path, tmp_path: Path) -> None:
    """Apprise logs the URLs it loads and posts to at DEBUG; tokens in their paths must not show."""
    import subprocess
    import sys

    (config_dir / "notify.yaml").write_text(
        "version: 1\nurls:\n  - json://apiuser:S3CRETPW1@127.0.0.1:9/hooks/T0KENPATH2?token=ABCSECRET9\n"
    )
    db = f"sqlite:///{tmp_path / 'x.sqlite'}"
    for command in (["check-config"], ["notify", "test"], ["status", "--db", db]):
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "monitor.cli",
                "--log-level",
                "DEBUG",
                *command,
                "--config-dir",
                str(config_dir),
            ],
            capture_output=True,
            text=True,
        )
        output = run.stdout + run.stderr
        assert "127.0.0.1" in output or command[0] == "status"  # the command did run and talk about it
        for secret in ("S3CRETPW1", "T0KENPATH2", "ABCSECRET9"):
            assert secret not in output, (command, secret)
