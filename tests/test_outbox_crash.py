"""Exactly once under crashes: a worker producing and delivering alerts is SIGKILLed at random points.

The worker (tests/crash_worker.py) runs the real tracker, alerter and deliverer in a subprocess against a
SQLite file and a local json:// receiver. It is killed at least 20 times at random moments and restarted
each time, then allowed to finish. The receiver honours Idempotency-Key like a careful webhook consumer
and also records raw posts, so the test checks both guarantees the design makes:

- nothing is lost: every outbox alert reached every target of its route;
- nothing arrives twice at a receiver that honours the key; and a raw repeat POST (possible only when a
  kill fell between the receiver answering and the worker committing 'sent') always carries the same
  Idempotency-Key and the ``X-Trade-Monitor-Redelivery`` flag, and never outnumbers the kills.
"""

from __future__ import annotations

import os
import random
import select as select_fd
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlmodel import select

from monitor.config import load_config
from monitor.delivery import Deliverer, idempotency_key, target_hash
from monitor.store import AlertRow, StatusChangeRow, Store
from tests.receivers import JsonReceiver

WORKER = Path(__file__).with_name("crash_worker.py")
KILLS = 22
TOTAL_CHANGES = 150


def _setup(config_dir: Path, receiver: JsonReceiver) -> None:
    (config_dir / "notify.yaml").write_text(
        "version: 1\nurls:\n"
        f"  - {receiver.url('/team')}:\n      - tag: team\n"
        f"  - {receiver.url('/urgent')}:\n      - tag: urgent, ops\n"
    )
    (config_dir / "alerts.yaml").write_text(
        "version: 1\nroutes:\n"
        "  - name: urgent\n    match: {severities: [critical]}\n    tags: [urgent]\n"
        "  - name: team\n    tags: [team]\n"
    )


def _start(config_dir: Path, db_url: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    return subprocess.Popen(
        [sys.executable, str(WORKER), str(config_dir), db_url, str(TOTAL_CHANGES)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )


def _wait_line(proc: subprocess.Popen[str], want: str, timeout: float) -> bool:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select_fd.select([proc.stdout], [], [], 0.1)
        if ready:
            line = proc.stdout.readline()
            if not line:
                return False
            if line.strip() == want:
                return True
    return False


@pytest.mark.slow
def test_sigkill_at_random_points_loses_nothing_and_sends_nothing_twice(
    config_dir: Path, sqlite_url: str
) -> None:
    rng = random.Random(int(os.environ.get("CRASH_SEED", "4")))
    with JsonReceiver(honour_idempotency=True) as receiver:
        _setup(config_dir, receiver)
        kills_during_work = rounds = 0
        # Kill until 20 kills have landed while the worker was busy (a kill after it finished proves
        # nothing); bounded so a broken worker cannot loop forever.
        while kills_during_work < KILLS and rounds < 3 * KILLS:
            rounds += 1
            proc = _start(config_dir, sqlite_url)
            assert _wait_line(proc, "ready", 30), "worker did not start"
            time.sleep(rng.uniform(0.0, 0.3))
            if proc.poll() is None:
                kills_during_work += 1
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        proc = _start(config_dir, sqlite_url)
        try:
            assert _wait_line(proc, "done", 60), "worker did not finish the outbox after the kills"
        finally:
            proc.kill()
            proc.wait()

    assert kills_during_work >= 20
    config = load_config(config_dir)
    store = Store(sqlite_url)
    try:
        with store.session() as s:
            alerts = list(s.exec(select(AlertRow)).all())
            changes = list(s.exec(select(StatusChangeRow)).all())
        # The outbox is complete: every change has its team alert, and broken ones their urgent alert too.
        assert len(changes) == TOTAL_CHANGES
        expected_alerts = {f"change:{c.id}:team" for c in changes}
        expected_alerts |= {f"change:{c.id}:urgent" for c in changes if c.to_status == "broken"}
        assert {a.key for a in alerts if a.kind != "ops"} == expected_alerts
        assert all(a.state == "sent" for a in alerts), Counter(a.state for a in alerts)
        deliverer = Deliverer(store, config)
        expected_keys = Counter(
            idempotency_key(a.key, target_hash(t)) for a in alerts for t in deliverer.targets_for(a)
        )
    finally:
        store.close()

    accepted = Counter(p.key for p in receiver.accepted)
    assert accepted == expected_keys  # every alert at every target of its route, none twice
    raw = Counter(p.key for p in receiver.ok_posts)
    repeats = [p for p in receiver.ok_posts if p.duplicate]
    assert sum(raw.values()) - sum(accepted.values()) == len(repeats) <= rounds
    assert all(p.headers.get("x-trade-monitor-redelivery") == "1" for p in repeats)
    # How often the crash window was hit (shown with -s): receivers without idempotency would see these.
    print(f"\n{kills_during_work} kills, {sum(accepted.values())} deliveries, {len(repeats)} raw repeats")
