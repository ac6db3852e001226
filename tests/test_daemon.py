"""The daemon as a user runs it: a real process, a local feed, a local alert receiver, then SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import write_notify, write_sources
from tests.feedserver import FeedServer
from tests.receivers import JsonReceiver
from tests.test_pipeline import ANNOUNCE, IN_FORCE, rss


def _wait(predicate: object, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


def test_daemon_polls_alerts_and_stops_cleanly_on_sigterm(
    config_dir: Path, tmp_path: Path, json_sink: JsonReceiver
) -> None:
    with FeedServer() as server:
        server.set(
            "/notices.xml", body=rss([ANNOUNCE, IN_FORCE]), headers={"Content-Type": "application/rss+xml"}
        )
        write_sources(config_dir, [("Notices", server.url("/notices.xml"), True)])
        write_notify(config_dir, [json_sink.url()])
        log_path = tmp_path / "daemon.log"
        env = {**os.environ, "TRADE_MONITOR_DB": f"sqlite:///{tmp_path / 'd.sqlite'}"}
        with log_path.open("w") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "monitor.cli", "run", "--config-dir", str(config_dir), "--tick", "1"],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
            try:
                assert _wait(lambda: any("Fulfilled" in p.title for p in json_sink.posts)), (
                    log_path.read_text()
                )
                assert server.requests_for("/notices.xml"), "the daemon never fetched the feed"
                proc.send_signal(signal.SIGTERM)
                assert proc.wait(timeout=30) == 0
            finally:
                if proc.poll() is None:
                    proc.kill()
        text = log_path.read_text()
        assert "stopping" in text and "stopped" in text, text
        fulfilled = [p for p in json_sink.posts if "Fulfilled" in p.title]
        assert len(fulfilled) == 1
